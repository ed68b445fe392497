import t from 'tap'
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ADAPTERS } from '../../adapters/index.ts'
import type { AttestedMessage } from '../../src/core/envelope.ts'
import { DeliveryError, type PartnerAdapter } from '../../src/outbound/adapter.ts'
import { TestClock } from '../helpers/clock.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { WALKS, walk, type Answered, type Triggers } from '../helpers/route-walk.ts'
import { DATABASE_URL } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'
import { until } from '../helpers/wait.ts'
import { World } from '../helpers/world.ts'

// Issue: "a test sends one request per (route, code) pair that the catalogue promises"
// (src/inbound/route-errors.ts). This file walks the reads, the ledger, the operator routes and
// the adapters' route (WALKS.reads); route-errors-signed.test.ts walks the signed ones. Every code
// comes from the running gateway for its real cause: PostgreSQL gone is a TCP proxy in front of
// it that the test cuts, an expired token is one issued with the clock set back, and so on.

const REG = 'REG:231202'
const TAX = 'TAX:231202'
/** A shared-secret partner behind the probe adapter below. */
const PROBE = 'TAX:231221'
const TOKEN_TTL = 300
/** limits.adapterRequestsPerMinute: small, so that a few requests go over it. */
const ADAPTER_BUDGET = 3
const BODY_BYTES = 64 * 1024

/**
 * A minimal adapter whose one inbound route submits the envelope it is posted, as a partner's
 * own route would, and does not catch a failure of the gateway. The shipped legacy-tax adapter
 * answers such a failure itself, in its vendor's JSON (cwdm TB_ERR_UNAVAILABLE, not
 * problem+json); an adapter that lets it through gets the gateway's 503 TB_ERR_UNAVAILABLE,
 * which is what the adapters' route declares. (Test only: it checks no MAC.)
 */
const probe: PartnerAdapter = {
  name: 'probe',
  auth: 'shared-secret',
  async deliver() {
    throw new DeliveryError('TYPE_UNSUPPORTED', 'the probe adapter delivers nothing')
  },
  inbound: [{
    path: 'submit',
    async handle(req, ctx) {
      const r = await ctx.submit(JSON.parse(req.body.toString('utf8')) as AttestedMessage, req.body)
      return { status: r.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(r) }
    },
  }],
}

// The gateway reaches PostgreSQL through the proxy; the World's own pool goes straight to it.
const db = new URL(DATABASE_URL)
const proxy = await TcpProxy.start(db.hostname, Number(db.port || 5432))
const clock = new TestClock()
const WATER = 'UTILITY:91231200MA1W00001Q:water'
const w = await World.start({
  label: 'walkreads',
  clock,
  adapters: new Map([...ADAPTERS, ['probe', probe]]),
  config: {
    databaseUrl: proxy.rewrite(DATABASE_URL),
    limits: { tokenTtlSeconds: TOKEN_TTL, bodyBytes: BODY_BYTES, adapterRequestsPerMinute: ADAPTER_BUDGET },
    // No background transaction while the proxy is cut: the ledger's integrator (first round a
    // minute after start, its maximum) and the deadline check (run at start, then hourly) do not
    // run during the walk, so each cut meets only the request under test. (A transaction that
    // loses its connection fails by itself: src/store/db.ts inTransaction.)
    ledger: { integrateMs: 60_000 },
    deadlines: { checkIntervalMs: 3_600_000 },
  },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    { id: PROBE, adapter: 'probe', sharedSecret: true, send: ['tax.payment.completed'], receive: [] },
    // A utility company: it reads no cases.
    { id: WATER, divisions: ['231200'], send: ['utility.transfer.completed'], receive: ['utility.transfer.notice'] },
  ],
})
const ops = w.operatorClient()
t.teardown(async () => {
  await ops.close()
  await w.close()
  await proxy.close()
})
const reg = w.client(REG)

