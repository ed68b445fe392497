import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { Redis } from 'ioredis'

export const DATABASE_URL = process.env.TONGBAN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.TONGBAN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0'

/** A fresh name for a test's own PostgreSQL schema and Redis key prefix, so runs never collide. */
export function isolationName(label: string): string {
  return `t_${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`
}

/** Drops a test schema. */
export async function dropSchema(schema: string, url = DATABASE_URL): Promise<void> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await c.end()
  }
}

/** Deletes every Redis key under a test prefix. */
export async function dropRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true })
  try {
    await r.connect()
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await r.del(...keys)
    } while (cursor !== '0')
  } catch {
    // the server may be one the test killed
  } finally {
    r.disconnect()
  }
}
