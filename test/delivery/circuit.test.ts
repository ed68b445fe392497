import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { Queue } from 'bullmq'
import { buildGateway } from '../../src/gateway/index.ts'
import { queueName } from '../../src/outbound/delivery.ts'
import { redisConnection } from '../../src/gateway/redis-options.ts'
import { createLogger } from '../../src/util/log.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { signIn } from '../helpers/console-session.ts'
import { until } from '../helpers/wait.ts'
import { TEST_DELIVERY, World } from '../helpers/world.ts'

// Issue 9: a partner outage is absorbed by a delivery circuit per recipient, shared by every
// instance through Redis. Two gateway instances, both running workers, deliver to one partner
// that goes down: after 3 consecutive failures (counted by both together) the partner's queue
// pauses; one probe delivery at a time tests it every 1.5 s; the deliveries waiting do not spend
// their attempts; the case timelines say "waiting: partner unavailable"; /metrics shows the
// circuit; and when the partner is back the probe closes the circuit and everything arrives once.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const N = 20
const FAILURES = 3
const OPEN_MS = 1_500
const CONCURRENCY = 2
const delivery = { ...TEST_DELIVERY, attempts: 50, backoffMs: 100, maxBackoffMs: 300, concurrency: CONCURRENCY, circuitFailures: FAILURES, circuitOpenMs: OPEN_MS }
const w = await World.start({
  label: 'circuit',
  config: { delivery },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
const logsB: string[] = []
const b: FastifyInstance = await buildGateway({
  config: w.configFor({ delivery }), validateResponses: true,
  logger: createLogger({ level: 'info', stream: { write: (s: string) => { logsB.push(s) } } }),
})
const queue = new Queue(queueName(TAX), { connection: redisConnection(w.config), prefix: w.config.redisPrefix })
t.teardown(async () => {
  await queue.close()
  await b.close()
  await w.close()
})

/** The operator console's partners page, as a viewer signed in with password and TOTP sees it. */
async function partnersPage(): Promise<string> {
  const base = w.app.tb.consoleUrl as string
  const password = 'a long pass phrase for the circuit'
  const username = `viewer${Date.now()}`
  const { totpSecret } = await w.app.tb.operators.add({ username, displayName: username, role: 'viewer', password, by: 'test' })
  const { cookie } = await signIn(base, username, password, totpSecret)
  return (await fetch(`${base}/partners`, { headers: { cookie: `${cookie}; tongban-lang=en` } })).text()
}

const metric = async (app: FastifyInstance, name: string): Promise<string[]> =>
  (await (await fetch(app.tb.metricsUrl ?? '')).text()).split('\n').filter((l) => l.startsWith(name))

const tax = w.partner(TAX).server
let inFlight = 0
let most = 0
/** The partner's in-flight high-water mark from the n-th POST on (the probes, once open). */
const mostFrom: Array<{ n: number; inFlight: number }> = []

const cases = Array.from({ length: N }, (_, i) => `231202-2026-6${String(i).padStart(6, '0')}`)

t.test('the partner goes down: after 3 failures its deliveries wait, probed one at a time, attempts not spent', async (t) => {
  let firstPostAt = 0
  tax.behave((n) => {
    if (firstPostAt === 0) firstPostAt = Date.now()
    inFlight++
    most = Math.max(most, inFlight)
    mostFrom.push({ n, inFlight })
    setTimeout(() => { inFlight-- }, 100)
    return { status: 503, delayMs: 100 }
  })
  const request = validFixture('tax.assessment.request')
  for (const caseId of cases) t.equal((await w.client(REG).send({ ...request.envelope, caseId })).status, 202)
  const outageMs = 6_000
  await new Promise((r) => setTimeout(r, outageMs))
  const hits = tax.posts
  // Counted from the first attempt (the sending above takes longer on a slow machine, and the
  // partner is down all along).
  const downMs = Date.now() - firstPostAt
  // Without the circuit each of the 20 deliveries retries on its own every 100–300 ms: hundreds
  // of attempts in 6 s. With it: the failures that open it (3, plus what was already in flight in
  // both instances, 2 each), then one probe per open period.
  const bound = FAILURES + 2 * CONCURRENCY + Math.ceil(downMs / OPEN_MS) + 1
  t.ok(hits >= FAILURES && hits <= bound, `${hits} attempts reached the partner in ${downMs} ms (bound ${bound}, by the probe rate)`)
  const probes = mostFrom.filter((p) => p.n > FAILURES + 2 * CONCURRENCY)
  t.ok(probes.every((p) => p.inFlight === 1), `after the opening, one probe at a time (${probes.map((p) => p.inFlight).join(',')})`)

  const rows = (await w.db.query<{ attempts: number; status: string }>(`SELECT attempts, status FROM deliveries`)).rows
  t.equal(rows.length, N)
  t.ok(rows.every((r) => r.status === 'pending'), 'all still pending: none dead')
  // A probe counts its attempt just before it reaches the partner: read both until no probe is
  // between the two (attempts spent by waiting deliveries would never let them agree).
  const spentNow = async (): Promise<number> => (await w.db.query<{ n: number }>(`SELECT coalesce(sum(attempts), 0)::int AS n FROM deliveries`)).rows[0]?.n ?? -1
  let spent = -1
  let reached = -1
  await until('the attempts spent and those that reached the partner to be read between two probes', async () => {
    reached = tax.posts
    spent = await spentNow()
    return spent === reached && tax.posts === reached
  }, 5_000).catch(() => {})
  t.equal(spent, reached, 'each attempt spent is one that reached the partner: waiting deliveries spend none')
  t.ok(rows.filter((r) => r.attempts === 0).length >= N - bound, `${rows.filter((r) => r.attempts === 0).length} deliveries never attempted`)

  t.ok(await queue.isPaused() || (await queue.getGlobalConcurrency()) === 1, 'the queue is paused (open) or runs one at a time (half-open)')
  for (const app of [w.app, b]) {
    const [line] = await metric(app, 'tongban_delivery_circuit_open{')
    t.match(line, new RegExp(`^tongban_delivery_circuit_open\\{recipient="${TAX}"\\} (1|0\\.5)$`), 'each instance\'s /metrics shows the circuit')
  }
  const page = await partnersPage()
  t.match(page, new RegExp(`data-partner="${TAX}"[\\s\\S]*?<td class="overdue">(open|half-open)</td>`), 'the console\'s partners page shows the delivery circuit')
  const events = [...await metric(w.app, 'tongban_delivery_circuit_events_total{'), ...await metric(b, 'tongban_delivery_circuit_events_total{')]
  const count = (event: string): number => events.filter((l) => l.includes(`event="${event}"`)).reduce((s, l) => s + Number(l.split(' ').pop()), 0)
  t.equal(count('opened'), 1, 'opened once, by one of the two instances')
  t.ok(count('probing') >= 2, `made half-open ${count('probing')} times`)

  for (const caseId of [cases[0]!, cases[N - 1]!]) {
    const view = await w.client(REG).getCase(caseId)
    t.equal(view.status, 200)
    const waiting = (view.json as { timeline: Array<Record<string, unknown>> }).timeline.filter((e) => e.event === 'delivery.waiting')
    t.equal(waiting.length, 1, `${caseId}: said once however often the probe failed`)
    t.match(waiting[0], { recipient: TAX, waiting: 'partner unavailable', probeAt: String })
  }
})

t.test('the partner is back: the probe closes the circuit, the queue resumes, each message arrives once', async (t) => {
  tax.behave(() => 200)
  await tax.waitFor(N, 20_000)
  await until('every delivery settled', async () => (await w.db.query(`SELECT 1 FROM deliveries WHERE status <> 'delivered'`)).rowCount === 0)
  t.pass('all delivered')
  t.ok([...tax.accepted.values()].every((n) => n === 1), 'each once')
  t.notOk(await queue.isPaused(), 'the queue runs')
  t.equal(await queue.getGlobalConcurrency(), null, 'at full concurrency again')
  for (const app of [w.app, b]) t.same(await metric(app, 'tongban_delivery_circuit_open{'), [], 'no circuit open in /metrics')
  const closed = [...await metric(w.app, 'tongban_delivery_circuit_events_total{'), ...await metric(b, 'tongban_delivery_circuit_events_total{')]
    .filter((l) => l.includes('event="closed"')).reduce((s, l) => s + Number(l.split(' ').pop()), 0)
  t.equal(closed, 1, 'closed once')
  const log = w.logText() + logsB.join('')
  t.match(log, /delivery circuit opened/)
  t.match(log, /delivery circuit closed/)
})
