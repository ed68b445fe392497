import { digestHex } from '../../crypto/index.ts'
import { signElectronicCertificate, verifyElectronicCertificate, type InboundDelivery } from '../../client/index.ts'
import type { SimulatedAgency } from '../agency.ts'
import { DemoRegister, iso, type Person } from '../register.ts'
import { assessmentRequestBody, runTransfer, within, type TransferCase } from './transfer.ts'
import type { UtilityAccount } from './utilities.ts'

/** The agencies of the day (native partners; the legacy tax bureau is played separately). */
export interface DayCast {
  readonly reg: SimulatedAgency
  readonly tax: SimulatedAgency
  readonly housing: SimulatedAgency
  readonly bank: SimulatedAgency
}

export const BANK_USCC = '91230100MA1B2C3D49'
const OTHER_BANK = { name: '北林示范农村商业银行股份有限公司', uscc: '91231202MA1D5E6F7Y' }

export const SELLER: Person = { name: '刘建国', idNumber: '231202198005123012', phone: '13904551234', address: '绥化市北林区中直路88号1幢2单元1502室' }
export const BUYER: Person = { name: '陈晓梅', idNumber: '231202198508234021', phone: '13604556789', address: '绥化市北林区黄河路16号3单元201室' }
const NEWBUILD_BUYER: Person = { name: '周海涛', idNumber: '231202197801182211', phone: '13704557788', address: '绥化市北林区康庄路9号' }

/** The second-hand sale of the morning: contract filed by housing, tax, a mortgage loan, the register. */
export const SALE: TransferCase = {
  caseId: '231202-2026-000888', unitCode: '231202003004GB00012F00010001', location: '绥化市北林区中直路88号1幢2单元1502室',
  contractNumber: 'CL2312022026008801', price: '1250000.00', seller: SELLER, buyer: BUYER,
  housingContractNumber: 'CL2312022026008801', housingFilingNumber: 'BA2312022026008801',
}
const LOAN = { applicationNo: 'LA2026112400888', amount: '800000.00' }
/** The accounts the buyer asked, on the application, to move with the title (水电气热同步过户). */
export const SALE_UTILITIES: readonly UtilityAccount[] = [{ service: 'water', accountNumber: 'SH-0288801' }, { service: 'power', accountNumber: '0300288801234' }]

/** The register as it stands in the morning. */
export function morningRegister(): DemoRegister {
  const r = new DemoRegister()
  r.add({
    unitCode: SALE.unitCode, location: SALE.location, buildingArea: '98.56',
    certificateNumber: '黑(2019)绥化市不动产权第0031415号', owners: [SELLER], registeredAt: '2019-05-20T10:00:00+08:00',
    mortgages: [{
      mortgagee: OTHER_BANK, mortgageType: 'ordinary', amount: '350000.00', term: { start: '2019-06-01', end: '2039-05-31' },
      rank: 1, certificateNumber: '黑(2019)绥化市不动产证明第0004567号', registeredAt: '2019-06-05T11:00:00+08:00', status: 'current',
    }],
    preregistrations: [], seizures: [],
  })
  r.add({
    unitCode: '231202003004GB00012F00020301', location: '绥化市北林区康庄路9号2幢3单元301室', buildingArea: '98.56',
    certificateNumber: '黑(2024)绥化市不动产权第0029001号', registeredAt: '2024-06-30T10:00:00+08:00',
    owners: [{ name: '绥化示范房地产开发有限公司', idType: '8', idNumber: '91231202MA1D5E6F7Y', phone: '04558888888', address: '绥化市北林区康庄路9号' }],
    mortgages: [], preregistrations: [], seizures: [],
  })
  return r
}

