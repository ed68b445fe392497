import { prepared, type Db, type SideInsert, type Tx } from './db.ts'
import { eventSide, type NewEvent } from './cases.ts'
import { exchangeFromRow, type Exchange } from './exchanges.ts'
import { entrySide, withEntry, type LedgerRecord } from './ledger.ts'

export type DeliveryStatus = 'pending' | 'delivered' | 'dead'

/** One recipient's copy of an exchange, and where it stands. */
export interface Delivery {
  readonly id: string
  readonly exchangeId: string
  readonly recipient: string
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly lastError: string | null
  readonly createdAt: Date
  readonly ageFrom: Date
  readonly updatedAt: Date
  readonly deliveredAt: Date | null
  readonly deadAt: Date | null
}

const COLUMNS = `id, exchange_id AS "exchangeId", recipient, status, attempts, last_error AS "lastError",
  created_at AS "createdAt", age_from AS "ageFrom", updated_at AS "updatedAt", delivered_at AS "deliveredAt", dead_at AS "deadAt"`

/** One delivery by id. */
export async function getDelivery(db: Db | Tx, id: string): Promise<Delivery | undefined> {
  return (await db.query<Delivery>(`SELECT ${COLUMNS} FROM deliveries WHERE id = $1`, [id])).rows[0]
}

/** The deliveries of an exchange. */
export async function listForExchange(db: Db | Tx, exchangeId: string): Promise<Delivery[]> {
  return (await db.query<Delivery>(`SELECT ${COLUMNS} FROM deliveries WHERE exchange_id = $1 ORDER BY recipient`, [exchangeId])).rows
}

/**
 * `AND created_at …` when the delivery's creation time is known: PostgreSQL then plans that
 * month's partition only. The bounds are parameters, not an expression of one: a stable
 * expression (timestamptz + interval) is pruned only when the plan starts, after every partition
 * was planned (1 ms of planning per statement, measured). (Within the millisecond a JavaScript
 * Date carries, should a stored time ever hold microseconds.)
 */
const inMonth = (n: number, createdAt: Date | undefined, column = 'created_at'): string =>
  (createdAt === undefined ? '' : ` AND ${column} >= $${n} AND ${column} < $${n + 1}`)
const monthParam = (createdAt: Date | undefined): unknown[] => (createdAt === undefined ? [] : [createdAt, new Date(createdAt.getTime() + 1)])

/** What a settlement writes with it, in its statement: its ledger entry, its timeline event; `createdAt` spares the other months' partitions. */
export interface Settle {
  readonly entry?: LedgerRecord | undefined
  readonly event?: NewEvent | undefined
  readonly createdAt?: Date | undefined
}

/** A delivery whose attempt has begun, with its exchange and sealed message (null once purged). */
export interface Attempt {
  readonly delivery: Delivery
  readonly exchange: Exchange | undefined
  readonly sealed: Buffer | null
}

/**
 * Counts an attempt on a delivery that is pending and whose age counts from `ageFrom` or later
 * (not expired), and returns it with its exchange and sealed message: one statement. Undefined
 * when it is not pending, is expired, or is not of `createdAt` (getDelivery tells which).
 *
 * Its commit does not wait for the disk (`synchronous_commit` off for this transaction only,
 * hence a pool, never a caller's transaction): the count is written within PostgreSQL's WAL
 * writer delay, and before any later synchronous commit such as the settlement. A PostgreSQL
 * crash can lose the count of the attempts of that last fraction of a second, never a delivery:
 * they stay pending and are attempted again (configuration.md, "After a crash").
 *
 * The statement is a function planned once per connection (migration 0017): sent as it is,
 * PostgreSQL planned it again on every execution. With `createdAt` it reads that month's
 * partitions only; without (a job from an older gateway), every month. It reads the exchange by
 * its whole primary key, after the update (migration 0018): a plan cached while the tables were
 * nearly empty must not read the whole month's exchanges on every attempt after.
 */
