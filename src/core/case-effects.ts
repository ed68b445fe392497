import type { AcceptDoc } from '../store/accept.ts'
import type { Directory } from './directory.ts'
import type { Envelope } from './envelope.ts'
import { divisionOfUnitCode, responsibleFor } from './roles.ts'

interface ContractBody { contractNumber: string; filingNumber: string; status: string; house: { unitCode: string } }
interface AssessmentBody { transaction: { housingContractNumber?: string; housingFilingNumber?: string } }

/** What an accepted message does besides its delivery, decided here and written with it. */
export interface CaseEffects {
  readonly housingContract?: NonNullable<AcceptDoc['housingContract']>
  readonly linkContract?: NonNullable<NonNullable<AcceptDoc['case']>['linkContract']>
  /** The utilities whose accounts the applicants asked to transfer with the title (水电气热同步过户). */
  readonly utilityServices?: readonly string[]
  /** The home centre's own case, into which it accepted a forwarded application (异地申请): linked with this one. */
  readonly linkCase?: { readonly caseId: string }
}

/**
 * Type-specific effects: a filed sale contract (网签备案) is remembered as the filing bureau's; a
 * later tax assessment request for the same unit that names the contract links it to the case —
 * only a filing of the housing bureau responsible for the unit's division (the most specific
 * whose divisions cover it), and only when the numbers name exactly one filing — and that bureau
 * becomes a participant (it then sees the case and receives registration.completed).
 */
export function caseEffects(env: Envelope, directory: Directory): CaseEffects {
  if (env.type === 'housing.contract.filed') {
    const b = env.body as unknown as ContractBody
    if (b.status !== 'filed') return {}
    return { housingContract: { unitCode: env.unitCode ?? b.house.unitCode, contractNumber: b.contractNumber, filingNumber: b.filingNumber } }
  }
  if (env.type === 'registration.completed') {
    // The applicants' opt-in (a field of the application, carried when the transfer is entered):
    // a utility.transfer.notice on the case goes only to these services.
    const services = (env.body as { utilityServices?: string[] }).utilityServices
    return services === undefined ? {} : { utilityServices: services }
  }
  if (env.type === 'registration.application.examined') {
    const b = env.body as { result: string; homeCaseId?: string }
    return b.result === 'accepted' && b.homeCaseId !== undefined ? { linkCase: { caseId: b.homeCaseId } } : {}
  }
  if (env.type === 'tax.assessment.request' && env.unitCode !== undefined) {
    const t = (env.body as unknown as AssessmentBody).transaction
    if (t.housingContractNumber === undefined && t.housingFilingNumber === undefined) return {}
    const housing = responsibleFor(directory.participants(), 'HOUSING', divisionOfUnitCode(env.unitCode))?.id ?? null
    return { linkContract: { unitCode: env.unitCode, contractNumber: t.housingContractNumber ?? null, filingNumber: t.housingFilingNumber ?? null, housing } }
  }
  return {}
}
