import t from 'tap'
import { chinaCalendar } from '../../src/core/calendar.ts'
import { TestClock } from '../helpers/clock.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'
import { preLoanQuery } from '../helpers/flows.ts'

// Issue 4 §5 (审核时限预警): deadlines count working days over weekends and the State
// Council's 2026 schedule (国办发明电〔2025〕7号) with its make-up working days.
const cal = chinaCalendar()
const cst = (s: string): Date => new Date(`${s}+08:00`)
const endOf = (day: string): string => new Date(Date.parse(`${day}T24:00:00+08:00`)).toISOString()

t.test('the calendar', async (t) => {
  t.ok(cal.knownUntil >= 2026, `holds the schedule up to ${cal.knownUntil}`)
  const days: Array<[string, boolean]> = [
    ['2026-09-25', false], // 中秋节, a Friday
    ['2026-09-20', true], // Sunday, make-up working day for National Day
    ['2026-10-01', false], ['2026-10-07', false], ['2026-10-08', true],
    ['2026-10-10', true], // Saturday, make-up working day
    ['2026-02-14', true], ['2026-02-15', false], ['2026-02-23', false], ['2026-02-24', true],
    ['2026-11-28', false], ['2026-11-30', true],
  ]
  for (const [d, work] of days) t.equal(cal.isWorkingDay(d), work, `${d} ${work ? 'is' : 'is not'} a working day`)

  const cases: Array<[string, number, string, string]> = [
    ['2026-09-25T10:00:00', 5, '2026-10-09', 'opened on the Friday before National Day (itself 中秋): Sep 28, 29, 30, Oct 8, 9'],
    ['2026-09-18T10:00:00', 5, '2026-09-24', 'the Friday a week earlier: Sunday Sep 20 is a make-up working day'],
    ['2026-09-30T16:00:00', 1, '2026-10-08', 'one working day from the eve of the holiday'],
    ['2026-10-01T00:30:00', 1, '2026-10-08', 'opened during the holiday (just after midnight China time)'],
    ['2026-10-09T23:30:00', 1, '2026-10-10', 'the next working day is a Saturday make-up day'],
    ['2026-02-13T09:00:00', 2, '2026-02-24', 'across the Spring Festival: Feb 14 (make-up), then Feb 24'],
    ['2026-11-27T15:00:00', 5, '2026-12-04', 'an ordinary week: weekends do not count'],
  ]
  for (const [opened, n, due, why] of cases) t.equal(cal.dueAt(cst(opened), n).toISOString(), endOf(due), `${why} → end of ${due}`)
  t.throws(() => cal.dueAt(new Date(), 0), RangeError)

  // Remembered per China date: a minute either side of midnight China time (16:00 UTC) is two dates.
  t.equal(cal.dueAt(cst('2026-10-09T23:59:00'), 1).toISOString(), endOf('2026-10-10'), 'Friday 23:59: due at the end of the make-up Saturday')
  t.equal(cal.dueAt(cst('2026-10-10T00:01:00'), 1).toISOString(), endOf('2026-10-12'), 'Saturday 00:01: due at the end of Monday')
  t.equal(cal.dueAt(cst('2026-10-09T23:59:00'), 1).toISOString(), endOf('2026-10-10'), 'asked again: the same')
  const a = cal.dueAt(cst('2026-09-25T10:00:00'), 5)
  a.setTime(0)
  t.equal(cal.dueAt(cst('2026-09-25T11:00:00'), 5).toISOString(), endOf('2026-10-09'), 'a caller changing its Date does not change the next answer')
})

t.test('overdue steps are flagged on the case, listed, and logged once', async (t) => {
  const clock = new TestClock(cst('2026-09-25T10:00:00'))
  const REG = 'REG:231202'
  const TAX = 'TAX:231202'
  const BANK = 'BANK:91230100MA1B2C3D49:suihua'
  const w = await World.start({
    label: 'deadline',
    clock,
    config: { deadlines: { checkIntervalMs: 3_600_000, workingDays: { tax: 5, mortgage: 1, registration: 5, preregistration: 5, housing: 5 } } },
    partners: [
      { id: REG, send: ['tax.assessment.request', 'mortgage.registration.completed'], receive: ['tax.payment.completed', 'mortgage.registration.request', 'mortgage.query'] },
      { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
      { id: BANK, send: ['mortgage.registration.request', 'mortgage.query'], receive: ['mortgage.registration.completed'] },
    ],
  })
  t.teardown(() => w.close())
  const request = validFixture('tax.assessment.request')
  const caseId = request.envelope.caseId as string
  await w.client(REG).send({ ...request.envelope })
  await preLoanQuery(w, BANK, REG)
  await w.client(BANK).send({ ...validFixture('mortgage.registration.request').envelope })

  type CaseDoc = { steps: Array<{ kind: string; dueAt: string; overdue: boolean }>; timeline: Array<{ event: string; kind?: string }> }
  const doc = async (): Promise<CaseDoc> => (await w.client(REG).getCase(caseId)).json as CaseDoc
  const due = Object.fromEntries((await doc()).steps.map((s) => [s.kind, s.dueAt]))
  t.equal(due.tax, endOf('2026-10-09'), 'the tax step (5 working days) is due at the end of Friday Oct 9')
  t.equal(due.mortgage, endOf('2026-09-28'), 'the mortgage step (1 working day) is due at the end of Monday Sep 28')

  const deadlines = w.app.tb.deadlines
  clock.set(cst('2026-09-28T23:59:00'))
  t.equal(await deadlines.checkOverdue(), 0, 'nothing is overdue a minute before the mortgage deadline')
  clock.set(cst('2026-09-29T00:00:01'))
  t.equal(await deadlines.checkOverdue(), 1, 'the mortgage step is overdue just after')
  t.equal(await deadlines.checkOverdue(), 0, 'and is flagged only once')
  clock.set(cst('2026-10-09T23:59:59'))
  t.equal(await deadlines.checkOverdue(), 0, 'the tax step is not overdue on its last day (the holiday did not count)')
  clock.set(cst('2026-10-10T00:00:01'))
  t.equal(await deadlines.checkOverdue(), 1, 'the tax step is overdue after it')
  t.equal(await deadlines.checkOverdue(), 0)

  const c = await doc()
  t.same(c.steps.map((s) => [s.kind, s.overdue]), [['tax', true], ['mortgage', true]])
  t.same(c.timeline.filter((e) => e.event === 'step.overdue').map((e) => e.kind), ['mortgage', 'tax'], 'one timeline event each')
  t.equal(w.logText().split('\n').filter((l) => l.includes('case step overdue')).length, 2, 'logged once each')

  const listed = async (as: string): Promise<string[]> => ((await w.client(as).http('GET', '/v1/cases?overdue=true')).json as { cases: Array<{ caseId: string }> }).cases.map((x) => x.caseId)
  t.same(await listed(REG), [caseId], 'GET /v1/cases?overdue=true lists it')
  t.same(await listed(TAX), [caseId], 'to each participant')
  const bad = await w.client(REG).http('GET', '/v1/cases?overdue=maybe')
  t.equal((bad.json as { code: string }).code, 'TB_ERR_BAD_REQUEST')

  // Answering closes the step: the case is no longer overdue, and nothing is flagged again.
  await w.client(TAX).send({ ...validFixture('tax.payment.completed').envelope })
  await w.client(REG).send({ ...validFixture('mortgage.registration.completed').envelope })
  t.same(await listed(REG), [], 'no longer listed once every step is answered')
  t.equal(await deadlines.checkOverdue(), 0)
  await w.checkLogs(t)
})