// An expired token: issued with the gateway's clock set back past its lifetime (before any
// message is sent, so nothing else runs on the moved clock), checked on the real time.
clock.advance(-(TOKEN_TTL + 60) * 1000)
let expired: string
try {
  const r = await reg.http('POST', '/v1/token', await reg.tokenRequest(), { auth: false })
  expired = (r.json as { access_token: string }).access_token
} finally {
  clock.advance((TOKEN_TTL + 60) * 1000)
}

// One real message, delivered: a case, an exchange, a delivery that is not dead, ledger entries.
const request = validFixture('tax.assessment.request')
const caseId = request.envelope.caseId as string
const sent = await reg.send({ ...request.envelope })
await w.partner(TAX).server.waitFor(1)
const delivered = (await w.deliveryStatus()).find((r) => r.status === 'delivered')
if (delivered?.n !== 1) throw new Error('the message was not delivered')
const deliveryId = (await w.db.query<{ id: string }>('SELECT id FROM deliveries WHERE exchange_id = $1', [sent.exchangeId])).rows[0]?.id as string

const upload = await reg.uploadAttachment(Buffer.from('scanned application form'), 'application/pdf')

type Method = 'GET' | 'POST'

/** The three refusals of a token, on a participant's request. */
function tokens(method: Method, path: string) {
  return {
    TB_ERR_TOKEN_MISSING: () => reg.http(method, path, undefined, { auth: false }),
    TB_ERR_TOKEN_INVALID: () => reg.http(method, path, undefined, { auth: 'not-a-token' }),
    TB_ERR_TOKEN_EXPIRED: () => reg.http(method, path, undefined, { auth: expired }),
  }
}

/**
 * `send` while the gateway cannot reach PostgreSQL (tokens are taken before the cut). The request
 * goes once the gateway's pool has seen its connections end, so it meets a database that is gone,
 * not a connection dying under it (mid-transaction that would end the process: see the config).
 */
function withoutPostgres(send: () => Promise<Answered>): () => Promise<Answered> {
  return async () => {
    await reg.token()
    await ops.token()
    proxy.cut()
    try {
      await until('the gateway\'s pool to drop its connections', () => w.app.tb.db.totalCount === 0, 5_000)
      return await send()
    } finally {
      proxy.restore()
    }
  }
}

/** An authenticated read (of a participant, or `as` an operator): the token refusals and PostgreSQL gone. */
function read(path: string, as = reg) {
  return { ...tokens('GET', path), TB_ERR_UNAVAILABLE: withoutPostgres(() => as.http('GET', path)) }
}

const json = (o: unknown): string => JSON.stringify(o)
const asJson = { contentType: 'application/json' }
const unknownCase = '231202-2026-999999'
const close = (c: string, step: string): string => `/v1/admin/cases/${c}/steps/${step}/close`
const adapterRoute = (adapter: string, participant: string, path: string): string => `${w.url}/v1/adapters/${adapter}/${encodeURIComponent(participant)}/${path}`

