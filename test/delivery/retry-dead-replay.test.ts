import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'
import { until } from '../helpers/wait.ts'

// A partner down for a while gets everything when it returns, exactly once in effect; one that
// never returns ends in `dead`, and an operator's replay delivers after it is back.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'retry',
  config: { delivery: { attempts: 5, backoffMs: 30, maxBackoffMs: 200, maxAgeSeconds: 3600, sweepIntervalMs: 60_000, sweepGraceMs: 60_000, concurrency: 2, lockMs: 2_000 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'], http: { headersTimeoutMs: 1_500, bodyTimeoutMs: 1_500, connectTimeoutMs: 1_000 } },
  ],
})
t.teardown(() => w.close())
const reg = w.client(REG)
const taxServer = w.partner(TAX).server
const request = validFixture('tax.assessment.request')
let n = 200

async function send(): Promise<{ exchangeId: string; messageId: string }> {
  const r = await reg.send({ ...request.envelope, caseId: `231202-2026-${String(n++).padStart(6, '0')}` })
  return { exchangeId: r.exchangeId, messageId: r.receipt.messageId }
}

async function delivery(exchangeId: string): Promise<{ deliveryId: string; status: string; attempts: number; lastError: string | null }> {
  const r = await reg.getExchange(exchangeId)
  const d = (r.json as { deliveries: Array<{ deliveryId: string; status: string; attempts: number; lastError: string | null }> }).deliveries[0]
  if (d === undefined) throw new Error('no delivery')
  return d
}

t.test('503 three times, then 200: delivered once, after four attempts', async (t) => {
  const start = taxServer.posts
  taxServer.behave((k) => (k - start <= 3 ? 503 : 200))
  const m = await send()
  await until('delivered', async () => (await delivery(m.exchangeId)).status === 'delivered')
  const d = await delivery(m.exchangeId)
  t.equal(d.attempts, 4)
  t.equal(taxServer.accepted.get(m.messageId), 1, 'the partner took it exactly once')
  const ids = new Set(taxServer.received.filter((r) => r.delivery.envelope.id === m.messageId).map((r) => r.headers['tongban-message-id']))
  t.same([...ids], [m.messageId])
  const c = await reg.getCase(`231202-2026-${String(n - 1).padStart(6, '0')}`)
  const events = (c.json as { timeline: Array<{ event: string }> }).timeline.map((e) => e.event)
  t.equal(events.filter((e) => e === 'delivery.failed').length, 3, 'each failed attempt is on the timeline')
})

t.test('a partner that times out is retried', async (t) => {
  const start = taxServer.posts
  // undici's timers have about one second of resolution: the 1.5 s headers timeout fires within
  // ~2.5 s, well before this answer. (A partner's every answer must come within the timeout: one
  // as short as 300 ms could time out a success on a loaded machine.)
  taxServer.behave((k) => (k - start === 1 ? { status: 200, delayMs: 5_000 } : 200))
  const m = await send()
  await until('delivered', async () => (await delivery(m.exchangeId)).status === 'delivered')
  t.ok((await delivery(m.exchangeId)).attempts >= 2, 'the slow first attempt counted as a failure')
})

t.test('a 4xx is final: dead after one attempt', async (t) => {
  taxServer.behave(() => 422)
  const m = await send()
  await until('dead', async () => (await delivery(m.exchangeId)).status === 'dead')
  const d = await delivery(m.exchangeId)
  t.equal(d.attempts, 1)
  t.match(d.lastError, /PARTNER_4XX 422/)
})

t.test('never recovers → dead after the configured attempts; replay delivers once it is back', async (t) => {
  taxServer.behave(() => 503)
  const m = await send()
  await until('dead', async () => (await delivery(m.exchangeId)).status === 'dead')
  const d = await delivery(m.exchangeId)
  t.equal(d.attempts, 5)
  t.equal(taxServer.accepted.get(m.messageId), undefined)

  const ops = w.operatorClient()
  const dead = await ops.http('GET', '/v1/admin/deliveries?status=dead')
  t.ok((dead.json as { deliveries: Array<{ deliveryId: string }> }).deliveries.some((x) => x.deliveryId === d.deliveryId), 'listed as a dead letter')

  const notOps = await reg.http('POST', `/v1/admin/deliveries/${d.deliveryId}/replay`)
  t.equal(notOps.status, 403)
  t.equal((notOps.json as { code: string }).code, 'TB_ERR_FORBIDDEN')

  taxServer.behave(() => 200)
  const r = await ops.http('POST', `/v1/admin/deliveries/${d.deliveryId}/replay`)
  t.equal(r.status, 202)
  await until('delivered after replay', async () => (await delivery(m.exchangeId)).status === 'delivered')
  t.equal(taxServer.accepted.get(m.messageId), 1)

  const twice = await ops.http('POST', `/v1/admin/deliveries/${d.deliveryId}/replay`)
  t.equal(twice.status, 409)
  t.equal((twice.json as { code: string }).code, 'TB_ERR_INVALID_STATE')
  const none = await ops.http('POST', '/v1/admin/deliveries/00000000-0000-7000-8000-000000000000/replay')
  t.equal((none.json as { code: string }).code, 'TB_ERR_NOT_FOUND')
  await ops.close()
})

t.test('the gateway logged no personal data', async (t) => w.checkLogs(t))
