import t from 'tap'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 10 §5 (水电气热同步过户): when a transfer is entered, the centre that owns the case tells the
// water, power, gas or heating company of the unit's division, for the services the applicants
// opted in to (registration.completed utilityServices), and each company answers. A utility sees
// nothing but its own notices.
const REG = 'REG:231202'
const REG_WK = 'REG:231221'
const TAX = 'TAX:231202'
const WATER = 'UTILITY:91231200MA1W00001Q:water'
const WATER_WK = 'UTILITY:91231221MA1W00003C:water'
const POWER = 'UTILITY:91231200MA1P00002Y:power'
const GAS = 'UTILITY:91231200MA1Q00004P:gas'
const NOTICE = 'utility.transfer.notice'
const ANSWER = 'utility.transfer.completed'

for (const suite of ['national', 'international'] as const) {
  t.test(`utilities transfer their accounts with the title (${suite})`, async (t) => {
    const utility = (id: string, divisions: string[]) => ({ id, suite, divisions, send: [ANSWER], receive: [NOTICE] })
    const w = await World.start({
      label: `util${suite.slice(0, 3)}`,
      partners: [
        { id: REG, suite, send: ['tax.assessment.request', 'registration.completed', NOTICE], receive: [ANSWER] },
        { id: REG_WK, suite, send: ['tax.assessment.request', NOTICE], receive: [ANSWER] },
        { id: TAX, suite, send: [], receive: ['tax.assessment.request', 'registration.completed'] },
        // The city's water, power and gas companies supply Beilin (231202); Wangkui has its own water company.
        // The water company's entry even lists registration.completed: the type's rule still keeps it from it.
        { ...utility(WATER, ['231200']), receive: [NOTICE, 'registration.completed'] }, utility(POWER, ['231200']), utility(GAS, ['231200']), utility(WATER_WK, ['231221']),
      ],
    })
    t.teardown(() => w.close())
    const request = validFixture('tax.assessment.request')
    const caseId = request.envelope.caseId as string
    const unitCode = request.envelope.unitCode as string
    const notice = validFixture(NOTICE)
    const power = validFixture(NOTICE, (f) => f.file.includes('power'))
    const refuse = async (as: string, env: Record<string, unknown>): Promise<[number, string]> => {
      const c = w.client(as)
      const res = await c.http('POST', '/v1/messages', await c.encrypt(await c.sign(c.envelope(env as never))))
      return [res.status, (res.json as { code: string }).code]
    }
    const steps = async () => ((await w.client(REG).getCase(caseId)).json as { steps: Array<{ kind: string; status: string; dueAt: string | null; responder: string }> }).steps
    await w.client(REG).send({ ...request.envelope })

    t.test('no notice before the transfer is entered with the applicants\' opt-in', async (t) => {
      t.same(await refuse(REG, { ...notice.envelope }), [403, 'TB_ERR_ROUTE_FORBIDDEN'])
      const entered = validFixture('registration.completed')
      await w.client(REG).send({ ...entered.envelope })
      const c = (await w.client(REG).getCase(caseId)).json as { timeline: Array<{ event: string; services?: string[] }> }
      t.same(c.timeline.find((e) => e.event === 'utility.opted-in')?.services, ['water', 'power'], 'the opt-in is on the timeline')
      t.same(await refuse(REG, { ...notice.envelope, body: { ...bodyOf(notice), service: 'gas' } }), [403, 'TB_ERR_ROUTE_FORBIDDEN'], 'gas was not asked for')
      t.equal(w.partner(GAS).server.received.length, 0)
    })

    t.test('only the centre that owns the case sends, for the case\'s unit', async (t) => {
      t.same(await refuse(REG_WK, { ...notice.envelope }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'another centre: as for an unknown case')
      t.same(await refuse(REG, { ...notice.envelope, caseId: '231202-2026-009999' }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'a case that does not exist')
      const other = '231202003004GB00012F00010002'
      t.same(await refuse(REG, { ...notice.envelope, unitCode: other, body: { ...bodyOf(notice), unitCode: other } }), [409, 'TB_ERR_CASE_MISMATCH'])
      t.same(await refuse(REG, { ...notice.envelope, to: WATER_WK }), [403, 'TB_ERR_ROUTE_FORBIDDEN'], 'a company named by hand must supply the unit\'s division')
      t.same(await refuse(REG, { ...notice.envelope, to: POWER }), [403, 'TB_ERR_ROUTE_FORBIDDEN'], 'and be of the notice\'s service')
    })

    t.test('each opted-in service\'s company of the division gets its notice, one step each', async (t) => {
      const before = Date.now()
      await w.client(REG).send({ ...notice.envelope })
      await w.client(REG).send({ ...power.envelope })
      await w.partner(WATER).server.waitFor(1)
      await w.partner(POWER).server.waitFor(1)
      t.same(w.partner(WATER).server.ofType(NOTICE)[0]?.envelope.body, bodyOf(notice), 'the minimal notice, as sent')
      t.equal(w.partner(WATER_WK).server.received.length, 0, 'not the other county\'s company')
      const open = (await steps()).filter((s) => s.kind.startsWith('utility:'))
      t.same(open.map((s) => [s.kind, s.status, s.responder]), [['utility:water', 'open', WATER], ['utility:power', 'open', POWER]])
      t.ok(open.every((s) => s.dueAt !== null && Date.parse(s.dueAt) > before), 'each has a deadline (deadlines.workingDays.utility)')
      t.same(await refuse(REG, { ...notice.envelope }), [409, 'TB_ERR_CASE_CONFLICT'], 'one open notice per service')
    })

    t.test('each company answers its own notice only', async (t) => {
      const done = validFixture(ANSWER)
      const refused = validFixture(ANSWER, (f) => f.file.includes('refused'))
      t.same(await refuse(POWER, { ...done.envelope }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'the power company cannot answer the water notice')
      t.same(await refuse(GAS, { ...done.envelope, body: { ...bodyOf(done), service: 'gas' } }), [409, 'TB_ERR_CASE_NOT_FOUND'], 'nor can a company that got none')
      await w.client(WATER).send({ ...done.envelope })
      await w.client(POWER).send({ ...refused.envelope, body: { ...bodyOf(refused), service: 'power', accountNumber: '0300123456789' } })
      await w.partner(REG).server.waitFor(2)
      t.same(w.partner(REG).server.ofType(ANSWER).map((m) => m.envelope.from).sort(), [POWER, WATER].sort())
      t.same((await steps()).filter((s) => s.kind.startsWith('utility:')).map((s) => [s.kind, s.status]), [['utility:water', 'completed'], ['utility:power', 'rejected']], 'refused closes the step as rejected')
    })

    t.test('a utility sees nothing but its notices', async (t) => {
      const water = w.client(WATER)
      t.equal((await water.getCase(caseId)).status, 404, 'not the case (its timeline names the tax bureau)')
      const list = await water.http('GET', '/v1/cases')
      t.same([list.status, (list.json as { code: string }).code], [403, 'TB_ERR_FORBIDDEN'], 'no case list')
      const c = (await w.client(REG).getCase(caseId)).json as { exchanges: Array<{ exchangeId: string; type: string; deliveries: Array<{ recipient: string }> }> }
      const noticeTo = (id: string) => c.exchanges.find((e) => e.type === NOTICE && e.deliveries.some((d) => d.recipient === id))
      const entered = c.exchanges.find((e) => e.type === 'registration.completed')
      t.equal((await water.getExchange(noticeTo(WATER)?.exchangeId as string)).status, 200, 'its own notice')
      t.equal((await water.getExchange(noticeTo(POWER)?.exchangeId as string)).status, 404, 'not the power company\'s')
      t.equal((await water.getExchange(entered?.exchangeId as string)).status, 404, 'not the register entry')
      // A corrected register entry now that the companies are on the case: it fans out to the tax bureau only.
      await w.client(REG).send({ ...validFixture('registration.completed').envelope })
      const end = Date.now() + 15_000
      while (w.partner(TAX).server.ofType('registration.completed').length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      t.equal(w.partner(TAX).server.ofType('registration.completed').length, 2)
      t.equal(w.partner(WATER).server.ofType('registration.completed').length, 0, 'the register entry does not fan out to a utility')
      t.equal((await w.client(TAX).getCase(caseId)).status, 200, 'while the tax bureau still reads the case')
    })

    t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
  })
}
