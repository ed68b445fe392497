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

/** The columns of an Exchange and the fields they are read into. */
const FIELDS: ReadonlyArray<readonly [column: string, field: keyof Exchange]> = [
  ['id', 'id'], ['sender', 'sender'], ['message_id', 'messageId'], ['type', 'type'], ['v', 'v'], ['case_id', 'caseId'], ['unit_code', 'unitCode'],
  ['suite', 'suite'], ['request_digest', 'requestDigest'], ['receipt', 'receipt'], ['received_at', 'receivedAt'],
]

const COLUMNS = FIELDS.map(([c, f]) => (c === f ? c : `${c} AS "${f}"`)).join(', ')

/** The Exchange in a row whose columns are its fields, each named `prefix` + the field (tongban_start_attempt's "x.…"); undefined when the row has none (an outer join's miss). */
export function exchangeFromRow(row: Record<string, unknown>, prefix: string): Exchange | undefined {
  if (row[`${prefix}id`] == null) return undefined
  return Object.fromEntries(FIELDS.map(([, f]) => [f, row[`${prefix}${f}`]])) as unknown as Exchange
}

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
  // Bounds as parameters, not an expression of one: PostgreSQL then plans that month only.
  return receivedAt === undefined ? ['id = $1', [id]] : ['id = $1 AND received_at >= $2 AND received_at < $3', [id, receivedAt, new Date(receivedAt.getTime() + 1)]]
}

/** One exchange by id (`receivedAt`, when known, spares the other months' partitions). */
export async function getExchange(db: Db | Tx, id: string, receivedAt?: Date): Promise<Exchange | undefined> {
  const [where, params] = byId(id, receivedAt)
  const r = await db.query<Exchange>(`SELECT ${COLUMNS} FROM exchanges WHERE ${where}`, params)
  return r.rows[0]
}
