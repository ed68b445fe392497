import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { buildGateway } from '../../src/gateway/index.ts'
import { createLogger } from '../../src/util/log.ts'
import { TestClock } from '../helpers/clock.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { OwnRedis } from '../helpers/redis-server.ts'
import { World } from '../helpers/world.ts'

// Issue 9: the work every instance repeats — the sweeper (pending deliveries no queue holds) and
// the deadline check (steps past their due date) — is harmless when instances do it at the same
// moment, and this shows it rather than assuming it. Two gateway instances share one PostgreSQL
// schema and one Redis (a redis-server of the test's own): their sweepers re-enqueue the same
// lost deliveries at once, and each arrives once (the delivery id is the job id, a job of a
// delivery no longer pending is skipped, an attempt starts only on a pending row); their deadline
// checks mark the same overdue steps at once, and each is marked and put in the timeline once
// (FOR UPDATE SKIP LOCKED, and the row re-checked once locked).
const redis = await OwnRedis.start()
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const N = 20
const clock = new TestClock()
// No sweep nor check on a timer during the test (only the ones at start): the test calls them.
// The delivery circuit is off: every delivery must fail once on its own (circuit.test.ts tests it).
const delivery = { attempts: 50, backoffMs: 60_000, maxBackoffMs: 60_000, maxAgeSeconds: 86_400, sweepIntervalMs: 3_600_000, sweepGraceMs: 200, concurrency: 4, lockMs: 2_000, circuitFailures: 0 }
const w = await World.start({
  label: 'twoinst',
  clock,
  redisUrl: redis.url,
  config: { delivery, deadlines: { checkIntervalMs: 3_600_000 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
// The second instance: the same configuration (schema, Redis and its prefix, keys, directory).
const logs: string[] = []
const b: FastifyInstance = await buildGateway({
  config: w.configFor({ delivery }), clock, validateResponses: true,
  logger: createLogger({ level: 'info', stream: { write: (s: string) => { logs.push(s) } } }),
})
t.teardown(async () => {
  await b.close()
  await w.close()
  await redis.down()
})
const a = w.app

t.test('two sweepers re-enqueue the same lost deliveries at once: each arrives once', async (t) => {
  const tax = w.partner(TAX).server
  tax.behave(() => 503)
  const request = validFixture('tax.assessment.request')
  const sent: string[] = []
  for (let i = 0; i < N; i++) {
    const r = await w.client(REG).send({ ...request.envelope, caseId: `231202-2026-8${String(i).padStart(6, '0')}` })
    t.equal(r.status, 202)
    sent.push(r.receipt.messageId)
  }
  // Every first attempt failed (503): the retries wait a minute in BullMQ. Then Redis loses them.
  const end = Date.now() + 20_000
  const attempted = async (): Promise<number> => (await w.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending' AND attempts >= 1`)).rows[0]?.n ?? 0
  while ((await attempted()) < N && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
  t.equal(await attempted(), N, 'every delivery was attempted once and waits for a retry')
  const admin = new Redis(redis.url)
  await admin.flushall()
  admin.disconnect()
  tax.behave(() => 200)
  await new Promise((r) => setTimeout(r, 400)) // past sweepGraceMs

  const lost = (await w.db.query<{ id: string; recipient: string }>(`SELECT id, recipient FROM deliveries WHERE status = 'pending'`)).rows
  const [byA, byB] = await Promise.all([a.tb.delivery.sweepOnce(), b.tb.delivery.sweepOnce()])
  t.ok(byA + byB > 0, `both swept at once (${byA} + ${byB} re-enqueued)`)
  // The worst interleaving, forced: a sweeper that listed the lost deliveries and found no job
  // before the other re-enqueued them enqueues them all again — while they wait, are attempted,
  // or are already delivered and their jobs removed.
  await b.tb.delivery.enqueue(lost)
  await new Promise((r) => setTimeout(r, 300))
  await b.tb.delivery.enqueue(lost)
  await tax.waitFor(N, 30_000)
  await new Promise((r) => setTimeout(r, 1_000)) // room for a second delivery of anything, if there were one
  t.same(sent.filter((id) => tax.accepted.get(id) !== 1), [], 'every message arrived exactly once')
  const states = (await w.db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`)).rows
  t.same(states, [{ status: 'delivered', n: N }], 'all delivered, none pending or dead')
})

t.test('two deadline checks mark the same overdue steps at once: each once, one timeline event each', async (t) => {
  const open = (await w.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM case_steps WHERE status = 'open' AND overdue_at IS NULL`)).rows[0]?.n ?? 0
  t.equal(open, N, 'one open tax step per case')
  clock.advance(40 * 86_400_000) // far past five working days
  const [byA, byB] = await Promise.all([a.tb.deadlines.checkOverdue(), b.tb.deadlines.checkOverdue()])
  t.equal(byA + byB, N, `every overdue step marked once between them (${byA} + ${byB})`)
  const events = (await w.db.query<{ case_id: string; n: number }>(`SELECT case_id, count(*)::int AS n FROM case_events WHERE event = 'step.overdue' GROUP BY case_id`)).rows
  t.equal(events.length, N, 'every case has its event')
  t.same(events.filter((e) => e.n !== 1), [], 'and only one')
  t.same([await a.tb.deadlines.checkOverdue(), await b.tb.deadlines.checkOverdue()], [0, 0], 'nothing left to mark')
})

t.test('neither instance answered outside its declarations', async (t) => {
  t.same(a.tb.responseFaults, [])
  t.same(b.tb.responseFaults, [])
})
