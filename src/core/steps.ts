import { TongbanError } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { closeStepByOperator } from '../store/cases.ts'
import { UUID_RE } from '../util/ids.ts'
import { caseIdFault } from './formats.ts'
import type { Ledger } from '../ledger/index.ts'

/** Longest reason an operator may give for closing a step (it is shown in the case timeline). */
export const MAX_CLOSE_REASON = 500

/**
 * An operator closes a stuck step (e.g. an application nobody can answer any more): the step
 * becomes `cancelled` and the timeline records who closed it and why. The reason is free text
 * an operator writes for the case's participants: bounded, no control characters.
 */
export async function closeStepAsOperator(db: Db, ledger: Ledger, q: { caseId: string; stepId: string; operator: string; reason: unknown; at: Date }): Promise<void> {
  const reason = typeof q.reason === 'string' ? q.reason.trim() : ''
  if (reason.length === 0 || reason.length > MAX_CLOSE_REASON || /[\u0000-\u001f\u007f]/.test(reason)) {
    throw new TongbanError('TB_ERR_BAD_REQUEST', `give a reason: 1 to ${MAX_CLOSE_REASON} characters, one line`, {
      violations: [{ pointer: '/reason', rule: 'reason', message: `1 to ${MAX_CLOSE_REASON} characters without control characters` }],
    })
  }
  // A step id that is not a UUID, or a case id that is not one, names no step (and must not reach
  // PostgreSQL, which refuses U+0000 in text and non-UUIDs in a uuid cast with an error).
  // The ledger keeps the reason's digest, not its words (it is free text).
  const entry = () => ledger.record('operator.action', { operator: q.operator, action: 'step.close', target: `${q.caseId}/${q.stepId}`, reasonDigest: ledger.digest(Buffer.from(reason, 'utf8')), outcome: 'cancelled' })
  const closed = UUID_RE.test(q.stepId) && caseIdFault(q.caseId) === null && (await closeStepByOperator(db, { ...q, reason }, entry()))
  if (!closed) throw new TongbanError('TB_ERR_NOT_FOUND', `no open step ${q.stepId} on case ${q.caseId}`)
}
