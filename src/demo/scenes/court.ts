import type { InboundDelivery } from '../../client/index.ts'
import type { SimulatedAgency } from '../agency.ts'
import { iso, type DemoRegister, type Person } from '../register.ts'
import { within } from './transfer.ts'

/** The unit the court seizes: a flat whose owner lost a debt case (made-up people). */
export const DEBTOR: Person = { name: '王建军', idNumber: '231202197206113019', phone: '13904557001', address: '绥化市北林区康庄路9号3幢5单元502室' }
const BUYER_HOPEFUL: Person = { name: '何晓东', idNumber: '231202199003154522', phone: '13604557002', address: '绥化市北林区黄河路20号' }
export const SEIZED = {
  caseId: '231202-2026-J000118', unitCode: '231202003004GB00012F00030502', location: '绥化市北林区康庄路9号3幢5单元502室',
  certificateNumber: '黑(2021)绥化市不动产权第0024680号',
  court: '绥化市北林区人民法院', notice: '(2026)黑1202执118号', ruling: '(2026)黑1202执118号之一',
  releaseNotice: '(2026)黑1202执118号之二', releaseRuling: '(2026)黑1202执118号之三',
}

/** The unit on the morning's register. */
export function addSeizedUnit(register: DemoRegister): void {
  register.add({
    unitCode: SEIZED.unitCode, location: SEIZED.location, buildingArea: '86.20', certificateNumber: SEIZED.certificateNumber,
    owners: [DEBTOR], registeredAt: '2021-08-16T10:00:00+08:00', mortgages: [], preregistrations: [], seizures: [],
  })
}

/**
 * The registration centre's side of 在线查封/解封: it enters a seizure in the register (查封登记)
 * and lifts it on the court's release (解封登记), answering the court each time.
 */
export function seizureDesk(reg: SimulatedAgency, register: DemoRegister): void {
  let serial = 518
  reg.on('judicial.seizure.request', async (d: InboundDelivery) => {
    const b = d.envelope.body as { courtName: string; rulingNumber: string; noticeNumber: string; kind: 'seizure' | 'pre-seizure' | 'waiting'; rank?: number; period: { from: string; to: string } }
    const unit = register.unit(d.envelope.unitCode as string)
    const registrationNumber = `20261124${String(serial++).padStart(5, '0')}`
    const registeredAt = iso(new Date())
    unit.seizures.push({ court: b.courtName, documentNumber: b.rulingNumber, notice: b.noticeNumber, registrationNumber, kind: b.kind, from: b.period.from, to: b.period.to, registeredAt })
    reg.say(`entered ${b.courtName}'s seizure ${b.rulingNumber} of unit ${d.envelope.unitCode} in the register (查封登记, 业务号 ${registrationNumber})`)
    await reg.client.send({
      type: 'judicial.seizure.completed', caseId: d.envelope.caseId as string, unitCode: d.envelope.unitCode as string,
      body: { registrationNumber, registeredAt, kind: b.kind, ...(b.rank !== undefined ? { rank: b.rank } : {}), period: b.period },
    })
  })
  reg.on('judicial.release.request', async (d: InboundDelivery) => {
    const b = d.envelope.body as { courtName: string; rulingNumber: string; seizureNoticeNumber: string }
    const unit = register.unit(d.envelope.unitCode as string)
    const i = unit.seizures.findIndex((s) => s.notice === b.seizureNoticeNumber)
    const caseId = d.envelope.caseId as string
    const unitCode = d.envelope.unitCode as string
    if (i < 0) {
      await reg.client.send({ type: 'judicial.release.rejected', caseId, unitCode, body: { reasons: [{ code: 'JF001', text: '登记簿上没有该协助执行通知书的查封' }], rejectedAt: iso(new Date()) } })
      return
    }
    const [seizure] = unit.seizures.splice(i, 1)
    const registrationNumber = `20261124${String(serial++).padStart(5, '0')}`
    reg.say(`lifted the seizure ${seizure?.documentNumber ?? ''} (解封登记 ${b.rulingNumber}, 业务号 ${registrationNumber})`)
    await reg.client.send({
      type: 'judicial.release.completed', caseId, unitCode,
      body: { registrationNumber, registeredAt: iso(new Date()), seizureNoticeNumber: b.seizureNoticeNumber, seizureRegistrationNumber: seizure?.registrationNumber ?? '' },
    })
  })
}