/** The registration centre: answers queries from its register, registers mortgages, enters transfers. */
export function registrationCentre(reg: SimulatedAgency, register: DemoRegister): void {
  reg.onQuery('certificate.verify', async (q) => {
    const b = q.envelope.body as { certificateNumber: string; digest: { value: string } }
    const answer = register.verify(q.envelope.id, b.certificateNumber, b.digest.value, new Date())
    reg.say(`checks certificate ${b.certificateNumber} for ${q.envelope.from} against the certificates it issued: ${String(answer.status)}`)
    return { type: 'certificate.verify.result', body: answer }
  })
  reg.onQuery('mortgage.query', async (q) => {
    reg.say(`answers ${q.envelope.from}'s mortgage query (purpose ${String((q.envelope.body as { purpose: string }).purpose)}) from the register`)
    return { type: 'mortgage.query.result', body: register.answer(q.envelope.unitCode as string, new Date()) }
  })
  reg.on('housing.contract.filed', async (d) => reg.say(`filed contract ${String((d.envelope.body as { contractNumber: string }).contractNumber)} noted for unit ${d.envelope.unitCode}`))
  reg.on('mortgage.registration.request', async (d: InboundDelivery) => {
    const b = d.envelope.body as { applicationNo: string; mortgagee: { name: string; uscc: string }; mortgageType: 'ordinary'; securedAmount: string; term: { start: string; end: string }; scope: string }
    reg.say(`received mortgage registration application ${b.applicationNo} from ${d.envelope.from}; examining…`)
  })
}

