import { inTransaction, type Db, type Tx } from './db.ts'

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
 * created before `before`; at most `limit` examined (`more`: call again). Each attachment is
 * examined once as it comes of age, past the purge's mark, and again once a message stops naming
 * it (attachments_unnamed, migration 0023); never every old one still named.
 * An acceptance that names one meanwhile either commits first (the attachment stays) or fails on
 * its foreign key (TB_ERR_ATTACHMENT_UNKNOWN), never a message naming a file that is gone.
 */
export async function purgeAttachments(db: Db, before: Date, limit: number): Promise<{ purged: number; more: boolean }> {
  return inTransaction(db, (tx) => purgeAttachmentsIn(tx, before, limit))
}

/** purgeAttachments in the caller's transaction. */
export async function purgeAttachmentsIn(tx: Tx, before: Date, limit: number): Promise<{ purged: number; more: boolean }> {
  const unnamed = 'NOT EXISTS (SELECT 1 FROM exchange_attachments x WHERE x.attachment_id = a.id)'
  // Those come of age past the mark, in order (its index); the mark moves to the last one
  // examined. Each batch is deleted by its ids (`= ANY`): by the key, whatever the planner
  // thinks of its size.
  const mark = (await tx.query<{ at: Date; id: string }>('SELECT created_at AS at, id FROM attachment_purge_mark FOR UPDATE')).rows[0]
  if (mark === undefined) throw new Error('attachment_purge_mark has no row (migration 0023)')
  const aged = (await tx.query<{ examined: number; purged: number }>(
    `WITH batch AS (SELECT a.id, a.created_at FROM attachments a
                     WHERE (a.created_at, a.id) > ($1::timestamptz, $2::uuid) AND a.created_at < $3
                     ORDER BY a.created_at, a.id LIMIT $4),
          gone AS (DELETE FROM attachments a WHERE a.id = ANY(ARRAY(SELECT id FROM batch)) AND ${unnamed} RETURNING a.id),
          last AS (SELECT created_at, id FROM batch ORDER BY created_at DESC, id DESC LIMIT 1),
          moved AS (UPDATE attachment_purge_mark p SET created_at = last.created_at, id = last.id FROM last)
     SELECT (SELECT count(*) FROM batch)::int AS examined, (SELECT count(*) FROM gone)::int AS purged`,
    [mark.at, mark.id, before, limit],
  )).rows[0]
  // Those no message names any more: deleted if behind the mark (those past it are examined as they come of age).
  const freed = (await tx.query<{ examined: number; purged: number }>(
    `WITH mark AS (SELECT created_at, id FROM attachment_purge_mark),
          batch AS (DELETE FROM attachments_unnamed WHERE attachment_id IN (SELECT attachment_id FROM attachments_unnamed LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING attachment_id),
          gone AS (DELETE FROM attachments a USING mark m WHERE a.id = ANY(ARRAY(SELECT attachment_id FROM batch))
                     AND (a.created_at, a.id) <= (m.created_at, m.id) AND ${unnamed} RETURNING a.id)
     SELECT (SELECT count(*) FROM batch)::int AS examined, (SELECT count(*) FROM gone)::int AS purged`,
    [limit],
  )).rows[0]
  return { purged: (aged?.purged ?? 0) + (freed?.purged ?? 0), more: aged?.examined === limit || freed?.examined === limit }
}

/** Keeps, for the attachment purge, the attachments `unlinked` named (an exchange_attachments DELETE … RETURNING attachment_id, in a WITH). */
export function queueUnnamed(unlinked: string, at: string): string {
  return `INSERT INTO attachments_unnamed (attachment_id, at) SELECT DISTINCT attachment_id, ${at}::timestamptz FROM ${unlinked} ON CONFLICT (attachment_id) DO NOTHING`
}
