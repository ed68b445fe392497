import type { Db } from './db.ts'

/** An attachment as stored (migrations/0016). */
export interface StoredAttachment {
  readonly id: string
  readonly owner: string
  readonly status: 'uploading' | 'complete'
  readonly mediaType: string
  readonly digestAlg: 'SM3' | 'SHA-256'
  readonly digest: string
  readonly size: number
  readonly records: number
}

const COLUMNS = `id, owner, status, media_type AS "mediaType", digest_alg AS "digestAlg", digest, size::float8 AS size, records`

/** Starts an upload: the attachment row, 'uploading', with what its key header declares. */
export async function beginUpload(db: Db, a: { id: string; owner: string; mediaType: string; digestAlg: string; digest: string; size: number; at: Date }): Promise<void> {
  await db.query(
    `INSERT INTO attachments (id, owner, status, media_type, digest_alg, digest, size, created_at) VALUES ($1, $2, 'uploading', $3, $4, $5, $6, $7)`,
    [a.id, a.owner, a.mediaType, a.digestAlg, a.digest, a.size, a.at],
  )
}

/** Stores one sealed record of an upload. */
export async function putRecord(db: Db, id: string, seq: number, sealed: Buffer): Promise<void> {
  await db.query(`INSERT INTO attachment_records (attachment_id, seq, sealed) VALUES ($1, $2, $3)`, [id, seq, sealed])
}

/** Marks an upload complete with its number of records. */
export async function completeUpload(db: Db, id: string, records: number, at: Date): Promise<void> {
  await db.query(`UPDATE attachments SET status = 'complete', records = $2, completed_at = $3 WHERE id = $1 AND status = 'uploading'`, [id, records, at])
}

/** Removes an upload and its records (refused, or cut off). */
export async function discardUpload(db: Db, id: string): Promise<void> {
  await db.query(`DELETE FROM attachments WHERE id = $1 AND status = 'uploading'`, [id])
}

/** The attachments of these ids (in any state). */
export async function getAttachments(db: Db, ids: readonly string[]): Promise<StoredAttachment[]> {
  if (ids.length === 0) return []
  return (await db.query<StoredAttachment>(`SELECT ${COLUMNS} FROM attachments WHERE id = ANY($1::uuid[])`, [ids])).rows
}

/**
 * The complete attachment `id` when `reader` may read it: its uploader, or a recipient of a
 * message that names it (a delivery to the reader of an exchange linked to it).
 */
export async function readableAttachment(db: Db, id: string, reader: string): Promise<StoredAttachment | undefined> {
  return (await db.query<StoredAttachment>(
    `SELECT ${COLUMNS} FROM attachments a WHERE a.id = $1 AND a.status = 'complete'
        AND (a.owner = $2 OR EXISTS (SELECT 1 FROM exchange_attachments x JOIN deliveries d ON d.exchange_id = x.exchange_id
                                      WHERE x.attachment_id = a.id AND d.recipient = $2))`,
    [id, reader],
  )).rows[0]
}

/** One sealed record, or undefined when it is gone (purged meanwhile). */
export async function getRecord(db: Db, id: string, seq: number): Promise<Buffer | undefined> {
  return (await db.query<{ sealed: Buffer }>(`SELECT sealed FROM attachment_records WHERE attachment_id = $1 AND seq = $2`, [id, seq])).rows[0]?.sealed
}

/**
 * Deletes attachments no message names any more (or never named), and uploads never finished,
 * created before `before`; at most `limit` of them. Returns how many.
 * An acceptance that names one meanwhile either commits first (the attachment stays) or fails on
 * its foreign key (TB_ERR_ATTACHMENT_UNKNOWN), never a message naming a file that is gone.
 */
export async function purgeAttachments(db: Db, before: Date, limit: number): Promise<number> {
  const r = await db.query(
    `DELETE FROM attachments WHERE id IN (
       SELECT a.id FROM attachments a
        WHERE a.created_at < $1 AND NOT EXISTS (SELECT 1 FROM exchange_attachments x WHERE x.attachment_id = a.id)
        ORDER BY a.created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       AND NOT EXISTS (SELECT 1 FROM exchange_attachments x WHERE x.attachment_id = attachments.id)`,
    [before, limit],
  )
  return r.rowCount ?? 0
}