export async function startAttempt(db: Db, id: string, now: Date, ageFrom: Date, createdAt?: Date): Promise<Attempt | undefined> {
  const months = createdAt === undefined ? ['-infinity', 'infinity'] : monthParam(createdAt)
  const row = (await db.query<Delivery & Record<string, unknown>>(prepared(
    `SELECT a.*, set_config('synchronous_commit', 'off', true) AS "x.commit" FROM tongban_start_attempt($1, $2, $3, $4, $5) a`,
    [id, now, ageFrom, ...months],
  ))).rows[0]
  if (row === undefined) return undefined
  const delivery = Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith('x.'))) as unknown as Delivery
  return { delivery, exchange: exchangeFromRow(row, 'x.'), sealed: (row['x.sealed'] as Buffer | null | undefined) ?? null }
}

const settle = (s: Settle): [LedgerRecord | undefined, SideInsert[]] => [s.entry, s.event === undefined ? [] : [eventSide(s.event)]]

/** Pending → delivered, with its ledger entry (delivery.settled) and timeline event in the same statement; false if it was not pending (already delivered, dead). */
export async function markDelivered(db: Db | Tx, id: string, now: Date, s: Settle = {}): Promise<boolean> {
  const rows = await withEntry(db,
    `UPDATE deliveries SET status = 'delivered', delivered_at = $2, updated_at = $2, last_error = NULL WHERE id = $1 AND status = 'pending'${inMonth(3, s.createdAt)} RETURNING id`,
    [id, now, ...monthParam(s.createdAt)], ...settle(s))
  return rows.length === 1
}

/** Records why an attempt failed (a code, never a partner's body), with its timeline event in the same statement. */
export async function recordFailure(db: Db | Tx, id: string, error: string, now: Date, s: Omit<Settle, 'entry'> = {}): Promise<void> {
  await withEntry(db,
    `UPDATE deliveries SET last_error = $2, updated_at = $3 WHERE id = $1 AND status = 'pending'${inMonth(4, s.createdAt)} RETURNING id`,
    [id, error, now, ...monthParam(s.createdAt)], ...settle(s))
}

/** Pending → dead, with its ledger entry (delivery.settled) and timeline event in the same statement; false if it was not pending. */
export async function markDead(db: Db | Tx, id: string, error: string, now: Date, s: Settle = {}): Promise<boolean> {
  const rows = await withEntry(db,
    `UPDATE deliveries SET status = 'dead', dead_at = $3, updated_at = $3, last_error = $2 WHERE id = $1 AND status = 'pending'${inMonth(4, s.createdAt)} RETURNING id`,
    [id, error, now, ...monthParam(s.createdAt)], ...settle(s))
  return rows.length === 1
}

/**
 * Dead → pending with a fresh attempt budget (operator replay), with its ledger entries in the
 * same statement (the settlement 'replayed' and the operator's action); undefined if it was not dead.
 */
export async function reviveForReplay(db: Db | Tx, id: string, now: Date, entries: readonly LedgerRecord[] = []): Promise<Delivery | undefined> {
  const revive = `UPDATE deliveries SET status = 'pending', attempts = 0, dead_at = NULL, last_error = NULL, age_from = $2, updated_at = $2 WHERE id = $1 AND status = 'dead' RETURNING ${COLUMNS}`
  return (await withEntry<Delivery & Record<string, unknown>>(db, revive, [id, now], undefined, entries.map(entrySide)))[0]
}