const triggers: Triggers = {
  // No error of their own: nothing to send.
  'GET /healthz': {},
  'GET /readyz': {},
  'GET /v1/directory': {},
  'GET /v1/openapi.json': {},

  'GET /v1/queries': {
    ...read('/v1/queries'),
    TB_ERR_BAD_REQUEST: () => reg.http('GET', '/v1/queries?limit=0'),
  },
  'GET /v1/queries/:id/problem': {
    ...read(`/v1/queries/${randomUUID()}/problem`),
    TB_ERR_NOT_FOUND: () => reg.http('GET', `/v1/queries/${randomUUID()}/problem`),
  },
  'GET /v1/cases': {
    ...read('/v1/cases'),
    TB_ERR_BAD_REQUEST: () => reg.http('GET', '/v1/cases?overdue=yes'),
    TB_ERR_FORBIDDEN: () => w.client(WATER).http('GET', '/v1/cases'),
  },
  'GET /v1/cases/:caseId': {
    ...read(`/v1/cases/${caseId}`),
    TB_ERR_BAD_REQUEST: () => reg.http('GET', '/v1/cases/not-a-case'),
    TB_ERR_NOT_FOUND: () => reg.http('GET', `/v1/cases/${unknownCase}`),
  },
  'GET /v1/cases/:caseId/evidence': {
    ...read(`/v1/cases/${caseId}/evidence`),
    TB_ERR_BAD_REQUEST: () => reg.http('GET', '/v1/cases/not-a-case/evidence'),
    TB_ERR_NOT_FOUND: () => reg.http('GET', `/v1/cases/${unknownCase}/evidence`),
  },
  'GET /v1/exchanges/:id': {
    ...read(`/v1/exchanges/${sent.exchangeId}`),
    TB_ERR_NOT_FOUND: () => reg.http('GET', `/v1/exchanges/${randomUUID()}`),
  },

  // REG's own upload: its uploader reads it; an operator is no participant.
  'GET /v1/attachments/:id': {
    ...read(`/v1/attachments/${upload.id}`),
    TB_ERR_FORBIDDEN: () => ops.http('GET', `/v1/attachments/${upload.id}`),
    TB_ERR_NOT_FOUND: () => reg.http('GET', `/v1/attachments/${randomUUID()}`),
  },

  // The ledger: a size beyond the tree is not there (yet).
  'GET /v1/ledger/checkpoint': {
    ...read('/v1/ledger/checkpoint'),
    TB_ERR_BAD_REQUEST: () => reg.http('GET', '/v1/ledger/checkpoint?treeSize=01'),
    TB_ERR_NOT_FOUND: () => reg.http('GET', '/v1/ledger/checkpoint?treeSize=999999'),
  },
  'GET /v1/ledger/proof/inclusion': {
    ...read('/v1/ledger/proof/inclusion?index=0'),
    TB_ERR_BAD_REQUEST: () => reg.http('GET', '/v1/ledger/proof/inclusion'),
    TB_ERR_NOT_FOUND: () => reg.http('GET', '/v1/ledger/proof/inclusion?index=0&treeSize=999999'),
  },
  'GET /v1/ledger/proof/consistency': {
    ...read('/v1/ledger/proof/consistency?from=0&to=1'),
    TB_ERR_BAD_REQUEST: () => reg.http('GET', '/v1/ledger/proof/consistency?from=2&to=1'),
    TB_ERR_NOT_FOUND: () => reg.http('GET', '/v1/ledger/proof/consistency?from=0&to=999999'),
  },
  'GET /v1/ledger/entries/:ref': {
    ...read('/v1/ledger/entries/0'),
    TB_ERR_BAD_REQUEST: () => reg.http('GET', '/v1/ledger/entries/not-a-ref'),
    TB_ERR_NOT_FOUND: () => reg.http('GET', '/v1/ledger/entries/999999'),
  },

  // Operators only: a participant's valid token is forbidden.
  'GET /v1/admin/deliveries': {
    ...read('/v1/admin/deliveries', ops),
    TB_ERR_FORBIDDEN: () => reg.http('GET', '/v1/admin/deliveries'),
    TB_ERR_BAD_REQUEST: () => ops.http('GET', '/v1/admin/deliveries?status=lost'),
  },
  'POST /v1/admin/deliveries/:id/replay': {
    ...tokens('POST', `/v1/admin/deliveries/${deliveryId}/replay`),
    TB_ERR_UNAVAILABLE: withoutPostgres(() => ops.http('POST', `/v1/admin/deliveries/${deliveryId}/replay`)),
    TB_ERR_FORBIDDEN: () => reg.http('POST', `/v1/admin/deliveries/${deliveryId}/replay`),
    TB_ERR_NOT_FOUND: () => ops.http('POST', `/v1/admin/deliveries/${randomUUID()}/replay`),
    // Only a dead delivery is replayed; this one was delivered.
    TB_ERR_INVALID_STATE: () => ops.http('POST', `/v1/admin/deliveries/${deliveryId}/replay`),
    // It needs no body, but one sent is read first (the operators' routes take a JSON reason).
    TB_ERR_CONTENT_TYPE: () => ops.http('POST', `/v1/admin/deliveries/${deliveryId}/replay`, 'now', { contentType: 'text/plain' }),
    TB_ERR_BODY_TOO_LARGE: () => ops.http('POST', `/v1/admin/deliveries/${deliveryId}/replay`, json({ reason: 'x'.repeat(5000) }), asJson),
    TB_ERR_BAD_REQUEST: () => ops.http('POST', `/v1/admin/deliveries/${deliveryId}/replay`, '{not json', asJson),
  },
  'POST /v1/admin/directory/reload': {
    ...tokens('POST', '/v1/admin/directory/reload'),
    // The reload and what it loads are recorded in the ledger before the swap: not recordable, not done.
    TB_ERR_UNAVAILABLE: withoutPostgres(() => ops.http('POST', '/v1/admin/directory/reload')),
    TB_ERR_FORBIDDEN: () => reg.http('POST', '/v1/admin/directory/reload'),
    TB_ERR_DIRECTORY_INVALID: async () => {
      writeFileSync(join(w.dir, 'directory.json'), '{ "version": 1, "participants": [ ')
      try {
        return await ops.http('POST', '/v1/admin/directory/reload')
      } finally {
        w.writeDirectory()
      }
    },
    TB_ERR_CONTENT_TYPE: () => ops.http('POST', '/v1/admin/directory/reload', 'now', { contentType: 'text/plain' }),
    TB_ERR_BODY_TOO_LARGE: () => ops.http('POST', '/v1/admin/directory/reload', json({ reason: 'x'.repeat(5000) }), asJson),
    TB_ERR_BAD_REQUEST: () => ops.http('POST', '/v1/admin/directory/reload', '{not json', asJson),
  },
  'POST /v1/admin/cases/:caseId/steps/:stepId/close': {
    ...tokens('POST', close(caseId, randomUUID())),
    TB_ERR_UNAVAILABLE: withoutPostgres(() => ops.http('POST', close(caseId, randomUUID()), json({ reason: '无人处理' }), asJson)),
    TB_ERR_FORBIDDEN: () => reg.http('POST', close(caseId, randomUUID()), json({ reason: '无人处理' }), asJson),
    TB_ERR_CONTENT_TYPE: () => ops.http('POST', close(caseId, randomUUID()), 'reason=无人处理', { contentType: 'text/plain' }),
    // Its JSON body limit is 4096 bytes (src/inbound/routes/admin.ts).
    TB_ERR_BODY_TOO_LARGE: () => ops.http('POST', close(caseId, randomUUID()), json({ reason: 'x'.repeat(5000) }), asJson),
    TB_ERR_BAD_REQUEST: () => ops.http('POST', close(caseId, randomUUID()), json({}), asJson),
    TB_ERR_NOT_FOUND: () => ops.http('POST', close(caseId, randomUUID()), json({ reason: '无人处理' }), asJson),
  },

  // The adapters' routes (no token: the adapter authenticates its partner). Each route counts
  // its own budget per address: legacy-tax's thxx is spent here, the others stay within theirs.
  'POST /v1/adapters/:adapter/:participant/:path': {
    TB_ERR_RATE_LIMITED: async () => {
      for (let i = 0; i < ADAPTER_BUDGET; i++) await (await fetch(adapterRoute('legacy-tax', TAX, 'thxx'), { method: 'POST', body: '{}' })).arrayBuffer()
      return fetch(adapterRoute('legacy-tax', TAX, 'thxx'), { method: 'POST', body: '{}' })
    },
    TB_ERR_BODY_TOO_LARGE: () => fetch(adapterRoute('legacy-tax', TAX, 'wsxx'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(BODY_BYTES + 1) }),
    // TAX is a native participant, not one of legacy-tax's.
    TB_ERR_NOT_FOUND: () => fetch(adapterRoute('legacy-tax', TAX, 'wsxx'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    TB_ERR_UNAVAILABLE: withoutPostgres(() => fetch(adapterRoute('probe', PROBE, 'submit'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json({ ...validFixture('tax.payment.completed').envelope, id: randomUUID() }),
    })),
  },
}

await walk(t, WALKS.reads, triggers)
