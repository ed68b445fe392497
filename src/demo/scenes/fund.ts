import type { InboundDelivery } from '../../client/index.ts'
import type { SimulatedAgency } from '../agency.ts'
import type { DemoRegister, Person } from '../register.ts'
import { applyForMortgage, enterTransfer, registerMortgage } from './day.ts'
import { runTransfer, within, type TransferCase } from './transfer.ts'

/** The provident fund centre (住房公积金管理中心): a lender like a bank. */
export const FUND_USCC = '12231200MB07654323'
const FUND_NAME = '绥化市住房公积金管理中心'

const SELLER: Person = { name: '吴国庆', idNumber: '231202196811234519', phone: '13904557101', address: '绥化市北林区康庄路9号4幢8单元801室' }
const BUYER: Person = { name: '郑雪', idNumber: '231202199307082628', phone: '13604557102', address: '绥化市北林区黄河路36号' }

/** A second-hand sale paid with a provident-fund loan (公积金贷款). */
export const FUND_SALE: TransferCase = {
  caseId: '231202-2026-000890', unitCode: '231202003004GB00012F00040801', location: SELLER.address,
  contractNumber: 'CL2312022026008901', price: '560000.00', seller: SELLER, buyer: BUYER,
}
const LOAN = { applicationNo: 'GJJ2026112400890', amount: '400000.00' }

/** The unit on the morning's register. */
export function addFundSaleUnit(register: DemoRegister): void {
  register.add({
    unitCode: FUND_SALE.unitCode, location: FUND_SALE.location, buildingArea: '98.56', certificateNumber: '黑(2018)绥化市不动产权第0017788号',
    owners: [SELLER], registeredAt: '2018-09-03T10:00:00+08:00', mortgages: [], preregistrations: [], seizures: [],
  })
}

/**
 * The fund lends like a bank, under the same rules: its pre-loan query declares the loan and sees
 * the seller masked; its mortgage application joins the case; it gets the electronic certificate
 * and hears of the register entry. Returns the case id.
 */
export async function providentFundLoan(reg: SimulatedAgency, fund: SimulatedAgency, register: DemoRegister): Promise<string> {
  const c = FUND_SALE
  await runTransfer(reg, c)

  const answer = await fund.client.query({
    type: 'mortgage.query', unitCode: c.unitCode,
    body: { unitCode: c.unitCode, purpose: 'pre-loan', loanApplication: { applicationNo: LOAN.applicationNo, applicants: [{ name: BUYER.name, idType: '1', idNumber: BUYER.idNumber }] } },
  })
  const owners = (answer.envelope.body as { ownership: { owners: Array<{ name: string; idNumber: string }> } }).ownership.owners
  fund.say(`pre-loan query for provident-fund loan ${LOAN.applicationNo}: owners as a lender may see them: ${owners.map((o) => `${o.name} ${o.idNumber}`).join(', ')} (the seller is not an applicant: masked, as for a bank)`)

  const certified = new Promise<InboundDelivery>((r) => fund.on('mortgage.registration.completed', async (d) => r(d)))
  const entered = new Promise<InboundDelivery>((r) => fund.on('registration.completed', async (d) => r(d)))
  const mortgagee = { name: FUND_NAME, uscc: FUND_USCC }
  const term = { start: '2026-12-01', end: '2051-11-30' }
  const scope = '公积金贷款本金、利息、罚息和实现抵押权的费用'
  await applyForMortgage(fund, c, {
    applicationNo: 'DY2026112400890', loanApplicationNo: LOAN.applicationNo, borrower: BUYER, mortgagee, amount: LOAN.amount, term, scope,
    contractNumber: 'GJJDY2026112400890', loanContractNumber: 'GJJJK2026112400890',
  })
  fund.say(`applied for the mortgage registration on case ${c.caseId} (it joins the case under its declared loan)`)

  await registerMortgage(reg, register, { caseId: c.caseId, unitCode: c.unitCode, businessNumber: '2026112400892', mortgagee, amount: LOAN.amount, term, scope })
  const cert = await within(certified, 15_000, 'the fund did not receive its certificate')
  fund.say(`received the electronic certificate of registration ${String((cert.envelope.body as { certificateNumber: string }).certificateNumber)} for case ${c.caseId}`)

  await enterTransfer(reg, register, { caseId: c.caseId, unitCode: c.unitCode, businessNumber: '2026112400893', buyer: BUYER })
  await within(entered, 15_000, 'the fund did not hear of the register entry')
  fund.say(`heard the transfer of case ${c.caseId} entered in the register (登簿): its mortgage stands on the new title`)
  return c.caseId
}
