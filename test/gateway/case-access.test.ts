import t from 'tap'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'
import { preLoanQuery } from '../helpers/flows.ts'

// Who may join a case (review finding: naming a case id and its unit code used to be enough to
// join any case, read it and receive the owners' data in its fan-out). A case belongs to the
// registration centre that opened it; a bank's mortgage application joins it as pending until
// the centre answers; anyone else naming it gets the answer a case that does not exist gets.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const HOUSING = 'HOUSING:231200'
const OTHER_HOUSING = 'HOUSING:231221'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
const INTRUDER = 'BANK:91350100M000100Y43'
const w = await World.start({
  label: 'caseacc',
  partners: [
    { id: REG, send: ['tax.assessment.request', 'registration.completed', 'mortgage.registration.completed'], receive: ['tax.payment.completed', 'mortgage.registration.request', 'housing.contract.filed', 'mortgage.query'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request', 'registration.completed'] },
    { id: HOUSING, divisions: ['231200'], send: ['housing.contract.filed'], receive: ['registration.completed'] },
    { id: OTHER_HOUSING, divisions: ['231221'], send: ['housing.contract.filed'], receive: ['registration.completed'] },
    { id: BANK, send: ['mortgage.registration.request', 'mortgage.query'], receive: ['mortgage.registration.completed', 'registration.completed'] },
    { id: INTRUDER, send: ['mortgage.registration.request'], receive: ['registration.completed'] },
  ],
})
t.teardown(() => w.close())
const caseId = '231202-2026-000123'
const code = (e: unknown): string | undefined => (e as { problem?: { code?: string } }).problem?.code
const mortgage = validFixture('mortgage.registration.request')

t.test('only a registration centre opens a case', async (t) => {
  const e = await w.client(BANK).send({ ...mortgage.envelope, caseId: '231202-2026-000999' }).catch(code)
  t.equal(e, 'TB_ERR_CASE_NOT_FOUND', 'a bank cannot open (or squat) a case id')
  const h = validFixture('housing.contract.filed')
  const e2 = await w.client(HOUSING).send({ ...h.envelope, caseId: '231202-2026-000998' }).catch(code)
  t.equal(e2, 'TB_ERR_CASE_NOT_FOUND', 'nor can a housing bureau')
  t.same((await w.db.query('SELECT case_id FROM cases')).rows, [], 'no case was created')
})

t.test('the centre opens the case; another bureau cannot take over its filed contract', async (t) => {
  const h = validFixture('housing.contract.filed')
  await w.client(HOUSING).send({ ...h.envelope })
  // Another city's bureau cannot file for this unit at all (issue 7 item 2; see case-ownership.test.ts).
  t.equal(await w.client(OTHER_HOUSING).send({ ...h.envelope, id: undefined }).catch(code), 'TB_ERR_ROUTE_FORBIDDEN')
  await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope })
  await w.partner(TAX).server.waitFor(1)
  const c = (await w.client(REG).getCase(caseId)).json as { participants: string[] }
  t.same(c.participants, [HOUSING, REG, TAX], 'the bureau responsible for the unit is linked')
})

t.test('an unrelated party naming the case learns nothing and joins nothing', async (t) => {
  const before = await w.counts()
  const right = await w.client(INTRUDER).send({ ...mortgage.envelope, body: { ...bodyOf(mortgage), mortgagee: { name: '另一银行', uscc: '91350100M000100Y43' } } }).catch(code)
  t.equal(right, 'TB_ERR_CASE_NOT_FOUND')
  // Wrong unit code: the very same answer (it used to be TB_ERR_CASE_MISMATCH, which confirmed the case).
  const b = bodyOf(mortgage) as { property: { unitCode: string } }
  b.property.unitCode = '231202003004GB00012F00010002'
  const wrong = await w.client(INTRUDER).send({ ...mortgage.envelope, unitCode: '231202003004GB00012F00010002', body: b }).catch(code)
  t.equal(wrong, 'TB_ERR_CASE_NOT_FOUND', 'the same answer: no probing')
  const tax = await w.client(TAX).send({ ...validFixture('tax.payment.completed').envelope, caseId: '231202-2026-000555' }).catch(code)
  t.equal(tax, 'TB_ERR_CASE_NOT_FOUND')
  t.same(await w.counts(), before, 'nothing stored')
  t.equal((await w.client(INTRUDER).getCase(caseId)).status, 404)
})

t.test('a bank applies under its declared loan: pending until the centre answers, then a participant', async (t) => {
  t.equal(await w.client(BANK).send({ ...mortgage.envelope }).catch(code), 'TB_ERR_CASE_NOT_FOUND', 'not before its pre-loan query declared the loan')
  await preLoanQuery(w, BANK, REG)
  await w.client(BANK).send({ ...mortgage.envelope })
  await w.partner(REG).server.waitFor(2)
  const asReg = (await w.client(REG).getCase(caseId)).json as { participants: string[]; pendingParticipants: string[] }
  t.same(asReg.pendingParticipants, [BANK], 'pending')
  t.notOk(asReg.participants.includes(BANK))
  t.equal((await w.client(BANK).getCase(caseId)).status, 404, 'a pending applicant does not read the case')
  const mine = await w.db.query<{ id: string }>(`SELECT id FROM exchanges WHERE sender = $1`, [BANK])
  t.equal((await w.client(BANK).getExchange(mine.rows[0]?.id ?? '')).status, 200, 'but it sees its own exchange')

  // Fan-out before the answer does not reach the pending bank.
  const reg1 = await w.client(REG).send({ ...validFixture('registration.completed').envelope })
  await w.deliveryStatus()
  const ex1 = (await w.client(REG).getExchange(reg1.exchangeId)).json as { deliveries: Array<{ recipient: string }> }
  t.same(ex1.deliveries.map((d) => d.recipient).sort(), [HOUSING, TAX], 'registration.completed skips the pending applicant')

  await w.client(REG).send({ ...validFixture('mortgage.registration.completed').envelope })
  await w.partner(BANK).server.waitFor(1)
  t.equal((await w.client(BANK).getCase(caseId)).status, 200, 'answered: now a participant')
  const c = (await w.client(REG).getCase(caseId)).json as { participants: string[]; pendingParticipants: string[] }
  t.same([c.participants, c.pendingParticipants], [[BANK, HOUSING, REG, TAX], []])
})

t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
