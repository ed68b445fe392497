import type { InboundDelivery } from '../../client/index.ts'
import type { SimulatedAgency } from '../agency.ts'
import { iso, type Person } from '../register.ts'
import { within } from './transfer.ts'

/** A utility account the applicants asked, on their application, to move with the title (水电气热同步过户). */
export interface UtilityAccount {
  readonly service: 'water' | 'power' | 'gas' | 'heating'
  readonly accountNumber: string
}

const SERVICE_NAMES: Record<UtilityAccount['service'], string> = { water: '供水', power: '供电', gas: '供气', heating: '供热' }

/** A mobile number as a utility may see it: the middle four digits masked (138****5678). */
export function maskMobile(phone: string): string {
  return `${phone.slice(0, 3)}****${phone.slice(7)}`
}

/** A utility company's desk: it moves the account named in each notice to the new holder and answers. */
export function utilityCompany(company: SimulatedAgency): void {
  company.on('utility.transfer.notice', async (d: InboundDelivery) => {
    const b = d.envelope.body as { service: UtilityAccount['service']; accountNumber: string; newHolder: { name: string; phone: string } }
    company.say(`received the ${SERVICE_NAMES[b.service]} transfer notice for unit ${d.envelope.unitCode ?? ''}: account ${b.accountNumber} to the new holder (mobile ${b.newHolder.phone}; no ID number, no address)`)
    await company.client.send({
      type: 'utility.transfer.completed', caseId: d.envelope.caseId as string, unitCode: d.envelope.unitCode as string,
      body: { service: b.service, accountNumber: b.accountNumber, outcome: 'transferred', completedAt: iso(new Date()) },
    })
  })
}

/**
 * 水电气热同步过户: once the transfer is entered (its registration.completed named the services the
 * applicants opted in to), the centre tells each company; each moves the account and answers.
 * A service the applicants did not ask for is refused by the gateway.
 */
export async function utilityTransfers(reg: SimulatedAgency, t: { caseId: string; unitCode: string; buyer: Person; registeredAt: string; accounts: readonly UtilityAccount[] }): Promise<void> {
  const answers = new Map<string, (d: InboundDelivery) => void>()
  reg.on('utility.transfer.completed', async (d) => {
    const b = d.envelope.body as { service: string; outcome: string }
    reg.say(`${d.envelope.from}: ${SERVICE_NAMES[b.service as UtilityAccount['service']] ?? b.service} account ${b.outcome}`)
    answers.get(b.service)?.(d)
  })
  const done = t.accounts.map((a) => new Promise<InboundDelivery>((r) => answers.set(a.service, r)))
  for (const a of t.accounts) {
    const r = await reg.client.send({
      type: 'utility.transfer.notice', caseId: t.caseId, unitCode: t.unitCode,
      body: { service: a.service, unitCode: t.unitCode, accountNumber: a.accountNumber, newHolder: { name: t.buyer.name, phone: maskMobile(t.buyer.phone) }, registeredAt: t.registeredAt },
    })
    reg.say(`sent the ${SERVICE_NAMES[a.service]} transfer notice (no "to": routed to the ${a.service} company of division ${t.unitCode.slice(0, 6)}); receipt ${r.receipt.exchangeId}`)
  }
  const gas = await reg.client.send({
    type: 'utility.transfer.notice', caseId: t.caseId, unitCode: t.unitCode,
    body: { service: 'gas', unitCode: t.unitCode, accountNumber: 'RQ-00000001', newHolder: { name: t.buyer.name, phone: maskMobile(t.buyer.phone) }, registeredAt: t.registeredAt },
  }).then(() => 'accepted', (err: { problem?: { status?: number; code?: string } }) => `${err.problem?.status ?? ''} ${err.problem?.code ?? String(err)}`)
  reg.say(`a gas notice the applicants did not ask for: ${gas}`)
  await within(Promise.all(done), 15_000, 'the utility companies did not answer')
}
