import t from 'tap'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { preLoanQuery } from '../helpers/flows.ts'
import { World } from '../helpers/world.ts'
import { divisionCovers, responsibleFor } from '../../src/core/roles.ts'

// Issue 7, items 1–3: authorisation that rested on what a participant declares about itself.
// Each test performs the attack a reviewer confirmed, through the HTTP API, and shows the refusal.
const REG = 'REG:231202'
const REG_WK = 'REG:231221'
const TAX = 'TAX:231202'
const HOUSING = 'HOUSING:231200'
const HOUSING_WK = 'HOUSING:231221'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
const INTRUDER = 'BANK:91350100M000100Y43'
const REG_SENDS = ['tax.assessment.request', 'registration.completed', 'mortgage.registration.completed', 'mortgage.registration.rejected']
const REG_GETS = ['tax.payment.completed', 'mortgage.registration.request', 'housing.contract.filed', 'mortgage.query']
const BANK_GETS = ['mortgage.registration.completed', 'mortgage.registration.rejected', 'registration.completed']
const w = await World.start({
  label: 'caseown',
  partners: [
    { id: REG, divisions: ['231202'], send: REG_SENDS, receive: REG_GETS },
    { id: REG_WK, divisions: ['231221'], send: REG_SENDS, receive: REG_GETS },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request', 'registration.completed'] },
    { id: 'TAX:231221', send: [], receive: ['tax.assessment.request'] },
    { id: HOUSING, divisions: ['231200'], send: ['housing.contract.filed'], receive: ['registration.completed'] },
    { id: HOUSING_WK, divisions: ['231221'], send: ['housing.contract.filed'], receive: ['registration.completed'] },
    { id: BANK, send: ['mortgage.registration.request', 'mortgage.query'], receive: BANK_GETS },
    { id: INTRUDER, send: ['mortgage.registration.request', 'mortgage.query'], receive: BANK_GETS },
  ],
})
t.teardown(() => w.close())
const caseId = '231202-2026-000123'
const unit = '231202003004GB00012F00010001'
const problem = (e: unknown): { status?: number; code?: string } => {
  const p = (e as { status?: number; problem?: { code?: string } })
  return { status: p.status, code: p.problem?.code }
}
const code = (e: unknown): string | undefined => problem(e).code
const mortgage = validFixture('mortgage.registration.request')
const intruderMortgage = { ...mortgage.envelope, body: { ...bodyOf(mortgage), mortgagee: { name: '另一银行', uscc: '91350100M000100Y43' } } }
type CaseJson = {
  participants: string[]; pendingParticipants: string[]
  steps: Array<{ stepId: string; kind: string; status: string; requester: string; responder: string }>
  timeline: Array<{ event: string; actor: string | null; [k: string]: unknown }>
}
const waitType = async (id: string, type: string, n = 1): Promise<void> => {
  const end = Date.now() + 15_000
  while (w.partner(id).server.ofType(type).length < n) {
    if (Date.now() > end) throw new Error(`${id} did not receive ${type}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
const caseAs = async (who: string, id = caseId): Promise<CaseJson> => (await w.client(who).getCase(id)).json as CaseJson

t.test('item 3: a centre opens cases only under its own division prefix', async (t) => {
  const before = await w.counts()
  // The attack: 望奎's centre creates 231202-… first and locks 绥化's centre out of its own id.
  const tar = validFixture('tax.assessment.request')
  const wkUnit = '231221003004GB00012F00010001'
  const tb = bodyOf(tar) as { property: Record<string, unknown> }
  const squat = await w.client(REG_WK).send({ ...tar.envelope, to: undefined, unitCode: wkUnit, body: { ...tb, property: { ...tb.property, unitCode: wkUnit } } }).catch(problem)
  t.same(squat, { status: 409, code: 'TB_ERR_CASE_NOT_FOUND' }, 'refused as an unknown case')
  t.same(await w.counts(), before, 'nothing stored')

  await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope })
  await w.partner(TAX).server.waitFor(1)
  t.equal((await caseAs(REG)).steps.length, 1, 'the owner opens its own case id')

  // On a case owned by someone else: the very answer a case that does not exist gets.
  const foreign = await w.client(REG_WK).send({ ...validFixture('registration.completed').envelope }).then(() => ({}), problem)
  const none = await w.client(REG_WK).send({ ...validFixture('registration.completed').envelope, caseId: '231202-2026-999999' }).then(() => ({}), problem)
  t.same(foreign, none, 'no probing: someone else\'s case looks like no case')
  t.equal((foreign as { code?: string }).code, 'TB_ERR_CASE_NOT_FOUND')
})

t.test('a centre opens a case only for a unit of its divisions, and routes only to who serves it', async (t) => {
  const before = await w.counts()
  const tar = validFixture('tax.assessment.request')
  // 望奎's centre, under its own case id prefix, for a 绥化 unit.
  const foreign = await w.client(REG_WK).send({ ...tar.envelope, caseId: '231221-2026-000001' }).catch(problem)
  t.same(foreign, { status: 403, code: 'TB_ERR_ROUTE_FORBIDDEN' }, 'REG:231221 does not serve 231202')
  // The owner, naming a recipient that does not serve the unit's division.
  const misrouted = await w.client(REG).send({ ...tar.envelope, caseId: '231202-2026-000126', to: 'TAX:231202' })
  t.equal(misrouted.status, 202, 'the tax bureau of the division may be named')
  const wrongTo = await w.client(REG).send({ ...tar.envelope, caseId: '231202-2026-000127', to: REG_WK }).catch(problem)
  t.equal(wrongTo.status, 403, 'a recipient of another division may not')
  const after = await w.counts()
  t.same([after.exchanges - before.exchanges, after.cases - before.cases], [1, 1], 'only the one accepted message left rows')
})

t.test('item 2: a housing bureau files only for units of its divisions', async (t) => {
  const h = validFixture('housing.contract.filed')
  const before = await w.counts()
  // The attack: another city's bureau files the contract number of a 231202 unit first.
  const e = await w.client(HOUSING_WK).send({ ...h.envelope }).catch(problem)
  t.same(e, { status: 403, code: 'TB_ERR_ROUTE_FORBIDDEN' }, 'HOUSING:231221 does not serve 231202')
  t.same(await w.counts(), before, 'nothing stored')
  const ok = await w.client(HOUSING).send({ ...h.envelope })
  t.equal(ok.status, 202, 'the city bureau HOUSING:231200 covers its county 231202')
})

t.test('item 2: contract and filing numbers are unique per bureau; links never resolved by recency', async (t) => {
  const h = validFixture('housing.contract.filed')
  const hb = bodyOf(h) as { contractNumber: string; filingNumber: string; house: { unitCode: string } }
  // The same numbers in another bureau's own division are that bureau's business: accepted, and never linked here.
  const wkUnit = '231221003004GB00012F00010001'
  const wk = await w.client(HOUSING_WK).send({ ...h.envelope, unitCode: wkUnit, body: { ...hb, house: { ...hb.house, unitCode: wkUnit } } })
  t.equal(wk.status, 202)
  await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope, caseId: '231202-2026-000125' })
  const c = await caseAs(REG, '231202-2026-000125')
  t.same(c.participants, [HOUSING, REG, TAX], 'only the bureau responsible for the unit was linked')
  t.same(c.timeline.filter((e) => e.event === 'contract.linked').map((e) => e.housing), [HOUSING])

  // A second contract of the same bureau reusing the filing number: refused.
  const reuse = await w.client(HOUSING).send({ ...h.envelope, body: { ...hb, contractNumber: 'CL2312022026009999' } }).catch(problem)
  t.same(reuse, { status: 409, code: 'TB_ERR_FILING_CONFLICT' }, 'filing number already used by this bureau')
  // The same contract number for another unit: refused.
  const other = '231202003004GB00012F00010002'
  const moved = await w.client(HOUSING).send({ ...h.envelope, unitCode: other, body: { ...hb, house: { ...hb.house, unitCode: other } } }).catch(problem)
  t.same(moved, { status: 409, code: 'TB_ERR_FILING_CONFLICT' }, 'contract number already filed for another unit')
  // A correction of its own filing (same contract, same unit) is fine.
  t.equal((await w.client(HOUSING).send({ ...h.envelope })).status, 202)

  // Two filings of the bureau on one unit; a request whose numbers name both is ambiguous.
  await w.client(HOUSING).send({ ...h.envelope, body: { ...hb, contractNumber: 'CL2312022026007777', filingNumber: 'BA2312022026007777' } })
  const tar = validFixture('tax.assessment.request')
  const tb = bodyOf(tar) as { transaction: Record<string, unknown> }
  const before = await w.counts()
  const ambiguous = await w.client(REG).send({
    ...tar.envelope, caseId: '231202-2026-000124',
    body: { ...tb, transaction: { ...tb.transaction, housingContractNumber: 'CL2312022026004567', housingFilingNumber: 'BA2312022026007777' } },
  }).catch(problem)
  t.same(ambiguous, { status: 409, code: 'TB_ERR_CONTRACT_AMBIGUOUS' }, 'refused, not resolved by the newest filing')
  t.same(await w.counts(), before, 'nothing stored')
  const one = await w.client(REG).send({
    ...tar.envelope, caseId: '231202-2026-000124',
    body: { ...tb, transaction: { ...tb.transaction, housingContractNumber: 'CL2312022026007777', housingFilingNumber: 'BA2312022026007777' } },
  })
  t.equal(one.status, 202, 'numbers that name one filing link it')
  t.ok((await caseAs(REG, '231202-2026-000124')).participants.includes(HOUSING))
})

t.test('item 1: a bank cannot take over the case\'s mortgage step', async (t) => {
  await preLoanQuery(w, INTRUDER, REG)
  await preLoanQuery(w, BANK, REG)
  const before = await w.counts()
  // The attack: an application on the case naming another registration centre.
  const hijack = await w.client(INTRUDER).send({ ...intruderMortgage, to: REG_WK }).catch(problem)
  const unknown = await w.client(INTRUDER).send({ ...intruderMortgage, caseId: '231202-2026-999999' }).catch(problem)
  t.same(hijack, { status: 409, code: 'TB_ERR_CASE_NOT_FOUND' }, 'an application goes only to the case\'s owner')
  t.same(hijack, unknown, 'and the refusal says no more than an unknown case')
  const sdk = await w.client(INTRUDER).send({ ...intruderMortgage, to: REG_WK }).then(() => ({}), (e: unknown) => e) as { name?: string; code?: string }
  t.same([sdk.name, sdk.code], ['TongbanClientError', 'TB_ERR_CASE_NOT_FOUND'], 'the SDK\'s error carries the gateway\'s code')
  t.same(await w.counts(), before, 'nothing stored')
  t.equal(w.partner(REG_WK).server.ofType('mortgage.registration.request').length, 0)
  // Probing with the unit code (the self-declared loan is for another unit of the same case
  // series): an existing case of another unit answers as an unknown one, whoever "to" names.
  const otherUnit = '231202003004GB00012F00010002'
  await preLoanQuery(w, INTRUDER, REG, otherUnit)
  const probe = { ...intruderMortgage, unitCode: otherUnit, body: { ...intruderMortgage.body, property: { ...(intruderMortgage.body as unknown as { property: object }).property, unitCode: otherUnit } } }
  t.same(await w.client(INTRUDER).send(probe).catch(problem), unknown, 'an existing case of another unit: no different answer')
  t.same(await w.client(INTRUDER).send({ ...probe, to: REG }).catch(problem), unknown, 'nor with "to" naming the real owner')

  // A pending applicant's application is its own step: it cannot block the real bank's.
  const first = await w.client(INTRUDER).send({ ...intruderMortgage })
  t.equal(first.status, 202)
  const real = await w.client(BANK).send({ ...mortgage.envelope })
  t.equal(real.status, 202, 'the real bank is not locked out (it used to get TB_ERR_CASE_CONFLICT)')
  await waitType(REG, 'mortgage.registration.request')
  let c = await caseAs(REG)
  const open = c.steps.filter((s) => s.kind === 'mortgage' && s.status === 'open')
  t.same(open.map((s) => [s.requester, s.responder]).sort(), [[BANK, REG], [INTRUDER, REG]], 'each applicant\'s step is held by the owning centre')
  t.same(c.pendingParticipants, [BANK, INTRUDER].sort())

  // With two applications open, the centre names the one it answers.
  const unnamed = await w.client(REG).send({ ...validFixture('mortgage.registration.completed').envelope }).catch(problem)
  t.same(unnamed, { status: 409, code: 'TB_ERR_CASE_CONFLICT' }, 'ambiguous answer refused')

  // The centre refuses the intruder's application: the step closes, the bank is told, and stays outside.
  const rej = await w.client(REG).send({ ...validFixture('mortgage.registration.rejected').envelope, to: INTRUDER })
  t.equal(rej.status, 202)
  await waitType(INTRUDER, 'mortgage.registration.rejected')
  t.equal((await w.client(INTRUDER).getCase(caseId)).status, 404, 'a refused applicant does not read the case')
  c = await caseAs(REG)
  t.same(c.steps.filter((s) => s.requester === INTRUDER).map((s) => s.status), ['rejected'])
  t.notOk(c.participants.includes(INTRUDER))

  // Only the owner answers: another centre cannot close the step.
  const notMine = await w.client(REG_WK).send({ ...validFixture('mortgage.registration.completed').envelope, to: BANK }).catch(code)
  t.equal(notMine, 'TB_ERR_CASE_NOT_FOUND')
  await w.client(REG).send({ ...validFixture('mortgage.registration.completed').envelope, to: BANK })
  await waitType(BANK, 'mortgage.registration.completed')
  c = await caseAs(REG)
  t.ok(c.participants.includes(BANK), 'the answered bank is a participant')
  t.same(c.steps.filter((s) => s.kind === 'mortgage').map((s) => [s.requester, s.status]).sort(), [[BANK, 'completed'], [INTRUDER, 'rejected']])
})

t.test('item 1: an operator closes a stuck step with a reason, in the timeline', async (t) => {
  // The intruder applies again; nobody answers: an operator closes it.
  await w.client(INTRUDER).send({ ...intruderMortgage })
  const stuck = (await caseAs(REG)).steps.find((s) => s.requester === INTRUDER && s.status === 'open')
  t.ok(stuck, 'an open step')
  const ops = w.operatorClient()
  t.teardown(() => ops.close())
  const path = `/v1/admin/cases/${caseId}/steps/${stuck?.stepId ?? ''}/close`
  const asBank = await w.client(BANK).http('POST', path, JSON.stringify({ reason: 'x' }), { contentType: 'application/json' })
  t.equal((asBank.json as { code?: string }).code, 'TB_ERR_FORBIDDEN', 'operators only')
  const noReason = await ops.http('POST', path, JSON.stringify({}), { contentType: 'application/json' })
  t.same([noReason.status, (noReason.json as { code?: string }).code], [400, 'TB_ERR_BAD_REQUEST'], 'a reason is required')
  const notStep = await ops.http('POST', `/v1/admin/cases/${caseId}/steps/not-a-uuid/close`, JSON.stringify({ reason: '无人处理' }), { contentType: 'application/json' })
  t.same([notStep.status, (notStep.json as { code?: string }).code], [404, 'TB_ERR_NOT_FOUND'])
  const nulCase = await ops.http('POST', `/v1/admin/cases/%00/steps/${stuck?.stepId ?? ''}/close`, JSON.stringify({ reason: '无人处理' }), { contentType: 'application/json' })
  t.same([nulCase.status, (nulCase.json as { code?: string }).code], [404, 'TB_ERR_NOT_FOUND'], 'a case id with U+0000 is no case (not a 500)')
  const wrongCase = await ops.http('POST', `/v1/admin/cases/231202-2026-000124/steps/${stuck?.stepId ?? ''}/close`, JSON.stringify({ reason: '无人处理' }), { contentType: 'application/json' })
  t.equal(wrongCase.status, 404, 'the step must be on the case named')

  const ok = await ops.http('POST', path, JSON.stringify({ reason: '申请人未在规定时间内补正材料，运维关闭' }), { contentType: 'application/json' })
  t.same([ok.status, (ok.json as { status?: string }).status], [200, 'cancelled'])
  const again = await ops.http('POST', path, JSON.stringify({ reason: '再次关闭' }), { contentType: 'application/json' })
  t.equal(again.status, 404, 'closed once')
  const c = await caseAs(REG)
  t.equal(c.steps.find((s) => s.stepId === stuck?.stepId)?.status, 'cancelled')
  const ev = c.timeline.find((e) => e.event === 'step.closed' && e.outcome === 'cancelled')
  t.same(ev && { actor: ev.actor, reason: ev.reason, kind: ev.kind }, { actor: w.operator.id, reason: '申请人未在规定时间内补正材料，运维关闭', kind: 'mortgage' }, 'who closed it and why')
})

t.test('jurisdiction: how divisions cover sub-divisions', async (t) => {
  t.same(
    [['231202', '231202'], ['231200', '231202'], ['230000', '231202'], ['231200', '231300'], ['231221', '231202'], ['231202', '231200']].map(([a, b]) => divisionCovers(a as string, b as string)),
    [true, true, true, false, false, false],
  )
  const ps = [
    { id: 'HOUSING:230000', role: 'HOUSING' as const, divisions: ['230000'] },
    { id: 'HOUSING:231200', role: 'HOUSING' as const, divisions: ['231200'] },
    { id: 'HOUSING:231202', role: 'HOUSING' as const, divisions: ['231202'] },
  ]
  t.equal(responsibleFor(ps, 'HOUSING', '231202')?.id, 'HOUSING:231202', 'the county bureau before the city\'s')
  t.equal(responsibleFor(ps, 'HOUSING', '231221')?.id, 'HOUSING:231200', 'the city bureau for its other counties')
  t.equal(responsibleFor(ps, 'HOUSING', '230102')?.id, 'HOUSING:230000', 'the province for the rest')
  t.equal(responsibleFor(ps, 'HOUSING', '110101'), undefined)
})

t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
