import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { OwnRedis } from '../helpers/redis-server.ts'
import { World } from '../helpers/world.ts'

// When Redis is gone, the gateway says so: /readyz is 503 and a message is refused with 503
// TB_ERR_UNAVAILABLE (fault: gateway, Retry-After) — nothing accepted, nothing half-stored;
// when Redis is back, everything works again, and what was pending is delivered.
const redis = await OwnRedis.start()
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'deps',
  redisUrl: redis.url,
  config: { delivery: { attempts: 20, backoffMs: 100, maxBackoffMs: 500, maxAgeSeconds: 3600, sweepIntervalMs: 300, sweepGraceMs: 300, concurrency: 2, lockMs: 2_000 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(async () => {
  await w.close()
  await redis.down()
})
const request = validFixture('tax.assessment.request')

t.test('ready while everything is up', async (t) => {
  const r = await fetch(`${w.url}/readyz`)
  t.equal(r.status, 200)
  t.same(((await r.json()) as { checks: object }).checks, { postgres: true, redis: true, keys: true, suites: ['national', 'international'] })
  t.equal((await fetch(`${w.url}/healthz`)).status, 200)
})

t.test('Redis down: not ready, and messages are refused with 503 TB_ERR_UNAVAILABLE', async (t) => {
  const reg = w.client(REG)
  await reg.token() // taken while Redis is up: the token itself needs no Redis
  await redis.down()
  const r = await fetch(`${w.url}/readyz`)
  t.equal(r.status, 503)
  t.equal(((await r.json()) as { checks: { redis: boolean } }).checks.redis, false)
  t.equal((await fetch(`${w.url}/healthz`)).status, 200, 'the process still answers')
  const before = (await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM exchanges')).rows[0]?.n
  const res = await reg.http('POST', '/v1/messages', await reg.encrypt(await reg.sign(reg.envelope({ ...request.envelope }))))
  const p = res.json as { code: string; fault: string; status: number }
  t.same([res.status, p.code, p.fault], [503, 'TB_ERR_UNAVAILABLE', 'gateway'])
  t.equal(res.headers['retry-after'], '5')
  t.equal((await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM exchanges')).rows[0]?.n, before, 'nothing accepted')
  t.notMatch(res.text, /ECONNREFUSED|ioredis|stack/i, 'no internals in the answer')
})

t.test('Redis back: ready again, messages accepted and delivered', async (t) => {
  await redis.up()
  const end = Date.now() + 15_000
  while ((await fetch(`${w.url}/readyz`)).status !== 200 && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
  t.equal((await fetch(`${w.url}/readyz`)).status, 200)
  const sent = await w.client(REG).send({ ...request.envelope })
  t.equal(sent.status, 202)
  await w.partner(TAX).server.waitFor(1, 20_000)
  t.equal(w.partner(TAX).server.accepted.get(sent.receipt.messageId), 1)
})

t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
