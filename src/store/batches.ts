import type { Db } from './db.ts'

/** A batch receipt as stored (migrations/0016). */
export interface StoredBatch {
  readonly requestDigest: string
  readonly suite: string
  readonly receipt: string
}

/** The batch a sender sent under this id, if any. */
export async function findBatch(db: Db, sender: string, batchId: string): Promise<StoredBatch | undefined> {
  return (await db.query<StoredBatch>(
    `SELECT request_digest AS "requestDigest", suite, receipt FROM batches WHERE sender = $1 AND batch_id = $2`, [sender, batchId],
  )).rows[0]
}

/** Keeps a batch receipt; false when a concurrent attempt stored this batch id first. */
export async function storeBatch(db: Db, b: { sender: string; batchId: string; requestDigest: string; suite: string; receipt: string; messages: number; receivedAt: Date }): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO batches (sender, batch_id, request_digest, suite, receipt, messages, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sender, batch_id) DO NOTHING`,
    [b.sender, b.batchId, b.requestDigest, b.suite, b.receipt, b.messages, b.receivedAt],
  )
  return (r.rowCount ?? 0) > 0
}
