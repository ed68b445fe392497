import type { Db, Tx } from './db.ts'
import type { Suite } from '../crypto/index.ts'

/** An accepted message as stored (its sealed body is read separately). */
export interface Exchange {
  readonly id: string
  readonly sender: string
  readonly messageId: string
  readonly type: string
  readonly v: number
  readonly caseId: string | null
  readonly unitCode: string | null
  readonly suite: Suite
  readonly requestDigest: string
  readonly receipt: string
  readonly receivedAt: Date
}

const COLUMNS = `id, sender, message_id AS "messageId", type, v, case_id AS "caseId", unit_code AS "unitCode",
  suite, request_digest AS "requestDigest", receipt, received_at AS "receivedAt"`

/** The exchange a sender already sent under `messageId`, if any. */
export async function findByMessageId(db: Db | Tx, sender: string, messageId: string): Promise<Exchange | undefined> {
  const r = await db.query<Exchange>(`SELECT ${COLUMNS} FROM exchanges WHERE sender = $1 AND message_id = $2`, [sender, messageId])
  return r.rows[0]
}

/** One exchange by id. */
export async function getExchange(db: Db | Tx, id: string): Promise<Exchange | undefined> {
  const r = await db.query<Exchange>(`SELECT ${COLUMNS} FROM exchanges WHERE id = $1`, [id])
  return r.rows[0]
}

/** The sealed sender's message of an exchange (null once purged: retention.purgeAfterDays). */
export async function getSealedMessage(db: Db | Tx, id: string): Promise<Buffer | null | undefined> {
  const r = await db.query<{ m: Buffer }>('SELECT message_sealed AS m FROM exchanges WHERE id = $1', [id])
  return r.rows[0]?.m
}
