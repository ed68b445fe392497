import t from 'tap'
import { World } from '../helpers/world.ts'

// The routes anyone may call before authenticating are limited per client address (review
// finding 9): each token request costs a signature check, each adapter request an HMAC. The
// counts live in Redis (every instance shares them: test/gateway/quotas.test.ts).
const REG = 'REG:231202'
const w = await World.start({
  label: 'ratelimit',
  config: { limits: { bodyBytes: 1_048_576, replayWindowSeconds: 300, tokenTtlSeconds: 300, tokenRequestsPerMinute: 3, adapterRequestsPerMinute: 600 } },
  partners: [{ id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] }],
})
t.teardown(() => w.close())

t.test('POST /v1/token over its budget: 429 TB_ERR_RATE_LIMITED with Retry-After', async (t) => {
  const reg = w.client(REG)
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await reg.http('POST', '/v1/token', await reg.tokenRequest(), { auth: false })).status)
  t.same(statuses, [200, 200, 200], 'within the budget')
  const over = await reg.http('POST', '/v1/token', await reg.tokenRequest(), { auth: false })
  const p = over.json as { code: string; fault: string }
  t.same([over.status, p.code, p.fault], [429, 'TB_ERR_RATE_LIMITED', 'client'])
  t.ok(Number(over.headers['retry-after']) > 0, 'Retry-After says when')
  t.same(await w.redis.keys(`${w.prefix}:rl:POST/v1/token-*`), [`${w.prefix}:rl:POST/v1/token-127.0.0.1`], 'counted in Redis under the gateway\'s prefix, per client address')
  t.equal((await fetch(`${w.url}/healthz`)).status, 200, 'other routes are not limited by it')
})
