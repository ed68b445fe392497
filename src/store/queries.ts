import { withEntry, type LedgerRecord } from './ledger.ts'
import { TongbanError } from '../errors.ts'
import type { Db, Tx } from './db.ts'

export type QueryOutcome = 'pending' | 'answered' | 'refused' | 'timeout' | 'unavailable' | 'rejected' | 'bad_answer' | 'error'

export interface QueryRecord {
  readonly id: string
  readonly asker: string
  readonly messageId: string
  readonly type: string
  readonly responder: string
  readonly unitCode: string | null
  readonly certificateNo: string | null
  readonly purpose: string | null
  readonly applicationNo: string | null
  readonly askedAt: Date
  readonly requestDigest: string
}

/**
 * Records a query before it is forwarded (who, what, when, why). A message id the asker already
 * used for a query is TB_ERR_DUPLICATE_ID: the record's unique rule decides, so two concurrent
 * requests with one id cannot both pass.
 */
export async function insertQuery(db: Db | Tx, q: QueryRecord): Promise<void> {
  try {
    await db.query(
      `INSERT INTO queries (id, asker, message_id, type, responder, unit_code, certificate_no, purpose, application_no, asked_at, outcome, request_digest)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11)`,
      [q.id, q.asker, q.messageId, q.type, q.responder, q.unitCode, q.certificateNo, q.purpose, q.applicationNo, q.askedAt, q.requestDigest],
    )
  } catch (err) {
    const e = err as { code?: string; constraint?: string }
    if (e.code === '23505' && e.constraint === 'queries_asker_message_id_key') {
      throw new TongbanError('TB_ERR_DUPLICATE_ID', 'this message id was already used for a query: a query is not repeated, ask again with a new id', { detail: { messageId: q.messageId } })
    }
    throw err
  }
}

/** How a query ended. */
export async function finishQuery(
  db: Db | Tx,
  id: string,
  f: { outcome: QueryOutcome; at: Date; errorCode?: string | null; answerDigest?: string | null; unitCode?: string | null; problem?: object },
  entry?: LedgerRecord,
): Promise<void> {
  // With its ledger entry (query.recorded) in the same statement; a query is finished once.
  await withEntry(db,
    `UPDATE queries SET outcome = $2, answered_at = $3, error_code = $4, answer_digest = $5, unit_code = COALESCE(unit_code, $6), problem = $7::jsonb WHERE id = $1 AND outcome = 'pending' RETURNING id`,
    [id, f.outcome, f.at, f.errorCode ?? null, f.answerDigest ?? null, f.unitCode ?? null, f.problem === undefined ? null : JSON.stringify(f.problem)], entry)
}

/** A query's outcome and, for a refused answer, why (who asked whom, never what). */
export async function queryProblem(db: Db | Tx, id: string): Promise<{ id: string; asker: string; responder: string; type: string; messageId: string; outcome: QueryOutcome; errorCode: string | null; answeredAt: Date | null; problem: { reason: string; violations?: unknown[] } | null } | undefined> {
  return (await db.query(
    `SELECT id, asker, responder, type, message_id AS "messageId", outcome, error_code AS "errorCode", answered_at AS "answeredAt", problem FROM queries WHERE id = $1`,
    [id],
  )).rows[0]
}

/** Notes that a lender's (a bank's or a provident fund centre's: the column is named `bank`) loan application concerns a unit (from a pre-loan query). */
export async function recordLoanApplication(db: Db | Tx, a: { bank: string; applicationNo: string; unitCode: string; queryId: string; at: Date }): Promise<void> {
  await db.query(
    `INSERT INTO loan_applications (bank, application_no, unit_code, first_query, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [a.bank, a.applicationNo, a.unitCode, a.queryId, a.at],
  )
}

/** Whether a bank declared this loan application for this unit. */
export async function hasLoanApplication(db: Db | Tx, bank: string, applicationNo: string, unitCode: string): Promise<boolean> {
  const r = await db.query(`SELECT 1 FROM loan_applications WHERE bank = $1 AND application_no = $2 AND unit_code = $3`, [bank, applicationNo, unitCode])
  return (r.rowCount ?? 0) > 0
}

/** Whether a participant takes part in a case on this unit (e.g. a bank's mortgage registration). */
export async function hasCaseOnUnit(db: Db | Tx, participant: string, unitCode: string): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM cases c JOIN case_participants p ON p.case_id = c.case_id WHERE c.unit_code = $1 AND p.participant = $2 AND p.confirmed LIMIT 1`,
    [unitCode, participant],
  )
  return (r.rowCount ?? 0) > 0
}

/** A participant's queries, newest first (its own record of what it asked). */
export async function listQueries(db: Db | Tx, asker: string | undefined, limit: number): Promise<Array<QueryRecord & { outcome: QueryOutcome; answeredAt: Date | null; errorCode: string | null }>> {
  return (await db.query(
    `SELECT id, asker, message_id AS "messageId", type, responder, unit_code AS "unitCode", certificate_no AS "certificateNo", purpose,
            application_no AS "applicationNo", asked_at AS "askedAt", request_digest AS "requestDigest", outcome, answered_at AS "answeredAt", error_code AS "errorCode"
       FROM queries ${asker === undefined ? '' : 'WHERE asker = $2'} ORDER BY asked_at DESC LIMIT $1`,
    asker === undefined ? [limit] : [limit, asker],
  )).rows
}
