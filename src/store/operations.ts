import type { Redis } from 'ioredis'
import type { Db } from './db.ts'
import { DELIVERED_RECIPIENTS } from './deliveries.ts'

const MINUTE = (column: string): string => `(floor(extract(epoch FROM ${column}) / 60) * 60000)::bigint::text`

/**
 * Accepted and delivered messages per minute since `since` (minute starts as epoch ms). Both read
 * only the rows since `since`, by index (migration 0019): accepted from exchange_keys (one row per
 * exchange, same received_at), delivered recipient by recipient (counted inside the lateral
 * subquery, so that PostgreSQL cannot turn it into one scan of every delivery joined to the list).
 */
export async function perMinute(db: Db, since: Date): Promise<{ accepted: Map<number, number>; delivered: Map<number, number> }> {
  const [a, d] = await Promise.all([
    db.query<{ m: string; n: number }>(`SELECT ${MINUTE('received_at')} AS m, count(*)::int AS n FROM exchange_keys WHERE received_at >= $1 GROUP BY 1`, [since]),
    db.query<{ m: string; n: number }>(
      `${DELIVERED_RECIPIENTS}
       SELECT x.m, sum(x.n)::int AS n
         FROM r CROSS JOIN LATERAL (
           SELECT ${MINUTE('d.delivered_at')} AS m, count(*) AS n FROM deliveries d
            WHERE d.status = 'delivered' AND d.recipient = r.recipient AND d.delivered_at >= $1 GROUP BY 1) x
        GROUP BY 1`,
      [since],
    ),
  ])
  const map = (rows: Array<{ m: string; n: number }>): Map<number, number> => new Map(rows.map((r) => [Number(r.m), r.n]))
  return { accepted: map(a.rows), delivered: map(d.rows) }
}

/**
 * Deliveries pending and dead, each counted through its own partial index (deliveries_pending_idx,
 * deliveries_dead_idx): asked as `status IN ('pending', 'dead')`, PostgreSQL read every delivery.
 */
export async function deliveryCounts(db: Db): Promise<{ pending: number; dead: number }> {
  const row = (await db.query<{ pending: number; dead: number }>(
    `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending')::int AS pending, (SELECT count(*) FROM deliveries WHERE status = 'dead')::int AS dead`,
  )).rows[0]
  return { pending: row?.pending ?? 0, dead: row?.dead ?? 0 }
}

/** An open step with a deadline (审核时限预警). */
export interface DueStep {
  readonly caseId: string; readonly unitCode: string; readonly stepId: string; readonly kind: string
  readonly requester: string; readonly responder: string; readonly openedAt: Date; readonly dueAt: Date
}

/** Open steps with a deadline, the soonest due first (overdue ones lead). */
export async function dueSteps(db: Db, limit: number): Promise<DueStep[]> {
  return (await db.query<DueStep>(
    `SELECT s.case_id AS "caseId", c.unit_code AS "unitCode", s.id AS "stepId", s.kind, s.requester, s.responder, s.opened_at AS "openedAt", s.due_at AS "dueAt"
       FROM case_steps s JOIN cases c ON c.case_id = s.case_id
      WHERE s.status = 'open' AND s.due_at IS NOT NULL ORDER BY s.due_at, s.id LIMIT $1`,
    [limit],
  )).rows
}

/** Cases on one unit (the console's search by 不动产单元号). */
export async function casesOnUnit(db: Db, unitCode: string, limit: number): Promise<Array<{ caseId: string; createdAt: Date }>> {
  return (await db.query<{ caseId: string; createdAt: Date }>(`SELECT case_id AS "caseId", created_at AS "createdAt" FROM cases WHERE unit_code = $1 ORDER BY created_at DESC LIMIT $2`, [unitCode, limit])).rows
}

/** A dead delivery with what the operator needs to decide on a replay. */
export interface DeadLetter {
  readonly deliveryId: string; readonly exchangeId: string; readonly type: string; readonly sender: string; readonly recipient: string
  readonly caseId: string | null; readonly attempts: number; readonly lastError: string | null; readonly deadAt: Date | null
  readonly status: string; readonly deliveredAt: Date | null; readonly receivedAt: Date
}

const DEAD_COLUMNS = `d.id AS "deliveryId", d.exchange_id AS "exchangeId", e.type, e.sender, d.recipient, e.case_id AS "caseId", d.attempts,
  d.last_error AS "lastError", d.dead_at AS "deadAt", d.status, d.delivered_at AS "deliveredAt", e.received_at AS "receivedAt"`

export async function deadLetters(db: Db, limit: number): Promise<DeadLetter[]> {
  return (await db.query<DeadLetter>(`SELECT ${DEAD_COLUMNS} FROM deliveries d JOIN exchanges e ON e.id = d.exchange_id WHERE d.status = 'dead' ORDER BY d.dead_at DESC, d.id LIMIT $1`, [limit])).rows
}

export async function deliveryWithExchange(db: Db, id: string): Promise<DeadLetter | undefined> {
  return (await db.query<DeadLetter>(`SELECT ${DEAD_COLUMNS} FROM deliveries d JOIN exchanges e ON e.id = d.exchange_id WHERE d.id = $1`, [id])).rows[0]
}

/**
 * Each recipient's latest delivery: its status, error and when (the one last changed). A
 * delivered one's last change is its delivery, so the latest delivered is one probe of
 * deliveries_delivered_idx per recipient; pending and dead ones are read whole, each by its own
 * partial index (the deliveries not settled, and the dead letters the operators have not replayed).
 */
export async function lastDeliveries(db: Db): Promise<Map<string, { status: string; lastError: string | null; at: Date }>> {
  const rows = (await db.query<{ recipient: string; status: string; lastError: string | null; at: Date }>(
    `${DELIVERED_RECIPIENTS}
     SELECT DISTINCT ON (recipient) recipient, status, "lastError", at FROM (
       SELECT x.* FROM r CROSS JOIN LATERAL (
         SELECT d.recipient, d.status, d.last_error AS "lastError", d.updated_at AS at FROM deliveries d
          WHERE d.status = 'delivered' AND d.recipient = r.recipient ORDER BY d.delivered_at DESC LIMIT 1) x
       UNION ALL
       SELECT recipient, status, last_error, updated_at FROM deliveries WHERE status = 'pending'
       UNION ALL
       SELECT recipient, status, last_error, updated_at FROM deliveries WHERE status = 'dead'
     ) l
     ORDER BY recipient, at DESC`,
  )).rows
  return new Map(rows.map((r) => [r.recipient, { status: r.status, lastError: r.lastError, at: r.at }]))
}

/**
 * Refused requests per minute, counted in Redis so every instance adds to one series (the
 * console's overview). Keys live two hours; Redis down: the count is skipped.
 */
export class RefusalCounter {
  readonly #redis: Redis
  readonly #prefix: string

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis
    this.#prefix = `${prefix}:stats:refused:`
  }

  count(at: Date): void {
    const key = this.#prefix + String(Math.floor(at.getTime() / 60_000) * 60_000)
    this.#redis.multi().incr(key).expire(key, 7_200).exec().catch(() => {})
  }

  async since(since: Date, now: Date): Promise<Map<number, number>> {
    const minutes: number[] = []
    for (let m = Math.floor(since.getTime() / 60_000) * 60_000; m <= now.getTime(); m += 60_000) minutes.push(m)
    const values = await this.#redis.mget(minutes.map((m) => this.#prefix + String(m))).catch(() => minutes.map(() => null))
    return new Map(minutes.map((m, i) => [m, Number(values[i] ?? 0)]))
  }
}
