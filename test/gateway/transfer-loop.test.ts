import t from 'tap'
import { World } from '../helpers/world.ts'
import { validFixture } from '../helpers/fixtures.ts'

// The heart of the product: REG pushes a transfer case to tax, tax posts back 完税, and the
// registration centre that asked receives it — over real HTTP, PostgreSQL and Redis.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const OTHER_REG = 'REG:231221'

const w = await World.start({
  label: 'loop',
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed', 'tax.assessment.rejected'] },
    { id: TAX, send: ['tax.payment.completed', 'tax.assessment.rejected'], receive: ['tax.assessment.request'] },
    { id: OTHER_REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
  ],
})
t.teardown(() => w.close())

const request = validFixture('tax.assessment.request')
const paid = validFixture('tax.payment.completed')
const caseId = request.envelope.caseId as string

t.test('REG → TAX: routed by the unit code\'s division, receipt signed and bound to the bytes sent', async (t) => {
  const res = await w.client(REG).send({ ...request.envelope })
  t.equal(res.status, 202)
  t.equal(res.receipt.status, 'accepted')
  await w.partner(TAX).server.waitFor(1)
  const got = w.partner(TAX).server.ofType('tax.assessment.request')
  t.equal(got.length, 1)
  t.equal(got[0]?.envelope.from, REG, 'the tax bureau verified the original sender\'s signature')
  t.same(got[0]?.envelope.body, request.envelope.body, 'body delivered unchanged')
  const headers = w.partner(TAX).server.received[0]?.headers ?? {}
  t.equal(headers['tongban-exchange-id'], res.exchangeId)
  t.equal(headers['tongban-message-id'], res.receipt.messageId)
})

t.test('TAX → REG: 完税 closes the tax step and reaches the centre that asked', async (t) => {
  const res = await w.client(TAX).send({ ...paid.envelope })
  t.equal(res.status, 202)
  await w.partner(REG).server.waitFor(1)
  t.equal(w.partner(REG).server.ofType('tax.payment.completed')[0]?.envelope.from, TAX)
  t.equal(w.partner(OTHER_REG).server.received.length, 0, 'no other registration centre got it')
})

t.test('the case shows its steps and timeline to its participants', async (t) => {
  const r = await w.client(REG).getCase(caseId)
  t.equal(r.status, 200)
  const c = r.json as { steps: Array<{ kind: string; status: string; dueAt: string | null }>; timeline: Array<{ event: string }>; participants: string[] }
  t.same(c.steps.map((s) => [s.kind, s.status]), [['tax', 'completed']])
  t.ok(c.steps[0]?.dueAt, 'the tax step had a deadline')
  t.same(c.participants, [REG, TAX])
  const events = c.timeline.map((e) => e.event)
  for (const e of ['message.accepted', 'step.opened', 'delivery.delivered', 'step.closed']) t.ok(events.includes(e), `timeline has ${e}`)
  t.equal((await w.client(TAX).getCase(caseId)).status, 200, 'the tax bureau sees it too')
})

t.test('a non-participant cannot tell the case or its exchanges exist', async (t) => {
  const r = await w.client(OTHER_REG).getCase(caseId)
  t.equal(r.status, 404)
  t.equal((r.json as { code: string }).code, 'TB_ERR_NOT_FOUND')
  const { rows } = await w.db.query<{ id: string }>('SELECT id FROM exchanges LIMIT 1')
  const ex = await w.client(OTHER_REG).getExchange(rows[0]?.id ?? '')
  t.equal(ex.status, 404)
  t.equal((ex.json as { code: string }).code, 'TB_ERR_NOT_FOUND')
  const mine = await w.client(REG).getExchange(rows[0]?.id ?? '')
  t.equal(mine.status, 200)
  t.equal((mine.json as { status: string }).status, 'delivered')
})

t.test('a second 完税 for the same case finds no open step', async (t) => {
  const again = await w.client(TAX).send({ ...paid.envelope }).catch((e: { problem: { code: string } }) => e.problem)
  t.equal((again as { code?: string }).code, 'TB_ERR_CASE_NOT_FOUND')
})

t.test('the gateway logged no personal data', async (t) => w.checkLogs(t))
