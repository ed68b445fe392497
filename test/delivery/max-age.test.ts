import t from 'tap'
import { TestClock } from '../helpers/clock.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// A delivery is dead after the configured attempts OR the configured age, whichever comes first:
// a partner down for longer than delivery.maxAgeSeconds does not keep a message pending forever.
const clock = new TestClock()
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'maxage',
  clock,
  config: { delivery: { attempts: 1000, backoffMs: 50, maxBackoffMs: 100, maxAgeSeconds: 3600, sweepIntervalMs: 60_000, sweepGraceMs: 60_000, concurrency: 2, lockMs: 2_000 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())

t.test('past delivery.maxAgeSeconds a failing delivery is dead, with its reason', async (t) => {
  w.partner(TAX).server.behave(() => 503)
  const sent = await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope })
  const status = async (): Promise<{ status: string; attempts: number; lastError: string | null }> =>
    ((await w.client(REG).getExchange(sent.exchangeId)).json as { deliveries: Array<{ status: string; attempts: number; lastError: string | null }> }).deliveries[0] as { status: string; attempts: number; lastError: string | null }
  const end = Date.now() + 10_000
  while ((await status()).attempts < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 30))
  t.equal((await status()).status, 'pending', 'still retrying within the age limit')
  clock.advance(3_601_000)
  while ((await status()).status === 'pending' && Date.now() < end + 10_000) await new Promise((r) => setTimeout(r, 30))
  const s = await status()
  t.equal(s.status, 'dead')
  t.match(s.lastError, /^EXPIRED/)
  t.ok(s.attempts < 1000, `long before the attempts run out (${s.attempts})`)
})

t.test('the gateway said at start which SM2 implementation it uses', async (t) => {
  t.match(w.logText(), /"smBackend":"(native|js)".*SM2 implementation: (native|js)/)
  if (process.env.TONGBAN_REQUIRE_NATIVE === '1') t.match(w.logText(), /SM2 implementation: native/, 'the native addon, in CI')
})
