import type { InboundDelivery } from '../../client/index.ts'
import { LegacyTaxSystem, type ReceivedAssessment } from '../../../adapters/legacy-tax/reference-partner.ts'
import { paymentToVendor } from '../../../adapters/legacy-tax/mapping.ts'
import type { SimulatedAgency } from '../agency.ts'
import { assess, assessmentRequestBody, paymentBody, sayAssessment, within, type TransferCase } from './transfer.ts'

/** A sale in 望奎县, whose registration centre runs the international suite. */
export const WANGKUI_SALE: TransferCase = {
  caseId: '231221-2026-000031', unitCode: '231221101002GB00345F00020003', location: '绥化市望奎县惠七路66号2幢3单元302室',
  contractNumber: 'CL2312212026000031', price: '568000.00',
  seller: { name: '赵志强', idNumber: '231221199003045616', phone: '13945551234' },
  buyer: { name: '孙丽', idNumber: '231202199207071526', phone: '13845557788' },
}

/**
 * The legacy tax bureau of 望奎县: a vendor system that speaks flat pinyin-named JSON with an
 * HMAC-SM3 header (the legacy-tax adapter's format, adapters/legacy-tax/README.md). It assesses
 * by the same rules as the native bureau and posts 完税 back in its own format.
 */
export function legacyTaxBureau(system: LegacyTaxSystem, say: (text: string) => void): void {
  system.onAssessment(async (a: ReceivedAssessment) => {
    if (a.duplicate) return
    const v = a.vendor as unknown as { bdcdyh: string; jyjg: number; jyfxx: unknown[] }
    say(`received 征税信息 as flat vendor JSON (HMAC-SM3 checked): bdcdyh ${v.bdcdyh}, jyjg ${v.jyjg} 万元, ${v.jyfxx.length} parties (jyfxx); assessed:`)
    const assessment = assess(a.standard.body as Record<string, unknown>)
    sayAssessment({ say }, assessment)
    await new Promise((r) => setTimeout(r, 200))
    const vendor = paymentToVendor({
      serial: `WS${a.standard.caseId.replace(/\D/g, '')}`, caseId: a.standard.caseId,
      unitCode: String((a.standard.body as { property: { unitCode: string } }).property.unitCode),
      body: paymentBody(assessment, { code: '12312210000', name: '国家税务总局望奎县税务局', prefix: '3231221' }),
    })
    const reply = await system.postPaymentCompleted(vendor)
    const answer = reply.answer as { fhm?: string; jhbh?: string }
    say(`posted 完税信息 (wsxx, totals in 万元) to the gateway: HTTP ${reply.status}, fhm ${answer.fhm ?? '?'}, exchange ${answer.jhbh ?? '?'} (answer signature ${reply.authentic})`)
  })
}

/** REG:231221 pushes a transfer to its legacy tax bureau and gets 完税 back, attested by the gateway. */
export async function wangkuiTransfer(reg: SimulatedAgency): Promise<string> {
  const c = WANGKUI_SALE
  let done: () => void = () => {}
  const paid = new Promise<void>((r) => { done = r })
  reg.on('tax.payment.completed', async (d: InboundDelivery) => {
    const totals = (d.envelope.body as { totals: { paid: string } }).totals
    reg.say(`received 完税 for case ${d.envelope.caseId} from ${d.envelope.from}: ${totals.paid} 元 paid — ${d.attestedBy === 'gateway' ? 'signed by the gateway for the legacy system (HMAC-SM3 checked)' : 'signed by the tax bureau'}`)
    done()
  })
  const body = assessmentRequestBody(c, new Date()) as { property: Record<string, unknown>; transaction: Record<string, unknown>; parties: Array<Record<string, unknown>> }
  body.property = { ...body.property, building: '2', unit: '3', room: '302', buildingArea: '112.35', innerArea: '93.10' }
  body.transaction = { ...body.transaction, contractDate: '2026-11-18' }
  body.parties = body.parties.map((p) => (p.side === 'transferor' ? { ...p, acquisition: { method: 'purchase', date: '2021-03-10', cost: '430000.00' } } : p))
  const r = await reg.client.send({ type: 'tax.assessment.request', caseId: c.caseId, unitCode: c.unitCode, body })
  reg.say(`pushed 征税信息 for case ${c.caseId} (no "to": the gateway routes by division 231221 to its tax bureau); receipt ${r.receipt.exchangeId}`)
  await within(paid, 20_000, `case ${c.caseId}: no 完税 from the legacy tax bureau`)
  return c.caseId
}
