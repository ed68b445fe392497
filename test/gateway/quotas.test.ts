import t from 'tap'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { TongbanClient } from '../../src/client/index.ts'
import { ConfigError, loadConfig, type Config, type DeepPartial } from '../../src/config/index.ts'
import { buildGateway } from '../../src/gateway/index.ts'
import { InFlightSlots } from '../../src/inbound/quotas.ts'
import { createLogger } from '../../src/util/log.ts'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { OwnRedis } from '../helpers/redis-server.ts'
import { dropRedisPrefix } from '../helpers/services.ts'
import { until } from '../helpers/wait.ts'
import { World } from '../helpers/world.ts'

// Issue 7, item 5: the limits were one budget per socket address in each process, so behind a
// proxy 120 junk token requests a minute locked everyone out, and one bank's flood of queries
// could hold a registration system's every slot and open its circuit for all banks. Now: limits
// key on the real client (trustProxy), live in Redis (shared by every instance), and
// authenticated calls have per-participant quotas.
const REG = 'REG:231202'
const REG_WK = 'REG:231221'
const TAX = 'TAX:231202'
const TAX_WK = 'TAX:231221'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
const OTHER_BANK = 'BANK:91350100M000100Y43'
const SMALL_BANK = 'BANK:91230100MA1B2C3D49:wangkui'
const MESSAGES_PER_MINUTE = 4
const REG_SENDS = ['tax.assessment.request']
const REG_GETS = ['tax.payment.completed', 'mortgage.query']