/**
 * A court seizes a unit online, a bank's pre-loan query on it shows the seizure, the court
 * releases it, and the bank's next query shows it free. Returns the court's case id.
 */
export async function seizureAndRelease(court: SimulatedAgency, bank: SimulatedAgency): Promise<string> {
  const s = SEIZED
  const answered = (type: string): Promise<InboundDelivery> => new Promise((r) => court.on(type, async (d) => r(d)))
  const seized = answered('judicial.seizure.completed')
  const property = { unitCode: s.unitCode, certificateNumber: s.certificateNumber, location: s.location }
  const officers = [{ name: '钱法官', workCertificateNumber: '2312020118' }, { name: '孙书记员', workCertificateNumber: '2312020119' }]
  const r = await court.client.send({
    type: 'judicial.seizure.request', caseId: s.caseId, unitCode: s.unitCode,
    body: {
      courtName: s.court, noticeNumber: s.notice, rulingNumber: s.ruling, kind: 'seizure', period: { from: '2026-11-24', to: '2029-11-23' },
      property, respondents: [{ name: DEBTOR.name, idType: '1', idNumber: DEBTOR.idNumber }], officers, requestedAt: iso(new Date()),
    },
  })
  court.say(`sent the seizure ${s.ruling} of unit ${s.unitCode} on its case ${s.caseId} (no "to": routed to the registration centre of division ${s.unitCode.slice(0, 6)}); receipt ${r.receipt.exchangeId}`)
  const done = await within(seized, 15_000, 'the court heard nothing of its seizure')
  const step = ((await court.client.getCase(s.caseId)).json as { steps: Array<{ kind: string; status: string; dueAt: string | null; overdue: boolean }> }).steps.find((x) => x.kind === 'seizure')
  court.say(`seizure registered: 业务号 ${String((done.envelope.body as { registrationNumber: string }).registrationNumber)}; its step ${step?.status ?? '?'}, due end of ${step?.dueAt ? `${iso(new Date(Date.parse(step.dueAt) - 1)).slice(0, 10)} (CST)` : '-'} (1 working day), ${step?.overdue === true ? 'overdue' : 'in time'}`)

  const query = async (): Promise<Array<{ court: string; documentNumber: string; kind: string }>> => {
    const a = await bank.client.query({
      type: 'mortgage.query', unitCode: s.unitCode,
      body: { unitCode: s.unitCode, purpose: 'pre-loan', loanApplication: { applicationNo: 'LA2026112400118', applicants: [{ name: BUYER_HOPEFUL.name, idType: '1', idNumber: BUYER_HOPEFUL.idNumber }] } },
    })
    return (a.envelope.body as { seizures: Array<{ court: string; documentNumber: string; kind: string }> }).seizures
  }
  const before = await query()
  bank.say(`pre-loan query on unit ${s.unitCode}: ${before.length === 0 ? 'no seizure' : `SEIZED — ${before.map((x) => `${x.kind} by ${x.court}, ${x.documentNumber}`).join('; ')}`}: the loan waits`)

  const released = answered('judicial.release.completed')
  await court.client.send({
    type: 'judicial.release.request', caseId: s.caseId, unitCode: s.unitCode,
    body: {
      courtName: s.court, noticeNumber: s.releaseNotice, rulingNumber: s.releaseRuling, seizureNoticeNumber: s.notice,
      seizureRegistrationNumber: String((done.envelope.body as { registrationNumber: string }).registrationNumber),
      property, officers, requestedAt: iso(new Date()),
    },
  })
  court.say(`the debt is paid: sent the release ${s.releaseRuling} on the same case`)
  await within(released, 15_000, 'the court heard nothing of its release')
  court.say('release registered')
  const after = await query()
  bank.say(`pre-loan query again: ${after.length === 0 ? 'no seizure any more' : `still seized (${after.length})`}`)
  return s.caseId
}
