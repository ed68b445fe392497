import type { ConnectionOptions } from 'bullmq'

/** ioredis options for BullMQ from a redis:// URL (BullMQ opens its own connections). */
export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url)
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0
  return {
    host: u.hostname,
    port: u.port === '' ? 6379 : Number(u.port),
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
  }
}
