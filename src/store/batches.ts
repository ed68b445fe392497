import type { Db } from './db.ts'

/** A batch id as claimed (migrations/0015): its bytes' digest, and its receipt once it has one. */
export type BatchClaim =
  | { readonly state: 'claimed' }
  | { readonly state: 'taken'; readonly requestDigest: string; readonly suite: string; readonly receipt: string | null }

/** Claims a sender's batch id for these bytes; when it is already claimed, what holds it. */
export async function claimBatch(db: Db, b: { sender: string; batchId: string; requestDigest: string; suite: string; messages: number; receivedAt: Date }, tries = 3): Promise<BatchClaim> {
  const r = await db.query(
    `INSERT INTO batches (sender, batch_id, request_digest, suite, messages, received_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sender, batch_id) DO NOTHING`,
    [b.sender, b.batchId, b.requestDigest, b.suite, b.messages, b.receivedAt],
  )
  if ((r.rowCount ?? 0) > 0) return { state: 'claimed' }
  const held = (await db.query<{ requestDigest: string; suite: string; receipt: string | null }>(
    `SELECT request_digest AS "requestDigest", suite, receipt FROM batches WHERE sender = $1 AND batch_id = $2`, [b.sender, b.batchId],
  )).rows[0]
  // Released meanwhile (a refused first attempt): claim it again.
  if (held === undefined) {
    if (tries <= 1) throw new Error('the batch id was claimed and released again and again')
    return claimBatch(db, b, tries - 1)
  }
  return { state: 'taken', ...held }
}

/** Gives up a claim that accepted nothing (its batch was refused whole). */
export async function releaseBatch(db: Db, sender: string, batchId: string): Promise<void> {
  await db.query(`DELETE FROM batches WHERE sender = $1 AND batch_id = $2 AND receipt IS NULL`, [sender, batchId])
}

/** Stores the batch's receipt unless one is stored already; returns the receipt that stands. */
export async function completeBatch(db: Db, sender: string, batchId: string, receipt: string): Promise<string> {
  const r = await db.query<{ receipt: string }>(
    `UPDATE batches SET receipt = COALESCE(receipt, $3) WHERE sender = $1 AND batch_id = $2 RETURNING receipt`, [sender, batchId, receipt],
  )
  return r.rows[0]?.receipt ?? receipt
}
