import type { Db, Tx } from '../../src/store/db.ts'

/**
 * Runs `read` on one connection of `db` in a transaction (rolled back) and says what it returned
 * and how many rows and index entries it read in `schema`: PostgreSQL's per-transaction counts of
 * tuples returned by every table and index (`pg_stat_get_xact_tuples_returned`), read before and
 * after (the backend keeps them until it reports them, so only the difference is this read's).
 * A read whose count grows with a table's size scans it.
 */
export async function rowsRead<T>(db: Db, schema: string, read: (db: Db & Tx) => Promise<T>): Promise<{ value: T; read: number }> {
  const client = await db.connect()
  const count = async (): Promise<number> => Number((await client.query<{ n: string }>(
    `SELECT sum(pg_stat_get_xact_tuples_returned(oid)) AS n FROM pg_class WHERE relnamespace = $1::regnamespace`, [schema])).rows[0]?.n)
  try {
    await client.query('BEGIN')
    const before = await count()
    // (A connection: functions of the pool's type run on it too, one query at a time.)
    const value = await read(client as Db & Tx)
    const after = await count()
    await client.query('ROLLBACK')
    return { value, read: after - before }
  } finally {
    client.release()
  }
}