const w = await World.start({
  label: 'quotas',
  config: { quotas: { messagesPerMinute: MESSAGES_PER_MINUTE, queriesPerMinute: 120, queriesInFlight: 2 } },
  partners: [
    { id: REG, divisions: ['231202'], send: REG_SENDS, receive: REG_GETS },
    { id: REG_WK, divisions: ['231221'], send: REG_SENDS, receive: REG_GETS },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    { id: TAX_WK, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    { id: BANK, send: ['mortgage.query'], receive: [] },
    { id: OTHER_BANK, send: ['mortgage.query'], receive: [] },
    // Its directory entry lowers one quota below the gateway's default.
    { id: SMALL_BANK, send: ['mortgage.query'], receive: [], quotas: { queriesPerMinute: 2 } },
  ],
})
const extra: Array<{ app: FastifyInstance; clients: TongbanClient[] }> = []
const ownPrefixes: string[] = []
t.teardown(async () => {
  for (const g of extra) {
    for (const c of g.clients) await c.close().catch(() => {})
    await g.app.close().catch(() => {})
  }
  for (const p of ownPrefixes) await dropRedisPrefix(p).catch(() => {})
  await w.close()
})

/** Another gateway process of this world (same PostgreSQL schema, same Redis prefix unless `config` says otherwise), API only. */
async function instance(config: DeepPartial<Config> = {}, logs?: string[]): Promise<{ url: string; client: (id: string) => TongbanClient; close: () => Promise<void> }> {
  if (config.redisPrefix !== undefined) ownPrefixes.push(config.redisPrefix)
  const logger = createLogger({ level: 'info', stream: { write: (s: string) => { logs?.push(s) } } })
  const app = await buildGateway({ config: w.configFor({ workers: false, ...config }), logger })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const g = { app, clients: [] as TongbanClient[] }
  extra.push(g)
  return {
    url,
    close: async () => {
      extra.splice(extra.indexOf(g), 1)
      for (const c of g.clients) await c.close().catch(() => {})
      await app.close()
    },
    client: (id) => {
      const p = w.partner(id)
      const c = new TongbanClient({ baseUrl: url, participantId: id, signingKey: p.signingKey, encryptionKey: p.encryptionKey, gatewayKeys: w.gatewaySigningKeys() })
      g.clients.push(c)
      return c
    },
  }
}

type Problem = { code?: string; fault?: string; quota?: string; retryAfterSeconds?: number }
const tar = validFixture('tax.assessment.request')
/** A tax assessment request of `client` opening case `caseId` (its division is the id's prefix). */
function taxRequest(client: TongbanClient, caseId: string): ReturnType<TongbanClient['envelope']> {
  const division = caseId.slice(0, 6)
  const unit = `${division}003004GB00012F00010001`
  const b = bodyOf(tar) as { case: Record<string, unknown>; property: Record<string, unknown> }
  return client.envelope({ ...tar.envelope, caseId, unitCode: unit, body: { ...b, case: { ...b.case, receiptNumber: caseId }, property: { ...b.property, unitCode: unit } } })
}
async function postMessage(client: TongbanClient, caseId: string): Promise<{ status: number; code?: string; retryAfter?: string; nonce: string }> {
  const env = taxRequest(client, caseId)
  const res = await client.http('POST', '/v1/messages', await client.encrypt(await client.sign(env)))
  return { status: res.status, code: (res.json as Problem | undefined)?.code, retryAfter: res.headers['retry-after'] as string | undefined, nonce: env.nonce }
}
/** Whether the gateway holds a message nonce (claimed by an accepted message). */
const nonceKept = async (nonce: string): Promise<boolean> => (await w.redis.keys(`${w.prefix}:nonce:*:${nonce}`)).length > 0
const query = validFixture('mortgage.query')
async function postQuery(client: TongbanClient): Promise<{ status: number; problem: Problem; retryAfter?: string }> {
  const res = await client.http('POST', '/v1/queries', await client.encrypt(await client.sign(client.envelope({ ...query.envelope }))))
  return { status: res.status, problem: (res.json as Problem | undefined) ?? {}, retryAfter: res.headers['retry-after'] as string | undefined }
}
const answer = { type: 'mortgage.query.result', body: { ...bodyOf(validFixture('mortgage.query.result')), unitCode: query.envelope.unitCode } }
w.partner(REG).server.onQuery(async () => answer)

t.test('a participant\'s message quota is one budget across instances; another participant is unaffected', async (t) => {
  const b = await instance()
  const regOn = [w.client(REG), b.client(REG)]
  const sent: Array<{ status: number; nonce: string }> = []
  // Alternating instances: A, B, A, B — each call counts against the same budget in Redis.
  for (let i = 0; i < MESSAGES_PER_MINUTE; i++) sent.push(await postMessage(regOn[i % 2] as TongbanClient, `231202-2026-00010${i}`))
  t.same(sent.map((s) => s.status), Array(MESSAGES_PER_MINUTE).fill(202), `${MESSAGES_PER_MINUTE} messages accepted, two instances taking turns`)

  const before = await w.counts()
  const overA = await postMessage(regOn[0] as TongbanClient, '231202-2026-000198')
  const overB = await postMessage(regOn[1] as TongbanClient, '231202-2026-000199')
  t.same([overA.status, overA.code, overB.status, overB.code], [429, 'TB_ERR_RATE_LIMITED', 429, 'TB_ERR_RATE_LIMITED'], 'the next one is refused whichever instance it reaches')
  t.ok(Number(overA.retryAfter) > 0 && Number(overA.retryAfter) <= 60, 'Retry-After says when the minute ends')
  t.same(await w.counts(), before, 'a refused message writes nothing')
  t.ok(await nonceKept((sent[0] as { nonce: string }).nonce), 'an accepted message holds its nonce')
  t.same([await nonceKept(overA.nonce), await nonceKept(overB.nonce)], [false, false], 'a refused one burns none')

  // At the same moment, another centre sends through both instances.
  const other = [await postMessage(w.client(REG_WK), '231221-2026-000101'), await postMessage(b.client(REG_WK), '231221-2026-000102')]
  t.same(other.map((r) => r.status), [202, 202], 'REG:231221 is not limited by REG:231202\'s flood')
  t.equal((await fetch(`${w.url}/healthz`)).status, 200)
})

t.test('queries in flight: the third concurrent query of one bank is refused, another bank\'s goes through', async (t) => {
  const b = await instance()
  const server = w.partner(REG).server
  // The registration system answers only when the test lets it: no timing involved.
  let open!: () => void
  const gate = new Promise<void>((r) => { open = r })
  server.onQuery(async () => { await gate; return answer })
  const start = server.queries.length
  const held = [w.client(BANK).query({ ...query.envelope }), b.client(BANK).query({ ...query.envelope })]
  await until('two queries of the bank at the registration system', () => server.queries.length === start + 2)

  const before = await w.counts()
  const third = await postQuery(w.client(BANK))
  t.same([third.status, third.problem.code, third.problem.fault, third.problem.quota], [429, 'TB_ERR_RATE_LIMITED', 'client', 'queriesInFlight'], 'the bank\'s third at once is refused')
  t.equal(third.retryAfter, '1', 'Retry-After: a slot frees when one of its queries ends')
  const thirdOnB = await postQuery(b.client(BANK))
  t.equal(thirdOnB.status, 429, 'on the other instance too: the slots are counted in Redis')
  t.same(await w.counts(), before, 'the refused queries wrote nothing')
  t.equal(server.queries.length, start + 2, 'and never reached the registration system')

  const otherBank = postQuery(b.client(OTHER_BANK))
  await until('the other bank\'s query at the registration system', () => server.queries.length === start + 3)
  open()
  const answered = await Promise.all(held)
  t.equal(answered.length, 2, 'the bank\'s two queries are answered')
  t.equal((await otherBank).status, 200, 'the other bank\'s query went through while the bank was at its limit')
  t.equal((await postQuery(w.client(BANK))).status, 200, 'once its queries end, the bank has its slots back')
  server.onQuery(async () => answer)
})

t.test('a slot an instance never gave back lapses on its own', async (t) => {
  let now = Date.parse('2026-03-02T09:00:00Z')
  const clock = { now: () => new Date(now) }
  const slots = new InFlightSlots(w.redis, `${w.prefix}:rl:`, { ttlMs: 1_000, clock, onError: (err) => { throw err } })
  const first = await slots.acquire('BANK:crashed', 2, 'slot-1')
  t.ok(first !== undefined && (await slots.acquire('BANK:crashed', 2, 'slot-2')) !== undefined, 'two slots taken (and never given back: the instance crashed)')
  t.equal(await slots.acquire('BANK:crashed', 2, 'slot-3'), undefined, 'no third')
  now += 1_001
  t.ok((await slots.acquire('BANK:crashed', 2, 'slot-3')) !== undefined, 'after the slot lifetime the lost slots are free again')
  await first?.()
})

t.test('a participant\'s directory quota overrides the default', async (t) => {
  const b = await instance()
  const statuses = [(await postQuery(w.client(SMALL_BANK))).status, (await postQuery(b.client(SMALL_BANK))).status]
  t.same(statuses, [200, 200], 'its two queries a minute')
  const over = await postQuery(w.client(SMALL_BANK))
  t.same([over.status, over.problem.code, over.problem.quota], [429, 'TB_ERR_RATE_LIMITED', 'queriesPerMinute'])
  t.ok(Number(over.retryAfter) > 0, 'with Retry-After')
  t.equal((await postQuery(w.client(OTHER_BANK))).status, 200, 'the default of 120 for the others')
})

const junk = async (url: string, forwardedFor: string): Promise<number> =>
  (await fetch(`${url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/jose', 'x-forwarded-for': forwardedFor }, body: 'junk' })).status
const TOKEN_LIMIT = { bodyBytes: 1_048_576, replayWindowSeconds: 300, tokenTtlSeconds: 300, tokenRequestsPerMinute: 3, adapterRequestsPerMinute: 600 }

t.test('behind a trusted proxy, token requests are limited per real client', async (t) => {
  const p = await instance({ redisPrefix: `${w.prefix}.tp`, trustProxy: ['127.0.0.1'], limits: TOKEN_LIMIT })
  const flood: number[] = []
  for (let i = 0; i < 3; i++) flood.push(await junk(p.url, '203.0.113.7'))
  t.same(flood, [400, 400, 400], 'junk is refused as junk within the budget')
  t.equal(await junk(p.url, '203.0.113.7'), 429, 'then the flooder is limited')
  t.equal(await junk(p.url, '198.51.100.9'), 400, 'another client behind the same proxy still gets through')
  // Only hops the gateway trusts are believed: an address the flooder writes in front of its own is not.
  t.equal(await junk(p.url, '198.51.100.77, 203.0.113.7'), 429, 'a forged leftmost address does not escape the limit')
})

t.test('without trustProxy the header is ignored: everything is the socket address', async (t) => {
  const q = await instance({ redisPrefix: `${w.prefix}.np`, limits: TOKEN_LIMIT })
  const flood: number[] = []
  for (let i = 0; i < 3; i++) flood.push(await junk(q.url, '203.0.113.7'))
  t.same(flood, [400, 400, 400])
  t.equal(await junk(q.url, '198.51.100.9'), 429, 'another X-Forwarded-For changes nothing: all of it is 127.0.0.1')
})

t.test('trustProxy is checked at start', async (t) => {
  const base = { keysDir: w.config.keysDir, directoryFile: w.config.directoryFile }
  t.same(loadConfig({ overrides: base }).trustProxy, [], 'default: no proxy trusted')
  t.same(loadConfig({ overrides: base, env: { TONGBAN_TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,fd00::/8' } }).trustProxy, ['10.0.0.5', '10.1.0.0/16', 'fd00::/8'], 'TONGBAN_TRUST_PROXY: a comma-separated list')
  const err = ((): unknown => {
    try {
      return loadConfig({ overrides: { ...base, trustProxy: ['10.0.0.0/33', 'proxy.example'] } })
    } catch (e) {
      return e
    }
  })()
  t.ok(err instanceof ConfigError, 'a bad entry is a configuration error')
  t.same((err as ConfigError).problems.map((p) => p.slice(0, p.indexOf(':'))), ['/trustProxy/0', '/trustProxy/1'], 'naming each bad entry')
})

t.test('Redis down: limits are skipped (the request goes on), and the skip is logged', async (t) => {
  const redis = await OwnRedis.start()
  t.teardown(() => redis.down())
  const logs: string[] = []
  const r = await instance({ redisUrl: redis.url, limits: { ...TOKEN_LIMIT, tokenRequestsPerMinute: 1 } }, logs)
  t.equal(await junk(r.url, '203.0.113.7'), 400, 'within the budget')
  t.equal(await junk(r.url, '203.0.113.7'), 429, 'over it while Redis answers')
  await redis.down()
  t.equal(await junk(r.url, '203.0.113.7'), 400, 'Redis gone: the limit is not enforced (availability over limiting)')
  t.match(logs.join(''), /rate limits and quotas not enforced/, 'and the gateway says so')
  await redis.up()
  await r.close()
})
