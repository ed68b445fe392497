import t from 'tap'
import { Queue } from 'bullmq'
import { queueName } from '../../src/outbound/delivery.ts'
import { redisConnection } from '../../src/gateway/redis-options.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { until } from '../helpers/wait.ts'
import { TEST_DELIVERY, World } from '../helpers/world.ts'

// A delivery job names its delivery and, since issue 9, the time it was created: the attempt then
// reads that month's partition only, in one statement with its exchange and sealed message. A job
// from an older gateway has no time, and a job could name a wrong one (Redis is not the truth):
// each is still delivered once, with its attempts counted and its timeline written.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'jobdata',
  // A failed attempt waits a minute, and the sweeper sleeps: the test replaces the waiting jobs by hand.
  config: { delivery: { ...TEST_DELIVERY, backoffMs: 60_000, maxBackoffMs: 60_000, circuitFailures: 0, sweepIntervalMs: 60_000, sweepGraceMs: 60_000 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
const queue = new Queue(queueName(TAX), { connection: redisConnection(w.config), prefix: w.config.redisPrefix })
t.teardown(async () => {
  await queue.close()
  await w.close()
})

interface Row { id: string; status: string; attempts: number; lastError: string | null; createdAt: Date }
const delivery = async (exchangeId: string): Promise<Row> =>
  (await w.db.query<Row>(`SELECT id, status, attempts, last_error AS "lastError", created_at AS "createdAt" FROM deliveries WHERE exchange_id = $1`, [exchangeId])).rows[0] as Row

t.test('jobs without a time, with a wrong one and with garbage are each delivered once', async (t) => {
  const tax = w.partner(TAX).server
  tax.behave(() => 503)
  const variants: Array<[string, (r: Row) => Record<string, unknown>]> = [
    ['no time (an older gateway\'s job)', (r) => ({ deliveryId: r.id })],
    ['a time of another month', (r) => ({ deliveryId: r.id, createdAt: new Date(r.createdAt.getTime() - 40 * 86_400_000).toISOString() })],
    ['a time a millisecond off', (r) => ({ deliveryId: r.id, createdAt: new Date(r.createdAt.getTime() + 1).toISOString() })],
    ['not a time', (r) => ({ deliveryId: r.id, createdAt: 'yesterday' })],
    ['its own time', (r) => ({ deliveryId: r.id, createdAt: r.createdAt.toISOString() })],
  ]
  const sent: Array<{ exchangeId: string; messageId: string; caseId: string }> = []
  for (let i = 0; i < variants.length; i++) {
    const caseId = `231202-2026-00${7100 + i}`
    const fixture = validFixture('tax.assessment.request').envelope
    const r = await w.client(REG).send({ ...fixture, caseId })
    sent.push({ exchangeId: r.exchangeId, messageId: r.receipt.messageId, caseId })
  }
  // (Failed, not only begun: an attempt is counted before the partner is called.)
  await until('one failed attempt each', async () => (await Promise.all(sent.map((s) => delivery(s.exchangeId)))).every((r) => r.attempts === 1 && r.lastError !== null))
  tax.behave(() => 200)
  for (const [i, [, data]] of variants.entries()) {
    const row = await delivery((sent[i] as { exchangeId: string }).exchangeId)
    await until('the job waiting out its backoff', async () => (await (await queue.getJob(row.id))?.getState()) === 'delayed')
    await (await queue.getJob(row.id))?.remove()
    await queue.add('deliver', data(row), { jobId: row.id, attempts: 6, backoff: { type: 'tongban' }, removeOnComplete: true, removeOnFail: true })
  }
  await until('all delivered', async () => (await Promise.all(sent.map((s) => delivery(s.exchangeId)))).every((r) => r.status === 'delivered'))
  for (const [i, [name]] of variants.entries()) {
    const s = sent[i] as { exchangeId: string; messageId: string; caseId: string }
    const row = await delivery(s.exchangeId)
    t.equal(row.attempts, 2, `${name}: the second attempt delivered it`)
    t.equal(tax.accepted.get(s.messageId), 1, `${name}: the partner accepted it once`)
    const events = (await w.db.query<{ event: string; deliveryId: string }>(
      `SELECT event, delivery_id AS "deliveryId" FROM case_events WHERE case_id = $1 AND event LIKE 'delivery.%' ORDER BY id`, [s.caseId])).rows
    t.same(events, [{ event: 'delivery.failed', deliveryId: row.id }, { event: 'delivery.delivered', deliveryId: row.id }], `${name}: the timeline has the failure and the delivery`)
    const settled = await w.db.query(`SELECT 1 FROM ledger_entries WHERE kind = 'delivery.settled' AND entry::jsonb->>'deliveryId' = $1`, [row.id])
    t.equal(settled.rowCount, 1, `${name}: one settlement in the ledger`)
  }
})
