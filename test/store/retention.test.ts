import t from 'tap'
import { verifyEvidence } from '../../src/ledger/evidence.ts'
import { RetentionService } from '../../src/core/retention.ts'
import { inTransaction } from '../../src/store/db.ts'
import { lockUnpurged } from '../../src/store/retention.ts'
import { TestClock } from '../helpers/clock.ts'
import { until } from '../helpers/wait.ts'
import { retentionWorld } from '../helpers/retention-world.ts'

// Issue 9 (part 7): sealed bodies are purged retention.purgeAfterDays after the last delivery of
// their exchange settles. Nothing still pending loses its body, the case views still answer, a
// repeat of the same bytes still gets its receipt, and the evidence package says what was purged.
const DAY = 86_400_000
const clock = new TestClock(new Date('2026-11-02T02:00:00Z'))
const { w, tax, reg, send, delivery } = await retentionWorld('retention', clock, { purgeAfterDays: 30, keepMonths: 0 }, 300)
t.teardown(() => w.close())
const retention = w.app.tb.retention

async function purgedAt(exchangeId: string): Promise<Date | null> {
  return (await w.db.query<{ p: Date | null }>('SELECT purged_at AS p FROM exchanges WHERE id = $1', [exchangeId])).rows[0]?.p ?? null
}

tax.behave(() => 200)
const delivered = await send()
await until('delivered', async () => (await delivery(delivered.exchangeId)).status === 'delivered')
tax.behave(() => 422)
const dead = await send()
await until('dead', async () => (await delivery(dead.exchangeId)).status === 'dead')
tax.behave(() => 503)
const pending = await send()
await until('attempted', async () => (await delivery(pending.exchangeId)).attempts >= 1)

t.test('nothing is purged before its time', async (t) => {
  t.equal(await retention.purgeBodies(), 0, 'settled today: kept')
  clock.advance(29 * DAY)
  t.equal(await retention.purgeBodies(), 0, 'settled 29 days ago: kept')
  const off = new RetentionService({ db: w.db, clock: { now: () => new Date(clock.now().getTime() + 400 * DAY) }, logger: w.app.tb.logger, purgeAfterDays: 0, keepMonths: 0 })
  t.equal(await off.purgeBodies(), 0, 'purgeAfterDays 0 keeps every body')
})

t.test('30 days after settling, the delivered and the dead lose their bodies; the pending one keeps it', async (t) => {
  clock.advance(2 * DAY)
  t.equal(await retention.purgeBodies(), 2)
  t.ok(await purgedAt(delivered.exchangeId), 'the delivered exchange is purged')
  t.ok(await purgedAt(dead.exchangeId), 'the dead one is purged')
  t.equal(await purgedAt(pending.exchangeId), null, 'the pending one is not, though it is as old')
  const bodies = await w.db.query<{ id: string; has: boolean }>('SELECT id, message_sealed IS NOT NULL AS has FROM exchanges WHERE id = ANY($1::uuid[])', [[delivered.exchangeId, dead.exchangeId, pending.exchangeId]])
  t.same(Object.fromEntries(bodies.rows.map((r) => [r.id, r.has])), { [delivered.exchangeId]: false, [dead.exchangeId]: false, [pending.exchangeId]: true }, 'the bytes are gone, not only marked')
  t.equal(await retention.purgeBodies(), 0, 'a second run finds nothing more')

  // The partner comes back: the pending delivery still has its message.
  tax.behave(() => 200)
  await until('the pending one delivered', async () => (await delivery(pending.exchangeId)).status === 'delivered', 30_000)
  t.equal(tax.accepted.get(pending.messageId), 1, 'the partner opened and took it once')
})

