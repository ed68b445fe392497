import type { ConnectionOptions } from 'bullmq'
import type { RedisOptions } from 'ioredis'
import type { Config } from '../config/index.ts'

type RedisConfig = Pick<Config, 'redisUrl' | 'redisSentinels' | 'redisSentinelName'>

/**
 * The ioredis options for the configured Redis: from the redis:// URL, or, with Sentinels
 * configured, the master they name (the URL then gives only the database, credentials and TLS).
 * Every connection of the gateway (its commands, BullMQ's queues and workers) is made from these,
 * so a Sentinel failover moves them all to the new master.
 */
export function redisOptions(config: RedisConfig): RedisOptions {
  const u = new URL(config.redisUrl)
  const common: RedisOptions = {
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
  }
  if (config.redisSentinels.length === 0) return { ...common, host: u.hostname, port: u.port === '' ? 6379 : Number(u.port) }
  return {
    ...common,
    name: config.redisSentinelName,
    sentinels: config.redisSentinels.map((s) => {
      const i = s.lastIndexOf(':')
      return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }
    }),
    sentinelRetryStrategy: (times: number) => Math.min(times * 200, 2_000),
  }
}

/** Where a log line or an error may say Redis is (no credentials). */
export function redisWhere(config: RedisConfig): string {
  if (config.redisSentinels.length > 0) return `Sentinel master ${config.redisSentinelName} (${config.redisSentinels.join(', ')})`
  const u = new URL(config.redisUrl)
  return `${u.protocol}//${u.host}${u.pathname}`
}

/** The same options, typed as BullMQ's (its own declaration of ioredis's options). */
export function redisConnection(config: RedisConfig): ConnectionOptions {
  return redisOptions(config) as ConnectionOptions
}