/** The morning: the second-hand sale with a mortgage loan, from contract to register. Returns the bank's certificate as it received it. */
export async function secondHandSale(c: DayCast, register: DemoRegister): Promise<{ certificateNumber: string; digest: string }> {
  const { reg, housing, bank } = c
  const now = new Date()
  // 1. 住建: the sale contract is filed (网签备案).
  await housing.client.send({
    type: 'housing.contract.filed', unitCode: SALE.unitCode,
    body: {
      contractNumber: SALE.housingContractNumber, filingNumber: SALE.housingFilingNumber, contractType: 'second-hand-sale', status: 'filed',
      filedAt: iso(now), signedDate: '2026-11-20', price: SALE.price,
      house: {
        houseCode: '2312020030040888', unitCode: SALE.unitCode, location: SALE.location, building: '1', room: '1502', buildingArea: '98.56',
        innerArea: '82.30', sharedArea: '16.26', usage: 'residential', landUse: '城镇住宅用地', landRightType: 'granted', landTermStart: '2010-06-01', landTermEnd: '2080-05-31',
      },
      buyers: [{ name: BUYER.name, idType: '1', idNumber: BUYER.idNumber, phone: BUYER.phone, address: BUYER.address }],
      sellers: [{ name: SELLER.name, idType: '1', idNumber: SELLER.idNumber, phone: SELLER.phone, address: SELLER.address }],
    },
  })
  housing.say(`filed sale contract ${SALE.housingContractNumber} (备案号 ${SALE.housingFilingNumber})`)

  // 2. The bank's pre-loan query for the buyer's loan application.
  const answer = await bank.client.query({
    type: 'mortgage.query', unitCode: SALE.unitCode,
    body: { unitCode: SALE.unitCode, purpose: 'pre-loan', loanApplication: { applicationNo: LOAN.applicationNo, applicants: [{ name: BUYER.name, idType: '1', idNumber: BUYER.idNumber }] } },
  })
  const view = answer.envelope.body as { ownership: { owners: Array<{ name: string; idNumber: string }> }; mortgages: Array<Record<string, unknown>> }
  bank.say(`pre-loan query ${answer.queryId}: owners as the bank may see them: ${view.ownership.owners.map((o) => `${o.name} ${o.idNumber}`).join(', ')} (the seller is not an applicant: masked)`)
  bank.say(`existing mortgages: ${view.mortgages.map((m) => (m.restricted ? `rank ${String(m.rank)}, ${String(m.status)} (another bank's: existence only)` : JSON.stringify(m))).join('; ')}`)

  // 3. The transfer goes to tax; 完税 comes back.
  await runTransfer(reg, SALE)

  // 4. The bank applies for the mortgage registration on the same case (转移+抵押).
  const mortgageRegistered = new Promise<{ certificateNumber: string; digest: string }>((resolve, reject) => {
    bank.on('mortgage.registration.completed', async (d) => {
      const b = d.envelope.body as { certificateNumber: string; document: { digest: { alg: string; value: string } }; electronicCertificate: string }
      bank.say(`received the electronic certificate of registration ${b.certificateNumber} (document ${b.document.digest.alg} ${b.document.digest.value.slice(0, 16)}…)`)
      // Offline: the centre's signature with the key the gateway-signed directory publishes for it.
      const c = await verifyElectronicCertificate(b.electronicCertificate, await bank.client.directory()).catch(reject)
      if (c === undefined) return
      bank.say(`verified the electronic certificate offline: signed by its issuer ${c.issuer} (key from the published directory), ${c.kind} certificate ${c.certificateNumber} for unit ${c.unitCode}, document ${c.document.digest.value === b.document.digest.value ? 'digest matches' : 'digest DIFFERS'}`)
      resolve({ certificateNumber: b.certificateNumber, digest: b.document.digest.value })
    })
  })
  await applyForMortgage(bank, SALE, {
    applicationNo: 'DY2026112400888', loanApplicationNo: LOAN.applicationNo, borrower: BUYER,
    mortgagee: { name: '示范银行绥化分行', uscc: BANK_USCC }, amount: LOAN.amount,
    term: { start: '2026-12-01', end: '2046-11-30' }, scope: '主债权本金、利息、罚息、违约金、损害赔偿金和实现抵押权的费用',
    contractNumber: 'DYHT2026112400888', loanContractNumber: 'JKHT2026112400888',
  })
  bank.say(`applied for the mortgage registration on case ${SALE.caseId}`)

  // 5. The centre registers the mortgage: the electronic certificate goes to the bank (which is
  //    now a participant of the case: it was a pending applicant until answered). The seller's old
  //    mortgage is discharged (注销) with the sale; the buyer's takes its place.
  const unit = register.unit(SALE.unitCode)
  for (const m of unit.mortgages) {
    m.status = 'historical'
    register.retire(m.certificateNumber, 'cancelled', iso(new Date()))
  }
  const certificate = await registerMortgage(reg, register, {
    caseId: SALE.caseId, unitCode: SALE.unitCode, businessNumber: '2026112400889', mortgagee: { name: '示范银行绥化分行', uscc: BANK_USCC },
    amount: LOAN.amount, term: { start: '2026-12-01', end: '2046-11-30' }, scope: '主债权本金、利息、罚息、违约金、损害赔偿金和实现抵押权的费用',
  })
  reg.say(`registered the mortgage: certificate ${certificate}, with its electronic certificate signed by the centre (电子证照)`)
  const held = await within(mortgageRegistered, 15_000, 'the bank did not receive its certificate')

  // 6. 登簿: the transfer is entered; everyone on the case — the bank included — hears of it.
  const title = await enterTransfer(reg, register, { caseId: SALE.caseId, unitCode: SALE.unitCode, businessNumber: '2026112400888', buyer: BUYER, utilities: SALE_UTILITIES })
  reg.say(`entered the transfer in the register (登簿): title ${title}; registration.completed fans out to everyone on the case`)
  return held
}

/** What a mortgage secures, as the lender applies for it and as the centre registers it. */
export interface MortgageTerms {
  readonly mortgagee: { readonly name: string; readonly uscc: string }
  readonly amount: string
  readonly term: { readonly start: string; readonly end: string }
  readonly scope: string
}

/** A lender's mortgage application (抵押登记申请): the borrower mortgages and owes; numbers are the lender's. */
export interface MortgageApplication extends MortgageTerms {
  readonly applicationNo: string
  readonly loanApplicationNo: string
  readonly borrower: Person
  readonly contractNumber: string
  readonly loanContractNumber: string
}

/** A lender (a bank or a fund) applies for the mortgage registration on a case, as it declared the loan. */
export async function applyForMortgage(lender: SimulatedAgency, c: { caseId: string; unitCode: string; location: string }, a: MortgageApplication): Promise<void> {
  const { borrower } = a
  await lender.client.send({
    type: 'mortgage.registration.request', caseId: c.caseId, unitCode: c.unitCode,
    body: {
      applicationNo: a.applicationNo, registrationType: '100', loanApplicationNo: a.loanApplicationNo,
      property: { unitCode: c.unitCode, location: c.location },
      mortgagors: [{ name: borrower.name, idType: '1', idNumber: borrower.idNumber, phone: borrower.phone }],
      debtors: [{ name: borrower.name, idType: '1', idNumber: borrower.idNumber }],
      mortgagee: a.mortgagee, mortgageType: 'ordinary', securedAmount: a.amount, term: a.term, scope: a.scope,
      contractNumber: a.contractNumber, loanContractNumber: a.loanContractNumber, submittedAt: iso(new Date()),
    },
  })
}

/** A mortgage the centre registers on a case (抵押登记). */
export interface MortgageEntry extends MortgageTerms {
  readonly caseId: string
  readonly unitCode: string
  readonly businessNumber: string
}

/**
 * The centre enters a mortgage in the register and sends the lender (a bank or a fund) its
 * certificate of registration: the document's digest, and the electronic certificate the centre
 * signs over it (电子证照), which it also records as issued for later checks. Returns the number.
 */
export async function registerMortgage(reg: SimulatedAgency, register: DemoRegister, m: MortgageEntry): Promise<string> {
  const certificate = register.nextCertificate('不动产证明')
  const digest = { alg: 'SM3' as const, value: digestHex('national', Buffer.from(`电子不动产登记证明 ${certificate} ${m.unitCode}`, 'utf8')) }
  register.issue(certificate, digest.value)
  register.unit(m.unitCode).mortgages.push({ mortgagee: m.mortgagee, mortgageType: 'ordinary', amount: m.amount, term: m.term, rank: 1, certificateNumber: certificate, registeredAt: iso(new Date()), status: 'current' })
  const electronicCertificate = await signElectronicCertificate({ certificateNumber: certificate, kind: 'mortgage', unitCode: m.unitCode, issuedAt: iso(new Date()), document: { digest } }, reg.options.signingKey)
  await reg.client.send({
    type: 'mortgage.registration.completed', caseId: m.caseId, unitCode: m.unitCode,
    body: {
      certificateNumber: certificate, businessNumber: m.businessNumber, registeredAt: iso(new Date()),
      registeringOffice: { name: '绥化市北林区不动产登记中心', division: '231202' },
      mortgage: { mortgagee: m.mortgagee, mortgageType: 'ordinary', securedAmount: m.amount, term: m.term, rank: 1, scope: m.scope },
      document: { digest, mediaType: 'application/ofd' },
      electronicCertificate,
    },
  })
  return certificate
}

/**
 * 登簿: the centre enters a transfer to `buyer` in the register (a new title; the old one is
 * superseded) and tells everyone on the case. Returns the new title's number.
 */
export async function enterTransfer(reg: SimulatedAgency, register: DemoRegister, t: { caseId: string; unitCode: string; businessNumber: string; buyer: Person; utilities?: readonly UtilityAccount[] }): Promise<string> {
  const unit = register.unit(t.unitCode)
  const title = register.nextCertificate('不动产权')
  register.retire(unit.certificateNumber, 'superseded', iso(new Date()))
  unit.certificateNumber = title
  unit.owners = [t.buyer]
  unit.registeredAt = iso(new Date())
  await reg.client.send({
    type: 'registration.completed', caseId: t.caseId, unitCode: t.unitCode,
    body: {
      registrationType: '200', businessNumber: t.businessNumber, certificateNumber: title,
      owners: [{ name: t.buyer.name, idType: '1', idNumber: t.buyer.idNumber, share: '1' }], coOwnership: 'sole',
      registeredAt: unit.registeredAt, registerBookRef: `${t.unitCode.slice(0, 19)}/${t.unitCode.slice(19)}/${unit.mortgages.length + 1}`,
      // The applicants' opt-in (水电气热同步过户): the services only; each company gets its account in its own notice.
      ...(t.utilities !== undefined && t.utilities.length > 0 ? { utilityServices: t.utilities.map((u) => u.service) } : {}),
    },
  })
  return title
}

/** 电子证照查验: the bank checks the certificate it holds with the centre that issued it, then a copy whose bytes changed. */
export async function certificateCheck(bank: SimulatedAgency, issuer: string, held: { certificateNumber: string; digest: string }): Promise<void> {
  const check = async (digest: string): Promise<string> => {
    const a = await bank.client.query({ type: 'certificate.verify', to: issuer, body: { certificateNumber: held.certificateNumber, digest: { alg: 'SM3', value: digest }, purpose: 'loan-review' } })
    return String((a.envelope.body as { status: string }).status)
  }
  bank.say(`certificate check (电子证照查验) of ${held.certificateNumber} with its issuer ${issuer}: ${await check(held.digest)}`)
  const altered = `${held.digest.slice(0, 63)}${held.digest.endsWith('0') ? '1' : '0'}`
  bank.say(`the same number with a document whose bytes changed: ${await check(altered)} (the issuer knows no such certificate)`)
}

/** The afternoon: a new-build sale's pre-registration (预告登记) pushed to the bank and the tax bureau. */
export async function preRegistration(c: DayCast): Promise<string> {
  const { reg, bank } = c
  const caseId = '231202-2026-000889'
  const unitCode = '231202003004GB00012F00020301'
  const sale: TransferCase = {
    caseId, unitCode, location: '绥化市北林区康庄路9号2幢3单元301室', contractNumber: 'YS2312022026000301', price: '680000.00',
    seller: { name: '绥化示范房地产开发有限公司', idNumber: '', phone: '04558888888' }, buyer: NEWBUILD_BUYER,
  }
  // The deed tax of a new-build purchase is assessed first (the tax bureau joins the case) …
  const body = assessmentRequestBody(sale, new Date()) as { case: Record<string, unknown>; parties: Array<Record<string, unknown>> }
  body.case = { ...body.case, registrationType: '700', businessType: 'new-build-sale' }
  body.parties = [
    { side: 'transferor', name: '绥化示范房地产开发有限公司', idType: '8', idNumber: '91231202MA1D5E6F7Y', share: '1', acquisition: { method: 'self-built', date: '2024-06-30', cost: '420000.00' } },
    { side: 'transferee', name: NEWBUILD_BUYER.name, idType: '1', idNumber: NEWBUILD_BUYER.idNumber, phone: NEWBUILD_BUYER.phone, share: '1', coOwnership: 'sole', homesHeld: 2, maritalStatus: '20' },
  ]
  let paid: () => void = () => {}
  const taxed = new Promise<void>((r) => { paid = r })
  reg.on('tax.payment.completed', async (d) => {
    if (d.envelope.caseId === caseId) paid()
  })
  await reg.client.send({ type: 'tax.assessment.request', caseId, unitCode, body })
  await within(taxed, 15_000, 'no 完税 for the new-build sale')
  // … the bank's pre-loan query declares the buyer's loan for this unit (the developer owns it) …
  const answer = await bank.client.query({
    type: 'mortgage.query', unitCode,
    body: { unitCode, purpose: 'pre-loan', loanApplication: { applicationNo: 'LA2026112400889', applicants: [{ name: NEWBUILD_BUYER.name, idType: '1', idNumber: NEWBUILD_BUYER.idNumber }] } },
  })
  const owners = (answer.envelope.body as { ownership: { owners: Array<{ name: string }> } }).ownership.owners
  bank.say(`pre-loan query for the new-build unit: owner ${owners.map((o) => o.name).join(', ')} (an organisation: not masked)`)
  // … and its pre-mortgage (预抵押) application joins the case, pending until the centre answers.
  await bank.client.send({
    type: 'mortgage.registration.request', caseId, unitCode,
    body: {
      applicationNo: 'DY2026112400889', registrationType: '100', loanApplicationNo: 'LA2026112400889',
      property: { unitCode, location: sale.location },
      mortgagors: [{ name: NEWBUILD_BUYER.name, idType: '1', idNumber: NEWBUILD_BUYER.idNumber, phone: NEWBUILD_BUYER.phone }],
      debtors: [{ name: NEWBUILD_BUYER.name, idType: '1', idNumber: NEWBUILD_BUYER.idNumber }],
      mortgagee: { name: '示范银行绥化分行', uscc: BANK_USCC }, mortgageType: 'ordinary', securedAmount: '400000.00',
      term: { start: '2026-12-01', end: '2051-11-30' }, scope: '主债权本金、利息、罚息、违约金和实现抵押权的费用',
      contractNumber: 'DYHT2026112400889', loanContractNumber: 'JKHT2026112400889', submittedAt: iso(new Date()),
    },
  })
  const premortgaged = new Promise<void>((r) => bank.on('mortgage.registration.completed', async (d) => {
    bank.say(`received the pre-mortgage certificate ${String((d.envelope.body as { certificateNumber: string }).certificateNumber)} for case ${d.envelope.caseId}`)
    r()
  }))
  await reg.client.send({
    type: 'mortgage.registration.completed', caseId, unitCode,
    body: {
      certificateNumber: '黑(2026)绥化市不动产证明第0001298号', businessNumber: '2026112400891', registeredAt: iso(new Date()),
      registeringOffice: { name: '绥化市北林区不动产登记中心', division: '231202' },
      mortgage: {
        mortgagee: { name: '示范银行绥化分行', uscc: BANK_USCC }, mortgageType: 'ordinary', securedAmount: '400000.00',
        term: { start: '2026-12-01', end: '2051-11-30' }, rank: 1, scope: '主债权本金、利息、罚息、违约金和实现抵押权的费用',
      },
      document: { digest: { alg: 'SM3', value: digestHex('national', Buffer.from('预抵押登记证明 0001298', 'utf8')) }, mediaType: 'application/ofd' },
    },
  })
  reg.say(`registered the pre-mortgage (预抵押) of case ${caseId}`)
  await within(premortgaged, 15_000, 'the bank did not receive its pre-mortgage certificate')
  const heard = new Promise<void>((r) => bank.on('preregistration.completed', async (d) => {
    bank.say(`received the pre-registration ${String((d.envelope.body as { certificateNumber: string }).certificateNumber)} for case ${d.envelope.caseId}`)
    r()
  }))
  await reg.client.send({
    type: 'preregistration.completed', caseId, unitCode,
    body: {
      kind: 'new-build-sale', certificateNumber: '黑(2026)绥化市不动产证明第0001299号', businessNumber: '2026112400890', registeredAt: iso(new Date()),
      rightHolders: [{ name: NEWBUILD_BUYER.name, idType: '1', idNumber: NEWBUILD_BUYER.idNumber }],
      obligors: [{ name: '绥化示范房地产开发有限公司', idType: '8', idNumber: '91231202MA1D5E6F7Y' }],
      location: sale.location, plannedUsage: 'residential', buildingArea: '98.56', price: sale.price,
    },
  })
  reg.say(`pushed the pre-registration of case ${caseId} to the bank and the tax bureau of the case`)
  await within(heard, 15_000, 'the bank did not receive the pre-registration')
  return caseId
}
