import type { InboundDelivery } from '../../client/index.ts'
import type { SimulatedAgency } from '../agency.ts'
import { assessTransfer, TAX_ITEM_NAMES, type Assessment } from '../tax-rules.ts'
import { iso } from '../register.ts'

/** A second-hand house sale as the registration window accepts it. */
export interface TransferCase {
  readonly caseId: string
  readonly unitCode: string
  readonly location: string
  readonly contractNumber: string
  readonly price: string
  readonly seller: { readonly name: string; readonly idNumber: string; readonly phone: string }
  readonly buyer: { readonly name: string; readonly idNumber: string; readonly phone: string }
  readonly housingContractNumber?: string
  readonly housingFilingNumber?: string
}

/** The 征税信息 the registration centre pushes to tax for a transfer case. */
export function assessmentRequestBody(c: TransferCase, now: Date): Record<string, unknown> {
  return {
    case: { receiptNumber: c.caseId, registrationType: '200', businessType: 'second-hand-sale', acceptedAt: now.toISOString() },
    property: {
      unitCode: c.unitCode, location: c.location, building: '1', unit: '2', room: '1502', floor: 15, totalFloors: 18,
      structure: 'reinforced-concrete', buildingArea: '98.56', innerArea: '82.30', usage: 'residential', ordinaryResidence: true, yearBuilt: 2012,
    },
    transaction: {
      contractNumber: c.contractNumber, contractDate: '2026-11-20', price: c.price, priceIncludesVat: true, transferMethod: 'sale',
      ...(c.housingContractNumber ? { housingContractNumber: c.housingContractNumber } : {}),
      ...(c.housingFilingNumber ? { housingFilingNumber: c.housingFilingNumber } : {}),
    },
    parties: [
      {
        side: 'transferor', name: c.seller.name, idType: '1', idNumber: c.seller.idNumber, phone: c.seller.phone, share: '1', coOwnership: 'sole',
        homesHeld: 2, maritalStatus: '20', acquisition: { method: 'purchase', date: '2019-05-10', cost: '680000.00' },
      },
      { side: 'transferee', name: c.buyer.name, idType: '1', idNumber: c.buyer.idNumber, phone: c.buyer.phone, share: '1', coOwnership: 'sole', homesHeld: 1, maritalStatus: '20' },
    ],
    submittedAt: now.toISOString(),
  }
}

interface AssessmentBody {
  case: { businessType?: string }
  property: { buildingArea: string; usage: string }
  transaction: { price: string; priceIncludesVat: boolean; contractDate: string }
  parties: Array<{ side: string; homesHeld?: number; acquisition?: { date: string; cost: string } }>
}

let voucher = 0

/** What a tax bureau assesses for a 征税信息 body, by the documented demo rules (tax-rules.ts). */
export function assess(body: Record<string, unknown>): Assessment {
  const b = body as unknown as AssessmentBody
  const seller = b.parties.find((p) => p.side === 'transferor')
  const buyer = b.parties.find((p) => p.side === 'transferee')
  return assessTransfer({
    price: b.transaction.price, priceIncludesVat: b.transaction.priceIncludesVat, buildingArea: b.property.buildingArea,
    residential: b.property.usage === 'residential', contractDate: b.transaction.contractDate,
    ...(seller?.acquisition ? { acquisition: seller.acquisition } : {}),
    ...(seller?.homesHeld !== undefined ? { transferorHomes: seller.homesHeld } : {}),
    ...(buyer?.homesHeld !== undefined ? { transfereeHomes: buyer.homesHeld } : {}),
    newBuild: b.case.businessType === 'new-build-sale',
  })
}

/** The 完税 body for an assessment, paid now, at the given tax office. */
export function paymentBody(a: Assessment, office: { code: string; name: string; prefix: string }): Record<string, unknown> {
  voucher++
  return {
    voucherNumber: `${office.prefix}${String(20261124000 + voucher)}`, taxOfficeCode: office.code, taxOfficeName: office.name,
    assessedPrice: a.assessedPrice, totals: a.totals, items: a.items,
    paymentStatus: a.totals.paid === '0.00' ? 'exempt' : 'paid', paidAt: iso(new Date()),
  }
}

/** Prints an assessment line by line. */
export function sayAssessment(agency: { say(text: string): void }, a: Assessment): void {
  for (const i of a.items) agency.say(`    ${TAX_ITEM_NAMES[i.item].padEnd(34)} basis ${i.basis.padStart(12)} × ${i.rate.padEnd(6)} = ${i.due.padStart(10)}${i.relief !== '0.00' ? `  (relief ${i.relief}: ${i.reliefNature ?? ''})` : ''}`)
  agency.say(`    total to pay ${a.totals.paid} 元; the parties pay at the window…`)
}

/** The tax bureau's side: assess by the documented rules, take the payment, post 完税. */
export function taxBureau(tax: SimulatedAgency): void {
  tax.on('tax.assessment.request', async (d: InboundDelivery) => {
    const a = assess(d.envelope.body)
    tax.say(`received 征税信息 for case ${d.envelope.caseId} (signed by ${d.envelope.from}); assessed:`)
    sayAssessment(tax, a)
    await new Promise((r) => setTimeout(r, 300))
    const r = await tax.client.send({
      type: 'tax.payment.completed', caseId: d.envelope.caseId as string, unitCode: d.envelope.unitCode as string,
      body: paymentBody(a, { code: '12312020000', name: tax.name, prefix: '3231202' }),
    })
    tax.say(`posted 完税 for case ${d.envelope.caseId}: receipt for exchange ${r.exchangeId}`)
  })
}

/** Runs one transfer case REG → TAX → REG; resolves when the centre has the 完税 result. */
export async function runTransfer(reg: SimulatedAgency, c: TransferCase, onPaid?: (d: InboundDelivery) => Promise<void>): Promise<void> {
  let done: () => void = () => {}
  const paid = new Promise<void>((r) => { done = r })
  reg.on('tax.payment.completed', async (d: InboundDelivery) => {
    const totals = (d.envelope.body as { totals: { paid: string } }).totals
    reg.say(`received 完税 for case ${d.envelope.caseId} from ${d.envelope.from}: ${totals.paid} 元 paid; the transfer may be entered in the register`)
    await onPaid?.(d)
    done()
  })
  const r = await reg.client.send({ type: 'tax.assessment.request', caseId: c.caseId, unitCode: c.unitCode, body: assessmentRequestBody(c, new Date()) })
  reg.say(`pushed 征税信息 for case ${c.caseId} (unit ${c.unitCode}); gateway receipt ${r.receipt.exchangeId}, digest ${r.receipt.digest.slice(0, 16)}…`)
  await within(paid, 30_000, `case ${c.caseId}: no 完税 within 30 s`)
}

/** `p`, or an error after `ms` (the timer does not outlive `p`). */
export async function within<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}
