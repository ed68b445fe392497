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

/**
 * `WHERE` of one exchange by id, and its acceptance time when known (a delivery's `createdAt` is
 * its exchange's `receivedAt`): PostgreSQL then reads that month's partition only.
 */
function byId(id: string, receivedAt: Date | undefined): [string, unknown[]] {
  // (Within the millisecond a JavaScript Date carries, should a stored time ever hold microseconds.)
  return receivedAt === undefined ? ['id = $1', [id]] : [`id = $1 AND received_at >= $2::timestamptz AND received_at < $2::timestamptz + interval '1 millisecond'`, [id, receivedAt]]
}

/** One exchange by id (`receivedAt`, when known, spares the other months' partitions). */
export async function getExchange(db: Db | Tx, id: string, receivedAt?: Date): Promise<Exchange | undefined> {
  const [where, params] = byId(id, receivedAt)
  const r = await db.query<Exchange>(`SELECT ${COLUMNS} FROM exchanges WHERE ${where}`, params)
  return r.rows[0]
}

/** One exchange and its sealed message in one read (a delivery needs both); the message is null once purged. */
export async function getExchangeWithMessage(db: Db | Tx, id: string, receivedAt?: Date): Promise<{ exchange: Exchange; sealed: Buffer | null } | undefined> {
  const [where, params] = byId(id, receivedAt)
  const r = await db.query<Exchange & { sealed: Buffer | null }>(`SELECT ${COLUMNS}, message_sealed AS sealed FROM exchanges WHERE ${where}`, params)
  const row = r.rows[0]
  if (row === undefined) return undefined
  const { sealed, ...exchange } = row
  return { exchange, sealed }
}
