import { entryInsert, entryParams, type LedgerRecord } from './ledger.ts'
import type { Db, SideInsert, Tx } from './db.ts'

/** A step's state; `cancelled`: closed by an operator (the reason is in the timeline). */
export type StepStatus = 'open' | 'completed' | 'rejected' | 'cancelled'

export interface CaseRow {
  readonly caseId: string
  readonly unitCode: string
  readonly openedBy: string
  readonly createdAt: Date
  /** The utilities the applicants opted in to (水电气热同步过户), as the case's owner entered the transfer. */
  readonly utilityServices: readonly string[]
  /** A forwarded application's home case (异地申请: the case of the unit's centre), once accepted there. */
  readonly homeCase: string | null
  /** A home case's forwarded case (the case of the centre where the applicants stand). */
  readonly forwardedFrom: string | null
}

/** A step of a case that awaits an answer. */
export interface Step {
  readonly id: string
  readonly caseId: string
  readonly kind: string
  readonly status: StepStatus
  readonly requester: string
  readonly responder: string
  readonly openedByExchange: string
  readonly closedByExchange: string | null
  readonly openedAt: Date
  readonly closedAt: Date | null
  readonly dueAt: Date | null
  readonly overdueAt: Date | null
}

export interface CaseEvent {
  readonly id: string
  readonly at: Date
  readonly event: string
  readonly actor: string | null
  readonly exchangeId: string | null
  readonly deliveryId: string | null
  readonly detail: Record<string, unknown>
}

const STEP_COLUMNS = `id, case_id AS "caseId", kind, status, requester, responder, opened_by_exchange AS "openedByExchange",
  closed_by_exchange AS "closedByExchange", opened_at AS "openedAt", closed_at AS "closedAt", due_at AS "dueAt", overdue_at AS "overdueAt"`

/** The case row, if the case exists. */
export async function getCase(db: Db | Tx, caseId: string): Promise<CaseRow | undefined> {
  return (await db.query<CaseRow>(
    `SELECT case_id AS "caseId", unit_code AS "unitCode", opened_by AS "openedBy", created_at AS "createdAt", utility_services AS "utilityServices",
            home_case AS "homeCase", (SELECT f.case_id FROM cases f WHERE f.home_case = c.case_id) AS "forwardedFrom" FROM cases c WHERE case_id = $1`,
    [caseId],
  )).rows[0]
}

/** Whether `participant` takes part in the case (confirmed: a pending applicant does not yet). */
export async function isParticipant(db: Db | Tx, caseId: string, participant: string): Promise<boolean> {
  const r = await db.query(`SELECT 1 FROM case_participants WHERE case_id = $1 AND participant = $2 AND confirmed`, [caseId, participant])
  return (r.rowCount ?? 0) > 0
}

/** The confirmed participants of a case (who may read it and receive its fan-out). */
export async function listParticipants(db: Db | Tx, caseId: string): Promise<string[]> {
  return (await db.query<{ p: string }>(`SELECT participant AS p FROM case_participants WHERE case_id = $1 AND confirmed ORDER BY participant`, [caseId])).rows.map((r) => r.p)
}

/** Applicants on the case not yet answered (pending participants). */
export async function listPendingParticipants(db: Db | Tx, caseId: string): Promise<string[]> {
  return (await db.query<{ p: string }>(`SELECT participant AS p FROM case_participants WHERE case_id = $1 AND NOT confirmed ORDER BY participant`, [caseId])).rows.map((r) => r.p)
}

/** The open steps of `kind` on a case (one per requester), oldest first. */
export async function findOpenSteps(db: Db | Tx, caseId: string, kind: string): Promise<Step[]> {
  return (await db.query<Step>(`SELECT ${STEP_COLUMNS} FROM case_steps WHERE case_id = $1 AND kind = $2 AND status = 'open' ORDER BY opened_at, id`, [caseId, kind])).rows
}

/** Whether `participant` is on the case at all, confirmed or as a pending applicant. */
export async function participation(db: Db | Tx, caseId: string, participant: string): Promise<'confirmed' | 'pending' | undefined> {
  const r = await db.query<{ confirmed: boolean }>(`SELECT confirmed FROM case_participants WHERE case_id = $1 AND participant = $2`, [caseId, participant])
  const row = r.rows[0]
  return row === undefined ? undefined : row.confirmed ? 'confirmed' : 'pending'
}

/**
 * Closes an open step of a case as `cancelled`, by an operator, with the reason in the timeline
 * (one statement; see migrations/0006). False when no such step is open on that case.
 */
export async function closeStepByOperator(db: Db, q: { caseId: string; stepId: string; operator: string; reason: string; at: Date }, entry?: LedgerRecord): Promise<boolean> {
  const close = 'SELECT tongban_close_step($1, $2::uuid, $3, $4, $5) AS ok'
  const params = [q.caseId, q.stepId, q.operator, q.reason, q.at]
  // With the operator's ledger entry in the same statement, written only when the step closed.
  const r = entry === undefined
    ? await db.query<{ ok: boolean }>(close, params)
    : await db.query<{ ok: boolean }>(`WITH closed AS (${close}), done AS (SELECT 1 FROM closed WHERE ok), e AS (${entryInsert(6, 'done')}) SELECT ok FROM closed`, [...params, ...entryParams(entry)])
  return r.rows[0]?.ok === true
}

