import { queueUnnamed } from './attachments.ts'
import { inTransaction, type Db, type Tx } from './db.ts'

/**
 * Purges the sealed bodies of exchanges whose every delivery settled (delivered or dead) before
 * `settledBefore`, or that had no delivery and arrived before it: at most `limit` of them, oldest
 * first. Exchanges another instance is purging (row locked) are skipped, so every instance may run it.
 * The candidates are locked first and checked again in a second statement, which sees an operator's
 * replay committed in between (a replay locks the exchange too: see lockUnpurged); a pending delivery
 * never loses its body. Returns how many bodies were purged.
 */
export async function purgeSettledBodies(db: Db, settledBefore: Date, now: Date, limit: number): Promise<number> {
  return inTransaction(db, async (tx) => {
    const settled = `NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.exchange_id = e.id
                       AND (d.status = 'pending' OR COALESCE(d.delivered_at, d.dead_at) >= $1))`
    const candidates = (await tx.query<{ id: string }>(
      `SELECT e.id FROM exchanges e WHERE e.purged_at IS NULL AND e.received_at < $1 AND ${settled}
        ORDER BY e.received_at LIMIT $2 FOR UPDATE OF e SKIP LOCKED`,
      [settledBefore, limit],
    )).rows.map((r) => r.id)
    if (candidates.length === 0) return 0
    // The attachments they name are no longer theirs to read (purgeAttachments removes the files).
    const r = await tx.query<{ n: number }>(
      `WITH purged AS (UPDATE exchanges e SET message_sealed = NULL, purged_at = $2 WHERE e.id = ANY($3::uuid[]) AND e.purged_at IS NULL AND ${settled} RETURNING e.id),
            unlinked AS (DELETE FROM exchange_attachments x WHERE x.exchange_id IN (SELECT id FROM purged) RETURNING attachment_id),
            queued AS (${queueUnnamed('unlinked', '$2')})
       SELECT count(*)::int AS n FROM purged`,
      [settledBefore, now, candidates],
    )
    return r.rows[0]?.n ?? 0
  })
}

/** Locks an exchange against the purge for the caller's transaction; false when its body is already purged (or it does not exist). */
export async function lockUnpurged(tx: Tx, exchangeId: string): Promise<boolean> {
  return (await tx.query(`SELECT 1 FROM exchanges WHERE id = $1 AND purged_at IS NULL FOR SHARE`, [exchangeId])).rowCount === 1
}

/** The tables partitioned by month (migration 0012). */
export const MONTHLY_TABLES = ['exchanges', 'deliveries', 'case_events'] as const

/** `YYYY_MM` of the UTC month of `at`. */
export function monthKey(at: Date): string {
  return `${at.getUTCFullYear()}_${String(at.getUTCMonth() + 1).padStart(2, '0')}`
}

/**
 * One short transaction holding the schema's partition lock (one instance at a time makes or drops
 * months), waiting at most 5 s for table locks. Each touches one partitioned table (and, for the
 * timeline, first the cases its foreign key points at), in the order an acceptance locks them, so
 * it cannot close a deadlock cycle with one.
 */
async function underPartitionLock<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(db, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tongban-partitions:' || current_schema()))`)
    await tx.query(`SET LOCAL lock_timeout = '5s'`)
    return fn(tx)
  })
}

const exists = async (tx: Tx, name: string): Promise<boolean> =>
  (await tx.query<{ e: boolean }>(`SELECT to_regclass(format('%I.%I', current_schema(), $1::text)) IS NOT NULL AS e`, [name])).rows[0]?.e === true

/** Makes the partitions of the months of `months` that do not exist yet (moving their rows out of the default partitions); returns the partitions made. */
export async function ensureMonths(db: Db, months: readonly Date[]): Promise<string[]> {
  const made: string[] = []
  for (const m of months) {
    for (const table of MONTHLY_TABLES) {
      const r = await underPartitionLock(db, (tx) => tx.query<{ made: boolean }>('SELECT tongban_ensure_month($1, $2::date) AS made', [table, `${monthKey(m).replace('_', '-')}-01`]))
      if (r.rows[0]?.made === true) made.push(`${table}_p${monthKey(m)}`)
    }
  }
  return made
}

/** The months that have partitions, oldest first (`YYYY_MM`). */
export async function listMonths(db: Db | Tx): Promise<string[]> {
  const r = await db.query<{ m: string }>(
    `SELECT DISTINCT substring(c.relname from '_p([0-9]{4}_[0-9]{2})$') AS m
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relnamespace = current_schema()::regnamespace AND p.relname = ANY($1::text[]) AND c.relname ~ '_p[0-9]{4}_[0-9]{2}$'
      ORDER BY 1`,
    [[...MONTHLY_TABLES]],
  )
  return r.rows.map((x) => x.m)
}

/**
 * Drops the month `YYYY_MM` whole: its deliveries, timeline rows, message ids and exchanges, one
 * table per transaction (a round cut short is finished by the next). Refused ('pending') while a
 * delivery of that month is pending: the deliveries table is locked while that is checked and the
 * month dropped, so no replay can revive one in between.
 */
export async function dropMonth(db: Db, month: string): Promise<'dropped' | 'pending'> {
  if (!/^\d{4}_\d{2}$/.test(month)) throw new Error(`not a month: ${month}`)
  const lo = new Date(`${month.replace('_', '-')}-01T00:00:00Z`)
  const hi = new Date(Date.UTC(lo.getUTCFullYear(), lo.getUTCMonth() + 1, 1))
  const deliveries = await underPartitionLock(db, async (tx) => {
    if (!(await exists(tx, `deliveries_p${month}`))) return 'dropped' as const
    await tx.query('LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE')
    const pending = await tx.query(`SELECT 1 FROM "deliveries_p${month}" WHERE status = 'pending' LIMIT 1`)
    if (pending.rowCount === 1) return 'pending' as const
    await tx.query(`DROP TABLE "deliveries_p${month}"`)
    return 'dropped' as const
  })
  if (deliveries === 'pending') return 'pending'
  await underPartitionLock(db, async (tx) => {
    if (!(await exists(tx, `case_events_p${month}`))) return
    // Its foreign key to cases goes with it: cases first, in an acceptance's order (migration 0013).
    await tx.query('LOCK TABLE cases IN SHARE ROW EXCLUSIVE MODE')
    await tx.query(`DROP TABLE "case_events_p${month}"`)
  })
  await underPartitionLock(db, async (tx) => {
    await tx.query('DELETE FROM exchange_keys WHERE received_at >= $1 AND received_at < $2', [lo, hi])
    // A batch's receipt goes with its month: the same bytes after that are refused by their iat.
    await tx.query('DELETE FROM batches WHERE received_at >= $1 AND received_at < $2', [lo, hi])
    await tx.query(`WITH unlinked AS (DELETE FROM exchange_attachments WHERE received_at >= $1 AND received_at < $2 RETURNING attachment_id) ${queueUnnamed('unlinked', 'now()')}`, [lo, hi])
    if (await exists(tx, `exchanges_p${month}`)) await tx.query(`DROP TABLE "exchanges_p${month}"`)
  })
  return 'dropped'
}
