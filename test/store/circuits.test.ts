import t from 'tap'
import { Redis } from 'ioredis'
import { CircuitStore } from '../../src/store/circuits.ts'
import { REDIS_URL, dropRedisPrefix, isolationName } from '../helpers/services.ts'

// Issue 9: a recipient's delivery circuit lives in Redis, so every instance counts failures
// into the same circuit and sees it open. Two stores on two connections stand for two instances;
// the time is theirs to set, so the open period is exact.
const prefix = isolationName('circuits')
const a = new Redis(REDIS_URL)
const b = new Redis(REDIS_URL)
let now = 1_000_000
const one = new CircuitStore(a, prefix, () => now)
const two = new CircuitStore(b, prefix, () => now)
t.teardown(async () => {
  a.disconnect()
  b.disconnect()
  await dropRedisPrefix(prefix)
})

const P = 'TAX:231202'

t.test('failures from two instances count together; the Nth opens the circuit once', async (t) => {
  t.same(await one.get(P), { state: 'closed', failures: 0, until: 0, since: 0 }, 'nothing stored: closed')
  t.equal((await one.failure(P, 3, 5_000)).outcome, 'counted')
  t.equal((await two.failure(P, 3, 5_000)).outcome, 'counted')
  const third = await one.failure(P, 3, 5_000)
  t.same(third, { outcome: 'opened', since: now }, 'the third consecutive failure opens it')
  t.same(await two.get(P), { state: 'open', failures: 3, until: now + 5_000, since: now }, 'the other instance sees it open')
  t.equal((await two.failure(P, 3, 5_000)).outcome, 'counted', 'a failure while open (in flight before it opened) changes nothing')
  t.same(await one.unsettled(), [P], 'listed for the circuit check')
  t.same([...(await two.notClosed()).keys()], [P])
})

t.test('half-open once its time is up, for one caller only; a failed probe re-opens it', async (t) => {
  t.notOk(await one.halfOpen(P), 'not before its time')
  now += 5_000
  const [x, y] = await Promise.all([one.halfOpen(P), two.halfOpen(P)])
  t.same([x, y].filter(Boolean).length, 1, 'exactly one of two instances makes it half-open')
  t.equal((await one.get(P)).state, 'half-open')
  const since = (await one.get(P)).since
  now += 100
  t.same(await two.failure(P, 3, 5_000), { outcome: 'reopened', since }, 'the probe failed: open again, the outage still dated from its start')
  t.same(await one.get(P), { state: 'open', failures: 5, until: now + 5_000, since })
})

t.test('a success closes it; successes on a closed circuit write nothing', async (t) => {
  t.ok(await one.success(P), 'the partner answered: closed')
  t.same(await two.get(P), { state: 'closed', failures: 0, until: 0, since: 0 })
  t.notOk(await two.success(P), 'already closed')
  t.equal(await a.exists(`${prefix}:circuit:${P}`), 0, 'no key left behind')
  t.same(await one.unsettled(), [P], 'still listed until its queue is seen resumed')
  t.equal(await one.settled(P), true, 'closed: taken off')
  t.same(await one.unsettled(), [])
  t.same((await one.notClosed()).size, 0)
})

t.test('a circuit opened again before its queue is seen resumed stays looked after', async (t) => {
  for (let i = 0; i < 3; i++) await one.failure(P, 3, 5_000)
  t.ok(await two.success(P), 'closed by one instance')
  for (let i = 0; i < 3; i++) await one.failure(P, 3, 5_000)
  t.equal((await one.get(P)).state, 'open', 'and opened again by another')
  t.equal(await two.settled(P), false, 'the first instance, resuming its queue, does not take it off')
  t.same(await one.unsettled(), [P], 'still listed: the circuit check will pause its queue again')
  t.ok(await one.success(P))
  t.equal(await one.settled(P), true)
})

t.test('a success between failures starts the count again', async (t) => {
  await one.failure(P, 3, 5_000)
  await two.failure(P, 3, 5_000)
  t.notOk(await one.success(P), 'closed before, closed after')
  t.equal((await one.get(P)).failures, 0)
  await one.failure(P, 3, 5_000)
  t.equal((await two.failure(P, 3, 5_000)).outcome, 'counted', 'two failures since the success: still closed')
  t.equal((await one.failure(P, 3, 5_000)).outcome, 'opened')
  t.ok(await one.success(P))
  await one.settled(P)
})

t.test('Redis losing the keys (a flush) closes every circuit', async (t) => {
  for (let i = 0; i < 3; i++) await one.failure(P, 3, 5_000)
  t.equal((await one.get(P)).state, 'open')
  await dropRedisPrefix(prefix)
  t.same(await two.get(P), { state: 'closed', failures: 0, until: 0, since: 0 })
  t.same(await two.unsettled(), [])
})
