import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { OwnRedis } from '../helpers/redis-server.ts'
import { World } from '../helpers/world.ts'

// DESIGN §2.2: PostgreSQL is the truth, Redis only schedules. With deliveries pending (the
// partner is down, retries are waiting in BullMQ), Redis loses every key; the sweeper finds
// the pending deliveries whose jobs are gone and re-enqueues them, and all arrive once.
const redis = await OwnRedis.start()
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'flush',
  redisUrl: redis.url,
  config: { delivery: { attempts: 50, backoffMs: 3_000, maxBackoffMs: 3_000, maxAgeSeconds: 3600, sweepIntervalMs: 300, sweepGraceMs: 500, concurrency: 4, lockMs: 2_000, circuitFailures: 0 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(async () => {
  await w.close()
  await redis.down()
})

t.test('FLUSHALL while deliveries are pending: the sweeper re-enqueues them and all arrive', async (t) => {
  const tax = w.partner(TAX).server
  tax.behave(() => 503)
  const request = validFixture('tax.assessment.request')
  const sent: string[] = []
  for (let i = 0; i < 12; i++) {
    const r = await w.client(REG).send({ ...request.envelope, caseId: `231202-2026-${String(300 + i).padStart(6, '0')}` })
    sent.push(r.receipt.messageId)
  }
  // Every delivery has failed once and waits in BullMQ for its retry (the delivery circuit is
  // off here, or it would hold them after a few failures: test/delivery/circuit.test.ts).
  const end = Date.now() + 10_000
  while (tax.posts < 12 && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
  t.ok(tax.posts >= 12, 'each delivery was tried and failed')
  const jobsBefore = (await w.jobIds()).length
  t.ok(jobsBefore >= 12, `jobs are waiting in Redis (${jobsBefore})`)

  await redis.flushAll()
  t.equal((await w.jobIds()).length, 0, 'Redis lost every job')
  tax.behave(() => 200)

  await tax.waitFor(12, 20_000)
  t.same([...tax.accepted.keys()].sort(), [...sent].sort(), 'every accepted message arrived')
  t.ok([...tax.accepted.values()].every((n) => n === 1), 'each exactly once')
  t.same(await w.deliveryStatus(), [{ status: 'delivered', n: 12 }], 'PostgreSQL records all 12 as delivered')
  t.match(w.logText(), /sweeper re-enqueued pending deliveries/)
})

t.test('the gateway logged no personal data', async (t) => w.checkLogs(t))
