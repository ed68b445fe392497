import type { Tx } from '../store/db.ts'
import { addEvent, addParticipants } from '../store/cases.ts'
import { findHousingContract, upsertHousingContract } from '../store/housing.ts'
import type { Envelope } from './envelope.ts'

/** What an accepted message does besides its delivery, inside the acceptance transaction. */
export interface EffectContext {
  readonly tx: Tx
  readonly env: Envelope
  readonly exchangeId: string
  readonly now: Date
}

type Effect = (ctx: EffectContext) => Promise<void>

interface ContractBody { contractNumber: string; filingNumber: string; status: string; house: { unitCode: string } }
interface AssessmentBody { transaction: { housingContractNumber?: string; housingFilingNumber?: string } }

/**
 * Type-specific effects: a filed sale contract (网签备案) is remembered; a later tax assessment
 * request for the same unit that names the contract links it to the case, and the housing
 * bureau becomes a participant (it then sees the case and receives registration.completed).
 */
const EFFECTS: Readonly<Record<string, Effect>> = {
  'housing.contract.filed': async ({ tx, env, exchangeId, now }) => {
    const b = env.body as unknown as ContractBody
    if (b.status !== 'filed') return
    await upsertHousingContract(tx, { unitCode: env.unitCode ?? b.house.unitCode, contractNumber: b.contractNumber, filingNumber: b.filingNumber, sender: env.from, exchangeId, filedAt: now })
  },
  'tax.assessment.request': async ({ tx, env, exchangeId, now }) => {
    const t = (env.body as unknown as AssessmentBody).transaction
    if (env.caseId === undefined || env.unitCode === undefined || (t.housingContractNumber === undefined && t.housingFilingNumber === undefined)) return
    const contract = await findHousingContract(tx, env.unitCode, {
      ...(t.housingContractNumber !== undefined ? { contractNumber: t.housingContractNumber } : {}),
      ...(t.housingFilingNumber !== undefined ? { filingNumber: t.housingFilingNumber } : {}),
    })
    if (contract === undefined) return
    await addParticipants(tx, env.caseId, [contract.sender])
    await addEvent(tx, {
      caseId: env.caseId, at: now, event: 'contract.linked', actor: env.from, exchangeId,
      detail: { contractNumber: contract.contractNumber, filingNumber: contract.filingNumber, housing: contract.sender, contractExchangeId: contract.exchangeId },
    })
  },
}

/** Applies the effects of an accepted message of its type, if it has any. */
export async function applyCaseEffects(ctx: EffectContext): Promise<void> {
  await EFFECTS[ctx.env.type]?.(ctx)
}
