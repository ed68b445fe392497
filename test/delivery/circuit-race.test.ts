import t from 'tap'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { queueName } from '../../src/outbound/delivery.ts'
import { redisConnection } from '../../src/gateway/redis-options.ts'
import { CircuitStore } from '../../src/store/circuits.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { until } from '../helpers/wait.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { TEST_DELIVERY, World } from '../helpers/world.ts'

// A chaos run stalled (2026-12-08): a partner's queue stayed paused with its circuit closed, and
// no instance looked at it again. Between an instance's read of the circuit (open) and its pause,
// another closed the circuit (a probe, or a delivery in flight, answered), resumed the queue and
// took the partner off the circuits to look after; the pause then held every delivery for good.
// Here that other instance is played at the exact moment: the circuit check reads the circuit
// open, and before it pauses, the circuit is closed, the queue resumed and the partner settled.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const OPEN_MS = 300
const delivery = { ...TEST_DELIVERY, circuitFailures: 3, circuitOpenMs: OPEN_MS }
const w = await World.start({
  label: 'circuitrace',
  config: { delivery },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
const redis = new Redis(REDIS_URL)
const queue = new Queue(queueName(TAX), { connection: redisConnection(w.config), prefix: w.config.redisPrefix })
const circuits = new CircuitStore(redis, w.config.redisPrefix)
t.teardown(async () => {
  await queue.close()
  redis.disconnect()
  await w.close()
})

t.test('a circuit closed by another instance between the check\'s read and its pause: the queue runs again', async (t) => {
  const original = CircuitStore.prototype.halfOpen
  let played = false
  // The circuit check calls halfOpen after reading the circuit open and due; the other instance wins.
  CircuitStore.prototype.halfOpen = async function (this: CircuitStore, recipient: string): Promise<boolean> {
    if (played || recipient !== TAX) return original.call(this, recipient)
    played = true
    t.ok(await circuits.success(TAX), 'the other instance: its delivery answered, the circuit closes')
    await queue.removeGlobalConcurrency()
    await queue.resume()
    await circuits.settled(TAX)
    return false
  }
  t.teardown(() => { CircuitStore.prototype.halfOpen = original })
  for (let i = 0; i < 3; i++) await circuits.failure(TAX, 3, OPEN_MS)
  t.equal((await circuits.get(TAX)).state, 'open', 'the circuit is open')
  await until('the circuit check to read the circuit open', () => played, 10_000)
  t.equal((await circuits.get(TAX)).state, 'closed')
  // Give the check time to finish its round (and to pause, as it did before the fix).
  await new Promise((r) => setTimeout(r, 4 * OPEN_MS))
  t.equal(await queue.isPaused(), false, 'the queue is not left paused')
  const sent = await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope, caseId: '231202-2026-8000001' })
  t.equal(sent.status, 202)
  await w.partner(TAX).server.waitFor(1, 10_000)
  t.pass('and a message sent now is delivered')
})