t.test('the case views still answer, and a repeat still gets its receipt', async (t) => {
  const c = await reg.getCase(delivered.caseId)
  t.equal(c.status, 200)
  const events = (c.json as { timeline: Array<{ event: string }> }).timeline.map((e) => e.event)
  t.ok(events.includes('message.accepted') && events.includes('delivery.delivered'), `the timeline stays: ${events.join(', ')}`)
  const x = await reg.getExchange(delivered.exchangeId)
  t.equal(x.status, 200)
  t.equal((x.json as { deliveries: Array<{ status: string }> }).deliveries[0]?.status, 'delivered')
  const again = await reg.http('POST', '/v1/messages', delivered.body)
  t.equal(again.status, 200, 'the same bytes, a month later')
  t.equal(again.text, delivered.receipt, 'the original receipt, byte for byte')
})

t.test('a dead delivery whose message is purged cannot be replayed', async (t) => {
  const ops = w.operatorClient()
  t.teardown(() => ops.close())
  const r = await ops.http('POST', `/v1/admin/deliveries/${(await delivery(dead.exchangeId)).deliveryId}/replay`)
  t.equal(r.status, 409)
  t.match(r.json, { code: 'TB_ERR_INVALID_STATE', status: 409, deliveryStatus: 'dead', purged: true })
  t.equal((await delivery(dead.exchangeId)).status, 'dead', 'still dead')
})

t.test('the evidence package says the message was purged, and still verifies', async (t) => {
  const r = await reg.http('GET', `/v1/cases/${delivered.caseId}/evidence`)
  t.equal(r.status, 200)
  const payload = JSON.parse(Buffer.from(r.text.split('.')[1] as string, 'base64url').toString('utf8')) as { exchanges: Array<Record<string, unknown>> }
  const x = payload.exchanges[0] as { message?: string; purgedAt?: string; deliveries: Array<{ statement?: string }> }
  t.equal(x.message, undefined, 'no message')
  t.equal(x.purgedAt, (await purgedAt(delivered.exchangeId))?.toISOString(), 'purgedAt says when')
  t.equal(x.deliveries[0]?.statement, undefined, 'no delivery statement over bytes it no longer has')
  const report = await verifyEvidence(r.text, { gatewayKeys: w.gatewaySigningKeys() })
  t.ok(report.ok, JSON.stringify(report.fault))
  t.ok(report.notices.some((s) => s.includes('purged')), 'a notice names the purge')

  // Without purgedAt the absent message is a fault (before the package's own signature is checked).
  const parts = r.text.split('.')
  const strip = (f: (x: Record<string, unknown>) => void): string => {
    const p = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as { exchanges: Array<Record<string, unknown>> }
    f(p.exchanges[0] as Record<string, unknown>)
    return [parts[0], Buffer.from(JSON.stringify(p)).toString('base64url'), parts[2]].join('.')
  }
  const noMark = await verifyEvidence(strip((e) => { delete e.purgedAt }), { gatewayKeys: w.gatewaySigningKeys() })
  t.match(noMark.fault, { message: /no purgedAt/ })
  const claimed = await verifyEvidence(strip((e) => { (e.deliveries as Array<Record<string, unknown>>)[0]!.statement = 'x.y.z' }), { gatewayKeys: w.gatewaySigningKeys() })
  t.match(claimed.fault, { message: /statement/ })
})

t.test('an exchange locked by a replay in progress is skipped, and purged on a later run', async (t) => {
  tax.behave(() => 200)
  const m = await send()
  await until('delivered', async () => (await delivery(m.exchangeId)).status === 'delivered')
  clock.advance(31 * DAY)
  const held = await w.db.connect()
  try {
    await held.query('BEGIN')
    t.ok(await lockUnpurged(held, m.exchangeId), 'locked as a replay locks it')
    t.equal(await retention.purgeBodies(), 1, 'only the other due exchange (the once-pending one) is purged meanwhile')
    t.equal(await purgedAt(m.exchangeId), null, 'the locked one is not')
    await held.query('COMMIT')
  } finally {
    held.release()
  }
  t.equal(await retention.purgeBodies(), 1, 'purged once the lock is gone')
  await inTransaction(w.db, async (tx) => t.notOk(await lockUnpurged(tx, m.exchangeId), 'and nothing can lock it as unpurged any more'))
})

t.test('the gateway logged no personal data', async (t) => w.checkLogs(t))
