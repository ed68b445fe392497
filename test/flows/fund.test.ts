import t from 'tap'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { preLoanQuery } from '../helpers/flows.ts'
import { World } from '../helpers/world.ts'

// Issue 10 §6 (公积金): the provident fund centre is a lender like a bank: mortgage queries under
// the same policy (a declared loan application, owners who are not applicants masked), mortgage
// registration on the case, the electronic certificate, and the register entry's fan-out.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const FUND = 'FUND:12231200MB07654323'
const LENDER_TYPES = { send: ['mortgage.query', 'mortgage.registration.request'], receive: ['mortgage.registration.completed', 'mortgage.registration.rejected', 'preregistration.completed', 'registration.completed'] }

for (const suite of ['national', 'international'] as const) {
  t.test(`a provident fund centre lends like a bank (${suite})`, async (t) => {
    const w = await World.start({
      label: `fund${suite.slice(0, 3)}`,
      partners: [
        { id: REG, suite, send: ['tax.assessment.request', 'mortgage.registration.completed', 'mortgage.registration.rejected', 'registration.completed'], receive: ['mortgage.query', 'mortgage.registration.request', 'tax.payment.completed'] },
        { id: TAX, suite, send: [], receive: ['tax.assessment.request', 'registration.completed'] },
        { id: FUND, suite, ...LENDER_TYPES },
      ],
    })
    t.teardown(() => w.close())
    const request = validFixture('tax.assessment.request')
    const caseId = request.envelope.caseId as string
    const unitCode = request.envelope.unitCode as string
    await w.client(REG).send({ ...request.envelope })
    const mortgage = validFixture('mortgage.registration.request')
    const fundMortgage = { ...mortgage.envelope, body: { ...bodyOf(mortgage), mortgagee: { name: '绥化市住房公积金管理中心', uscc: '12231200MB07654323' } } }

    t.test('without a declared loan it cannot join the case', async (t) => {
      const c = w.client(FUND)
      const res = await c.http('POST', '/v1/messages', await c.encrypt(await c.sign(c.envelope(fundMortgage))))
      t.same([res.status, (res.json as { code: string }).code], [409, 'TB_ERR_CASE_NOT_FOUND'])
      t.equal((await c.getCase(caseId)).status, 404, 'nor read it')
    })

    t.test('its pre-loan query is minimised as a bank\'s', async (t) => {
      const result = validFixture('mortgage.query.result')
      w.partner(REG).server.onQuery(async (q) => ({ type: 'mortgage.query.result', body: { ...bodyOf(result), unitCode: q.envelope.unitCode as string } }))
      const q = validFixture('mortgage.query')
      const a = await w.client(FUND).query({ ...q.envelope })
      const view = bodyOf(validFixture('mortgage.query.result', (f) => f.file.includes('bank-view')))
      const got = a.envelope.body as { ownership: unknown; mortgages: Array<{ restricted?: boolean }> }
      t.same(got.ownership, view.ownership, 'owners who are not the loan\'s applicants are masked')
      t.ok(got.mortgages.every((m) => m.restricted === true), 'a bank\'s mortgage reaches the fund as existence only')
      const queries = (await w.client(FUND).http('GET', '/v1/queries')).json as { queries: Array<{ applicationNo: string; outcome: string }> }
      t.same(queries.queries.map((x) => [x.applicationNo, x.outcome]), [[(bodyOf(q).loanApplication as { applicationNo: string }).applicationNo, 'answered']], 'recorded like a bank\'s')
    })

    t.test('under its declared loan it applies, and gets the certificate and the register entry', async (t) => {
      await preLoanQuery(w, FUND, REG, unitCode)
      const r = await w.client(FUND).send(fundMortgage)
      t.equal(r.status, 202)
      await w.partner(REG).server.waitFor(1)
      t.equal(w.partner(REG).server.ofType('mortgage.registration.request')[0]?.envelope.from, FUND)
      await w.client(REG).send({ ...validFixture('mortgage.registration.completed').envelope })
      await w.partner(FUND).server.waitFor(1)
      t.equal(w.partner(FUND).server.ofType('mortgage.registration.completed').length, 1)
      await w.client(REG).send({ ...validFixture('registration.completed').envelope })
      await w.partner(FUND).server.waitFor(2)
      t.equal(w.partner(FUND).server.ofType('registration.completed').length, 1, 'the register entry fans out to the fund on the case')
      const c = (await w.client(FUND).getCase(caseId)).json as { participants: string[]; steps: Array<{ kind: string; status: string }> }
      t.ok(c.participants.includes(FUND))
      t.same(c.steps.map((s) => [s.kind, s.status]), [['tax', 'open'], ['mortgage', 'completed']])
    })

    t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
  })
}
