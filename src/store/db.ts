import pg from 'pg'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'

export type Db = pg.Pool
export type Tx = pg.PoolClient

/**
 * An INSERT written with a fact in the fact's own statement, once per row the fact changed (none:
 * not written): its SQL from its first parameter's number and the fact's relation, and its parameters.
 */
export interface SideInsert {
  readonly sql: (first: number, from: string) => string
  readonly params: readonly unknown[]
}

/** Opens a pool whose sessions use `schema` (each test run uses its own). */
export function openDb(url: string, schema: string, max = 10): Db {
  const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema}` })
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  return pool
}

const names = new Map<string, string>()

/**
 * A query each connection parses once and PostgreSQL may plan once (node-postgres's named
 * statement), named after its text. For the statements run per message: planning one over the
 * partitioned tables costs more than running it.
 */
export function prepared(text: string, values: readonly unknown[]): pg.QueryConfig {
  let name = names.get(text)
  if (name === undefined) {
    name = `tb-${createHash('sha256').update(text).digest('hex').slice(0, 24)}`
    names.set(text, name)
  }
  return { name, text, values: [...values] }
}

/** Runs `fn` in a transaction: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await db.connect()
  // A connection held out of the pool has no listener but ours: without it, PostgreSQL going away
  // mid-transaction is an unhandled 'error' event that ends the process. The query in progress
  // fails on its own (503 upstream); a broken connection is destroyed, not returned to the pool.
  let broken: Error | undefined
  const onError = (err: Error): void => { broken = err }
  client.on('error', onError)
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.off('error', onError)
    client.release(broken)
  }
}

const MIGRATIONS = new URL('./migrations/', import.meta.url)

/**
 * Applies the versioned SQL migrations not yet applied, under an advisory lock (safe with many
 * instances); `through` stops after the migration of that number (a test of the next one's data move).
 */
export async function migrate(db: Db, schema: string, through?: string): Promise<string[]> {
  const files = readdirSync(MIGRATIONS).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort().filter((f) => through === undefined || f.slice(0, 4) <= through)
  const client = await db.connect()
  const applied: string[] = []
  let broken: Error | undefined
  const onError = (err: Error): void => { broken = err }
  client.on('error', onError)
  try {
    // Key derived from the schema name, so parallel test schemas do not wait on each other.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`tongban-migrate:${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Set((await client.query<{ version: string }>(`SELECT version FROM "${schema}".schema_migrations`)).rows.map((r) => r.version))
    for (const file of files) {
      if (done.has(file)) continue
      const sql = readFileSync(new URL(file, MIGRATIONS), 'utf8')
      await client.query('BEGIN')
      try {
        await client.query(`SET LOCAL search_path TO "${schema}"`)
        await client.query(sql)
        await client.query(`INSERT INTO "${schema}".schema_migrations (version) VALUES ($1)`, [file])
        await client.query('COMMIT')
        applied.push(file)
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err })
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`tongban-migrate:${schema}`]).catch(() => {})
    client.off('error', onError)
    client.release(broken)
  }
  return applied
}

/** True when PostgreSQL answers. */
export async function dbReady(db: Db): Promise<boolean> {
  try {
    await db.query('SELECT 1')
    return true
  } catch {
    return false
  }
}