/** Pending deliveries not touched since `before` (candidates for the sweeper). */
export async function listStalePending(db: Db | Tx, before: Date, limit: number): Promise<Array<{ id: string; recipient: string; createdAt: Date }>> {
  return (await db.query<{ id: string; recipient: string; createdAt: Date }>(
    `SELECT id, recipient, created_at AS "createdAt" FROM deliveries WHERE status = 'pending' AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
    [before, limit],
  )).rows
}

/**
 * Writes "waiting: partner unavailable" (`delivery.waiting`) into the timeline of every case with
 * a delivery pending to `recipient` that has not said so since `since` (the circuit's opening):
 * one statement, however many deliveries wait. Returns how many timelines it wrote to.
 */
export async function markWaiting(db: Db | Tx, recipient: string, since: Date, at: Date, retryAt: Date): Promise<number> {
  const detail = JSON.stringify({ recipient, waiting: 'partner unavailable', probeAt: retryAt.toISOString() })
  const r = await db.query(
    `INSERT INTO case_events (case_id, at, event, actor, exchange_id, delivery_id, detail)
     SELECT e.case_id, $3, 'delivery.waiting', NULL, e.id, d.id, $4::jsonb
       FROM deliveries d JOIN exchanges e ON e.id = d.exchange_id
      WHERE d.status = 'pending' AND d.recipient = $1 AND e.case_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM case_events ce WHERE ce.case_id = e.case_id AND ce.delivery_id = d.id AND ce.event = 'delivery.waiting' AND ce.at >= $2)`,
    [recipient, since, at, detail],
  )
  return r.rowCount ?? 0
}

/**
 * The recipients with a delivered delivery, each found by one probe of deliveries_delivered_idx
 * (a loose index scan: PostgreSQL 15 has no skip scan), not by reading every delivery.
 */
export const DELIVERED_RECIPIENTS = `WITH RECURSIVE r (recipient) AS (
    (SELECT recipient FROM deliveries WHERE status = 'delivered' ORDER BY recipient LIMIT 1)
    UNION ALL
    SELECT (SELECT d.recipient FROM deliveries d WHERE d.status = 'delivered' AND d.recipient > r.recipient ORDER BY d.recipient LIMIT 1)
      FROM r WHERE r.recipient IS NOT NULL
  )`

/**
 * Deliveries in a given state, newest first (operator views). Pending and dead ones through their
 * partial indexes; delivered ones, which are most of all deliveries ever made, as the newest
 * `limit` of each recipient (a delivered one's last change is its delivery), merged.
 */
export async function listByStatus(db: Db | Tx, status: DeliveryStatus, limit: number): Promise<Delivery[]> {
  if (status !== 'delivered') {
    return (await db.query<Delivery>(`SELECT ${COLUMNS} FROM deliveries WHERE status = $1 ORDER BY updated_at DESC LIMIT $2`, [status, limit])).rows
  }
  return (await db.query<Delivery>(
    `${DELIVERED_RECIPIENTS}
     SELECT x.* FROM r CROSS JOIN LATERAL (
       SELECT ${COLUMNS} FROM deliveries d WHERE d.status = 'delivered' AND d.recipient = r.recipient ORDER BY d.delivered_at DESC LIMIT $1) x
      ORDER BY x."updatedAt" DESC LIMIT $1`,
    [limit],
  )).rows
}

/** Every exchange of a case with its deliveries, oldest first (the case's per-recipient status). */
export async function listCaseDeliveries(db: Db | Tx, caseId: string): Promise<Array<{
  exchangeId: string; messageId: string; type: string; sender: string; receivedAt: Date
  deliveryId: string | null; recipient: string | null; status: DeliveryStatus | null; attempts: number | null; lastError: string | null; deliveredAt: Date | null
}>> {
  return (await db.query(
    `SELECT e.id AS "exchangeId", e.message_id AS "messageId", e.type, e.sender, e.received_at AS "receivedAt",
            d.id AS "deliveryId", d.recipient, d.status, d.attempts, d.last_error AS "lastError", d.delivered_at AS "deliveredAt"
       FROM exchanges e LEFT JOIN deliveries d ON d.exchange_id = e.id
      WHERE e.case_id = $1 ORDER BY e.received_at, e.id, d.recipient`,
    [caseId],
  )).rows
}
