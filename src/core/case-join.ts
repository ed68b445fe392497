import type { Db } from '../store/db.ts'
import { caseIdIssuer } from './formats.ts'
import type { MessageTypeRule } from './message-types.ts'
import { hasLoanApplication } from '../store/queries.ts'
import type { Participant } from './directory.ts'
import type { Envelope } from './envelope.ts'

/**
 * Whether a party that is not on a case may join it by this message (as a pending applicant,
 * until the case's owner answers). A bank (or a provident fund centre, which lends like one) may
 * apply for a mortgage registration on a case only under a loan application it declared for that
 * unit in a pre-loan query (贷前查询 → 抵押登记申请): a case id and a unit code alone admit no one,
 * and the attempt looks like any unknown case.
 */
export async function mayJoinCase(db: Db, env: Envelope, sender: Participant): Promise<boolean> {
  if (env.type === 'mortgage.registration.request' && (sender.role === 'BANK' || sender.role === 'FUND') && env.unitCode !== undefined) {
    const applicationNo = (env.body as { loanApplicationNo?: unknown }).loanApplicationNo
    return typeof applicationNo === 'string' && hasLoanApplication(db, sender.id, applicationNo, env.unitCode)
  }
  return false
}

/**
 * Whether this message may open the case it names, if the case does not exist yet. Registration
 * centres issue case ids (受理编号), each in its own divisions' namespace: a centre opens a case
 * with any of its messages, under a serial of digits. A court opens its own (查封) only with a
 * seizure, under a `J` serial of one of its divisions (formats.ts caseIdIssuer). Nobody else
 * opens cases, and nobody squats another's number.
 */
export function mayOpenCase(sender: Participant, rule: MessageTypeRule, caseId: string): boolean {
  if (!sender.divisions.includes(caseId.slice(0, 6)) || caseIdIssuer(caseId) !== sender.role) return false
  return sender.role === 'REG' || rule.courtOpensCase === true
}