/** All steps of a case, oldest first. */
export async function listSteps(db: Db | Tx, caseId: string): Promise<Step[]> {
  return (await db.query<Step>(`SELECT ${STEP_COLUMNS} FROM case_steps WHERE case_id = $1 ORDER BY opened_at, id`, [caseId])).rows
}

/** An event for the case timeline. */
export interface NewEvent {
  readonly caseId: string
  readonly at: Date
  readonly event: string
  readonly actor?: string | null
  readonly exchangeId?: string | null
  readonly deliveryId?: string | null
  readonly detail?: Record<string, unknown>
}

const eventParams = (e: NewEvent): unknown[] => [e.caseId, e.at, e.event, e.actor ?? null, e.exchangeId ?? null, e.deliveryId ?? null, JSON.stringify(e.detail ?? {})]

/** Appends to the case timeline. */
export async function addEvent(db: Db | Tx, e: NewEvent): Promise<void> {
  await db.query(`INSERT INTO case_events (case_id, at, event, actor, exchange_id, delivery_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`, eventParams(e))
}

/** A timeline event written with a fact, in its statement (withEntry's `also`): only when the fact changed a row. */
export function eventSide(e: NewEvent): SideInsert {
  return {
    sql: (first, from) => {
      const p = (i: number): string => `$${first + i}`
      return `INSERT INTO case_events (case_id, at, event, actor, exchange_id, delivery_id, detail)
        SELECT ${p(0)}::text, ${p(1)}::timestamptz, ${p(2)}::text, ${p(3)}::text, ${p(4)}::uuid, ${p(5)}::uuid, ${p(6)}::jsonb WHERE EXISTS (SELECT 1 FROM ${from})`
    },
    params: eventParams(e),
  }
}

/** The case timeline, in order. */
export async function listEvents(db: Db | Tx, caseId: string): Promise<CaseEvent[]> {
  return (await db.query<CaseEvent>(
    // By time, then by the bigint id (a bare ORDER BY id would sort the text column of the same name).
    `SELECT id::text, at, event, actor, exchange_id AS "exchangeId", delivery_id AS "deliveryId", detail FROM case_events WHERE case_id = $1 ORDER BY at, case_events.id`,
    [caseId],
  )).rows
}

/**
 * Marks every open step whose deadline has passed as overdue, once: the `overdue_at IS NULL`
 * guard makes a second check (or a second gateway instance) find nothing to mark.
 */
export async function markOverdue(tx: Tx, now: Date, limit: number): Promise<Step[]> {
  return (await tx.query<Step>(
    `UPDATE case_steps SET overdue_at = $1
      WHERE id IN (SELECT id FROM case_steps WHERE status = 'open' AND overdue_at IS NULL AND due_at < $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING ${STEP_COLUMNS}`,
    [now, limit],
  )).rows
}

export interface CaseSummary {
  readonly caseId: string
  readonly unitCode: string
  readonly createdAt: Date
  /** Open steps past their deadline at the time of the query. */
  readonly overdueSteps: number
  readonly openSteps: number
}

/**
 * Cases, newest first: only those `participant` takes part in (undefined: all, for operators),
 * and with `overdueOnly` only those with a step open past its deadline at `now`.
 *
 * Each read stays off the tables' size (migrations 0020, 0021): the newest cases by their index,
 * a participant's by its own (its rows carry their case's creation time), the overdue ones from
 * the open steps past their deadline.
 */
export async function listCases(
  db: Db | Tx,
  q: { now: Date; participant: string | undefined; overdueOnly: boolean; limit: number },
): Promise<CaseSummary[]> {
  const params: unknown[] = [q.now, q.limit]
  const mine = 'p.participant = $3 AND p.confirmed'
  if (q.participant !== undefined) params.push(q.participant)
  const counts = `(SELECT count(*)::int FROM case_steps s WHERE s.case_id = c.case_id AND s.status = 'open' AND s.due_at < $1) AS "overdueSteps",
              (SELECT count(*)::int FROM case_steps s WHERE s.case_id = c.case_id AND s.status = 'open') AS "openSteps"`
  const columns = `c.case_id AS "caseId", c.unit_code AS "unitCode", c.created_at AS "createdAt", ${counts}`
  let sql: string
  if (q.overdueOnly) {
    sql = `SELECT ${columns}
             FROM (SELECT DISTINCT case_id FROM case_steps WHERE status = 'open' AND due_at < $1) late
             JOIN cases c ON c.case_id = late.case_id
             ${q.participant === undefined ? '' : `JOIN case_participants p ON p.case_id = c.case_id AND ${mine}`}
            ORDER BY c.created_at DESC, c.case_id LIMIT $2`
  } else if (q.participant === undefined) {
    sql = `SELECT ${columns} FROM cases c ORDER BY c.created_at DESC, c.case_id LIMIT $2`
  } else {
    // By the participant's index, in its order (the same as the case's: its created_at), then the case.
    sql = `SELECT ${columns}
             FROM (SELECT p.case_id, p.case_created_at FROM case_participants p WHERE ${mine}
                    ORDER BY p.case_created_at DESC, p.case_id LIMIT $2) mine
             JOIN cases c ON c.case_id = mine.case_id
            ORDER BY mine.case_created_at DESC, mine.case_id`
  }
  return (await db.query<CaseSummary>(sql, params)).rows
}
