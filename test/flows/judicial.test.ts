import t from 'tap'
import { TestClock } from '../helpers/clock.ts'
import { validFixture, type Fixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 10 §3 (司法查封/解封): courts open their cases in a namespace of their own, reach the
// registration centre of the unit's division, see only their own cases, and wait on deadlines
// counted in working days.
const REG = 'REG:231202'
const REG_WK = 'REG:231221'
const COURT = 'COURT:11231202MB00123459' // 北林区人民法院 (fictional code, valid check character)
const COURT_WK = 'COURT:11231221MB0054321Q' // 望奎县人民法院
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
const TAX = 'TAX:231202'
const JUDICIAL_ANSWERS = ['judicial.seizure.completed', 'judicial.seizure.rejected', 'judicial.release.completed', 'judicial.release.rejected']
const cst = (s: string): Date => new Date(`${s}+08:00`)
const endOf = (day: string): string => new Date(Date.parse(`${day}T24:00:00+08:00`)).toISOString()

t.test('courts and registration centres on seizure cases', async (t) => {
  const clock = new TestClock(cst('2026-09-30T10:00:00')) // the eve of National Day
  const w = await World.start({
    label: 'judicial',
    clock,
    config: { deadlines: { checkIntervalMs: 3_600_000, workingDays: { release: 2 } } },
    partners: [
      { id: REG, divisions: ['231202'], send: ['tax.assessment.request', ...JUDICIAL_ANSWERS], receive: ['judicial.seizure.request', 'judicial.release.request', 'mortgage.query', 'tax.payment.completed'] },
      { id: REG_WK, divisions: ['231221'], send: JUDICIAL_ANSWERS, receive: ['judicial.seizure.request', 'judicial.release.request'] },
      { id: COURT, divisions: ['231202'], send: ['judicial.seizure.request', 'judicial.release.request', 'mortgage.query'], receive: JUDICIAL_ANSWERS },
      { id: COURT_WK, divisions: ['231221'], send: ['judicial.seizure.request', 'judicial.release.request'], receive: JUDICIAL_ANSWERS },
      { id: BANK, send: ['mortgage.query'], receive: [] },
      { id: TAX, send: [], receive: ['tax.assessment.request'] },
    ],
  })
  t.teardown(() => w.close())

  const seizure = validFixture('judicial.seizure.request', (f) => !f.file.includes('waiting'))
  const caseId = seizure.envelope.caseId as string
  const unitCode = seizure.envelope.unitCode as string
  /** The problem a refused message gets (status and code). */
  const refusal = async (as: string, f: Fixture, over: Record<string, unknown> = {}, path = '/v1/messages'): Promise<[number, string | undefined]> => {
    const c = w.client(as)
    const res = await c.http('POST', path, await c.encrypt(await c.sign(c.envelope({ ...f.envelope, ...over }))))
    return [res.status, (res.json as { code?: string } | undefined)?.code]
  }
  const withUnit = (f: Fixture, code: string): Record<string, unknown> => ({ unitCode: code, body: { ...f.envelope.body, property: { ...(f.envelope.body.property as object), unitCode: code } } })

  t.test('a court opens a case only with a J serial of one of its divisions', async (t) => {
    t.same(await refusal(COURT, seizure, { caseId: '231202-2026-000101' }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'not with a registration centre\'s number (no squatting)')
    t.same(await refusal(COURT, seizure, { caseId: '231221-2026-J000101' }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'not in another court\'s division')
    t.same(await refusal(REG, validFixture('tax.assessment.request'), { caseId: '231202-2026-J000900' }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'a registration centre never opens a J case')
    t.same(await refusal(COURT, validFixture('judicial.release.request'), { caseId: '231202-2026-J000900' }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'a release opens nothing: it needs the seizure\'s case')
    t.equal((await w.counts()).cases, 0, 'no case was opened')
  })

  t.test('the seizure goes to the registration centre of the unit, wherever the court is', async (t) => {
    const r = await w.client(COURT).send({ ...seizure.envelope })
    t.equal(r.status, 202)
    await w.partner(REG).server.waitFor(1)
    t.equal(w.partner(REG).server.ofType('judicial.seizure.request').length, 1)
    // 异地查封: the 北林 court seizes a unit in 望奎; the case is the court's, the centre 望奎's.
    const wk = '231221101001GB00001F00010001'
    await w.client(COURT).send({ ...seizure.envelope, caseId: '231202-2026-J000201', ...withUnit(seizure, wk) })
    await w.partner(REG_WK).server.waitFor(1)
    t.equal(w.partner(REG_WK).server.ofType('judicial.seizure.request')[0]?.envelope.unitCode, wk)
    t.same(await refusal(COURT, seizure, { caseId: '231202-2026-J000202', ...withUnit(seizure, '230102101001GB00001F00010001') }), [422, 'TB_ERR_NO_ROUTE'], 'no registration centre serves the unit: no route')
  })

  t.test('the seizure step is due in one working day (urgent), the release in the configured two', async (t) => {
    const c = (await w.client(COURT).getCase(caseId)).json as { steps: Array<{ kind: string; dueAt: string }> }
    t.same(c.steps.map((s) => [s.kind, s.dueAt]), [['seizure', endOf('2026-10-08')]], 'one working day after the eve of the holiday: Oct 8')
    clock.set(cst('2026-10-09T00:00:01'))
    t.equal(await w.app.tb.deadlines.checkOverdue(), 2, 'both open seizures are overdue after Oct 8')
    const after = (await w.client(REG).getCase(caseId)).json as { steps: Array<{ overdue: boolean }>; timeline: Array<{ event: string }> }
    t.same(after.steps.map((s) => s.overdue), [true])
    t.ok(after.timeline.some((e) => e.event === 'step.overdue'))
    await w.client(REG).send({ ...validFixture('judicial.seizure.completed').envelope })
    await w.partner(COURT).server.waitFor(1)
    await w.client(COURT).send({ ...validFixture('judicial.release.request').envelope })
    const rel = (await w.client(COURT).getCase(caseId)).json as { steps: Array<{ kind: string; dueAt: string }> }
    t.equal(rel.steps.find((s) => s.kind === 'release')?.dueAt, endOf('2026-10-12'), 'two working days from Friday Oct 9: Saturday Oct 10 (a make-up day) and Monday Oct 12')
  })

  t.test('a court sees its own cases only; others see nothing of them', async (t) => {
    t.equal((await w.client(COURT_WK).getCase(caseId)).status, 404, 'another court: not found')
    t.equal((await w.client(BANK).getCase(caseId)).status, 404, 'a bank: not found')
    t.same(await refusal(COURT_WK, validFixture('judicial.release.request')), [409, 'TB_ERR_CASE_NOT_FOUND'], 'another court cannot release what this one seized')
    t.same(await refusal(COURT, validFixture('judicial.release.request'), withUnit(validFixture('judicial.release.request'), '231202003004GB00012F00010002')), [409, 'TB_ERR_CASE_MISMATCH'], 'a release names the seized unit, not another')
    t.same(await refusal(REG_WK, validFixture('judicial.release.completed')), [409, 'TB_ERR_CASE_NOT_FOUND'], 'a centre that was not asked cannot answer')
  })

  t.test('a court\'s case carries the court\'s requests and their answers only', async (t) => {
    t.same(await refusal(REG, validFixture('tax.assessment.request'), { caseId, unitCode, body: { ...validFixture('tax.assessment.request').envelope.body, property: { ...(validFixture('tax.assessment.request').envelope.body.property as object), unitCode } } }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'the centre on it cannot bring the tax bureau in')
    const c = (await w.client(REG).getCase(caseId)).json as { participants: string[] }
    t.same([...c.participants].sort(), [COURT, REG], 'nobody else joined')
    t.equal(w.partner(TAX).server.ofType('tax.assessment.request').length, 0)
    const other = await refusal(REG, validFixture('tax.assessment.request'), { caseId: '231202-2026-J000999', unitCode, body: { ...validFixture('tax.assessment.request').envelope.body, property: { ...(validFixture('tax.assessment.request').envelope.body.property as object), unitCode } } })
    t.same(other, [409, 'TB_ERR_CASE_NOT_FOUND'], 'the same answer for a J id that does not exist: nothing to probe')
  })

  t.test('a court cannot query mortgages', async (t) => {
    t.same(await refusal(COURT, validFixture('mortgage.query'), {}, '/v1/queries'), [403, 'TB_ERR_ROUTE_FORBIDDEN'])
  })

  t.test('the seizure request\'s unit code must be the envelope\'s', async (t) => {
    const [status, code] = await refusal(COURT, seizure, { caseId: '231202-2026-J000203', unitCode: '231202003004GB00012F00010002' })
    t.same([status, code], [400, 'TB_ERR_SCHEMA'])
    t.equal(unitCode, (seizure.envelope.body.property as { unitCode: string }).unitCode)
  })

  t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
})
