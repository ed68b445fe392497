import t from 'tap'
import { personalData } from '../helpers/world.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// GET /metrics (Prometheus): what was accepted, refused, delivered, and the state that waits
// (pending and dead deliveries, open and overdue steps) — and never any personal data.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'metrics',
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())

const metric = (text: string, line: RegExp): number => Number(line.exec(text)?.[1] ?? NaN)

t.test('counts and states', async (t) => {
  const request = validFixture('tax.assessment.request')
  await w.client(REG).send({ ...request.envelope })
  await w.partner(TAX).server.waitFor(1)
  await w.client(REG).http('POST', '/v1/messages', 'x', { auth: false })
  await w.deliveryStatus()
  t.equal((await fetch(`${w.url}/metrics`)).status, 404, 'not on the API listener partners reach')
  const res = await fetch(w.app.tb.metricsUrl ?? '')
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type') ?? '', /text\/plain/)
  const text = await res.text()
  t.equal(metric(text, /^tongban_messages_accepted_total\{type="tax.assessment.request",suite="international",repeat="false"\} (\d+)$/m), 1)
  t.equal(metric(text, /^tongban_requests_rejected_total\{code="TB_ERR_TOKEN_MISSING"\} (\d+)$/m), 1)
  t.equal(metric(text, /^tongban_delivery_attempts_total\{recipient="TAX:231202",outcome="delivered"\} (\d+)$/m), 1)
  t.equal(metric(text, /^tongban_deliveries_pending (\d+)$/m), 0)
  t.equal(metric(text, /^tongban_case_steps_open (\d+)$/m), 1, 'the tax step waits')
  t.equal(metric(text, /^tongban_case_steps_overdue (\d+)$/m), 0)
  t.ok(metric(text, /^tongban_accept_seconds_count\{suite="international"\} (\d+)$/m) >= 1)
  t.match(text, /^tongban_process_resident_memory_bytes \d+/m, 'process metrics too')
  t.same(personalData().filter((s) => text.includes(s)), [], 'no personal data')
})

t.test('a sender cannot make up metric labels', async (t) => {
  const reg = w.client(REG)
  const ask = async (type: string) => (await reg.http('POST', '/v1/queries', await reg.encrypt(await reg.sign(reg.envelope({ type, body: {} }))))).json as { code: string }
  t.equal((await ask('made.up.type')).code, 'TB_ERR_TYPE_UNKNOWN')
  t.equal((await ask(`a.${'b'.repeat(200)}`)).code, 'TB_ERR_SCHEMA', 'an over-long type is refused by the envelope schema')
  const text = await (await fetch(w.app.tb.metricsUrl ?? '')).text()
  t.match(text, /^tongban_queries_total\{type="unknown",outcome="TB_ERR_TYPE_UNKNOWN"\} 1$/m)
  t.notMatch(text, /made\.up\.type|bbbbbbbb/, 'the sender\'s text is not a label')
})
