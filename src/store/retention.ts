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
    const r = await tx.query(
      `UPDATE exchanges e SET message_sealed = NULL, purged_at = $2 WHERE e.id = ANY($3::uuid[]) AND e.purged_at IS NULL AND ${settled}`,
      [settledBefore, now, candidates],
    )
    return r.rowCount ?? 0
  })
}

/** Locks an exchange against the purge for the caller's transaction; false when its body is already purged (or it does not exist). */
export async function lockUnpurged(tx: Tx, exchangeId: string): Promise<boolean> {
  return (await tx.query(`SELECT 1 FROM exchanges WHERE id = $1 AND purged_at IS NULL FOR SHARE`, [exchangeId])).rowCount === 1
}
