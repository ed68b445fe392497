import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AttachmentWriter, digestHex, PrivateKey, signJws, type PublicKey } from '../../src/crypto/index.ts'
import type { Envelope } from '../../src/core/envelope.ts'
import type { TongbanClient } from '../../src/client/index.ts'
import { TestClock } from '../helpers/clock.ts'
import { bodyOf, invalidFixtures, validFixture } from '../helpers/fixtures.ts'
import { TestCa } from '../helpers/openssl-ca.ts'
import { walk, WALKS, type Triggers } from '../helpers/route-walk.ts'
import { DATABASE_URL } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'
import { World } from '../helpers/world.ts'

// src/inbound/route-errors.ts promises, per route, every error code the route can answer. Here
// one real request per (route, code) pair of the signed routes — POST /v1/token, /v1/messages
// and /v1/queries — draws each promised code from a running gateway (real PostgreSQL, Redis and
// crypto). The world's gateway rejects any code its route does not declare (a 500), so the walk
// also shows the list is not short for what these requests reach.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const HOUSING = 'HOUSING:231202'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
/** A bank allowed one message and one query a minute (its directory quotas): for TB_ERR_RATE_LIMITED. */
const SMALL_BANK = 'BANK:91350100M000100Y43'
/** Wangkui's tax bureau, behind the legacy adapter: it cannot fetch attachments (TB_ERR_ATTACHMENT_UNSUPPORTED). */
const REG_WK = 'REG:231221'
const TAX_LEGACY = 'TAX:231221'
const WK_UNIT = '231221101002GB00345F00020003'
const ATTACHMENT = 'application/vnd.tongban.attachment'
const BODY_BYTES = 64 * 1024
const BATCH_BYTES = 128 * 1024
const QUERY_TIMEOUT_MS = 3_000
const DAY = 86_400_000

// A P-256 CA whose CRL revokes the certificate of one of REG's signing keys (TB_ERR_KEY_REVOKED).
const tmp = mkdtempSync(join(tmpdir(), 'tongban-walk-'))
const ca = TestCa.create(join(tmp, 'ca'), 'p256', 'Walk CA')
const revoked = PrivateKey.generate(`${REG}#sign-revoked`, 'ec-p256')
const revokedCert = ca.issue(revoked.privatePem, { cn: REG, profile: 'sign' })
ca.revoke(revokedCert)
ca.crl()
// Another signing key of REG whose directory entry ended yesterday (TB_ERR_KEY_EXPIRED).
const expired = PrivateKey.generate(`${REG}#sign-expired`, 'ec-p256').privateKey
// A key no directory lists (TB_ERR_KEY_UNKNOWN).
const rogue = PrivateKey.generate(`${REG}#rogue`, 'ec-p256').privateKey

// The gateway reaches PostgreSQL through a proxy the test can cut (TB_ERR_UNAVAILABLE); the
// test's own connections (w.db) go straight to it.
const pgUrl = new URL(DATABASE_URL)
const proxy = await TcpProxy.start(pgUrl.hostname, Number(pgUrl.port || 5432))
const clock = new TestClock()

const w = await World.start({
  label: 'walksigned',
  clock,
  config: {
    databaseUrl: proxy.rewrite(DATABASE_URL),
    limits: { bodyBytes: BODY_BYTES, batchBytes: BATCH_BYTES, replayWindowSeconds: 300, tokenTtlSeconds: 300 },
    // The token budget is per client address: trusting loopback as a proxy lets one trigger spend
    // the budget of an address of its own (X-Forwarded-For) without locking the world's clients out.
    trustProxy: ['127.0.0.1'],
    queries: { timeoutMs: QUERY_TIMEOUT_MS, breakerFailures: 100 },
    pki: { anchors: [{ file: ca.certFile, crl: ca.crlFile }], requireCertificates: false },
    // No background transaction while the proxy is cut (as in route-errors-reads.test.ts): the
    // ledger's integrator (first round a minute after start, its maximum) and the deadline check
    // (at start, then hourly) do not run during the walk, so each cut meets only the request
    // under test.
    ledger: { integrateMs: 60_000 },
    deadlines: { checkIntervalMs: 3_600_000 },
  },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed', 'housing.contract.filed', 'mortgage.query'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    { id: HOUSING, send: ['housing.contract.filed'], receive: [] },
    { id: BANK, send: ['mortgage.query'], receive: [] },
    { id: SMALL_BANK, send: ['mortgage.query'], receive: [], quotas: { messagesPerMinute: 1, queriesPerMinute: 1 } },
    { id: REG_WK, send: ['tax.assessment.request'], receive: [] },
    { id: TAX_LEGACY, adapter: 'legacy-tax', sharedSecret: true, send: [], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(async () => {
  await w.close()
  await proxy.close()
  rmSync(tmp, { recursive: true, force: true })
})

// REG's extra signing keys go into the directory; the gateway restarts with it.
await w.stopGateway()
w.writeDirectory((doc) => {
  const reg = doc.participants.find((p) => p.id === REG) as { signingKeys: Array<Record<string, unknown>> }
  reg.signingKeys.push(
    { kid: expired.kid, publicKey: expired.publicKey.toPem(), notAfter: new Date(Date.now() - DAY).toISOString() },
    { kid: revoked.privateKey.kid, publicKey: revokedCert },
  )
})
await w.boot()

const reg = w.client(REG)
const tax = w.client(TAX)
const housing = w.client(HOUSING)
const bank = w.client(BANK)
const smallBank = w.client(SMALL_BANK)
const operator = w.operatorClient()
t.teardown(() => operator.close())

const taxRequest = validFixture('tax.assessment.request')
const paid = validFixture('tax.payment.completed')
const filed = validFixture('housing.contract.filed')
const mortgageQuery = validFixture('mortgage.query')
const queryResult = validFixture('mortgage.query.result')
// REG answers every forwarded query with the fixture's result for the queried unit (unless a trigger says otherwise).
const answerQueries = (): void => {
  w.partner(REG).server.onQuery(async (q) => ({ type: 'mortgage.query.result', body: { ...bodyOf(queryResult), unitCode: q.envelope.unitCode as string } }))
}
answerQueries()

let caseNo = 800
/** A case id of REG's division that no other request of this file uses. */
const nextCase = (): string => `231202-2026-${String(caseNo++).padStart(6, '0')}`
const now = (): number => Math.floor(clock.now().getTime() / 1000)
/** REG's tax assessment request on a case of its own (a new one unless given). */
const regRequest = (o: Partial<Envelope> = {}): Envelope => reg.envelope({ ...taxRequest.envelope, caseId: nextCase(), ...o })
const bankQuery = (o: Partial<Envelope> = {}): Envelope => bank.envelope({ ...mortgageQuery.envelope, ...o })
const sealed = async (client: TongbanClient, env: Envelope | Record<string, unknown>): Promise<string> => client.encrypt(await client.sign(env))
/** `env` signed with `key` (a key of REG's directory entry, or none), encrypted to the gateway. */
const sealedBy = async (key: PrivateKey, env: Envelope): Promise<string> => reg.encrypt(await signJws(Buffer.from(JSON.stringify(env)), key, { typ: 'tongban+jws' }))
/** A token request of REG signed with `key`. */
const tokenRequestBy = async (key: PrivateKey): Promise<string> =>
  signJws(Buffer.from(JSON.stringify({ sub: REG, aud: w.config.gatewayId, iat: now(), jti: randomBytes(16).toString('base64url') })), key, { typ: 'tongban+token-request' })

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
/** The JWS with its protected header's alg replaced (the signature left as it was). */
function withAlg(jws: string, alg: string): string {
  const [h, p, s] = jws.split('.') as [string, string, string]
  return `${b64({ ...(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as object), alg })}.${p}.${s}`
}
/** The compact JOSE object with one bit of its last part (a JWS signature, a JWE tag) flipped. */
function flipLast(jose: string): string {
  const parts = jose.split('.')
  const last = Buffer.from(parts[parts.length - 1] as string, 'base64url')
  last[0] = (last[0] ?? 0) ^ 0x01
  return [...parts.slice(0, -1), last.toString('base64url')].join('.')
}

/** A batch of REG's (its own signed messages unless given) signed with `key`, as a JWS. */
const batchBy = async (key: PrivateKey, o: { batchId?: string; iat?: number; messages?: string[] } = {}): Promise<string> => {
  const batch = { batchId: o.batchId ?? crypto.randomUUID(), from: REG, iat: o.iat ?? now(), messages: o.messages ?? [await reg.sign(regRequest())] }
  return signJws(Buffer.from(JSON.stringify(batch)), key, { typ: 'tongban+batch' })
}
const regKey = (): PrivateKey => w.partner(REG).signingKey
const sealedBatch = async (o: Parameters<typeof batchBy>[1] = {}): Promise<string> => reg.encrypt(await batchBy(regKey(), o))

const post = (client: TongbanClient, path: string, body: string, opts: { auth?: boolean | string; contentType?: string } = {}) => client.http('POST', path, body, opts)
const tooLarge = 'a'.repeat(BODY_BYTES + 1)

/** A fresh token of `client`'s, used after the gateway clock has passed its lifetime. */
async function withExpiredToken(client: TongbanClient, path: string) {
  const issued = await post(client, '/v1/token', await client.tokenRequest(), { auth: false })
  const token = (issued.json as { access_token: string }).access_token
  const ahead = (w.config.limits.tokenTtlSeconds + 60) * 1000
  clock.advance(ahead)
  try {
    return await post(client, path, 'x', { auth: token })
  } finally {
    clock.advance(-ahead)
  }
}

/** Two requests of `client` in a row: the first spends its one-a-minute quota of the route (junk counts too). */
async function overQuota(client: TongbanClient, path: string) {
  await post(client, path, 'not jose')
  return post(client, path, 'not jose')
}

/** Sends what `send` sends while the gateway's PostgreSQL is cut off; then waits until it is back. */
async function withoutDatabase<A>(send: () => Promise<A>): Promise<A> {
  proxy.cut()
  try {
    return await send()
  } finally {
    proxy.restore()
    const end = Date.now() + 20_000
    while ((await fetch(`${w.url}/readyz`)).status !== 200) {
      if (Date.now() > end) throw new Error('the gateway did not get its database back')
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** A query of BANK that the world's REG answers (its answer checked), then `again` built from it. */
async function afterAnsweredQuery(again: (first: Envelope, body: string) => Promise<string>) {
  answerQueries()
  const first = bankQuery()
  const body = await sealed(bank, first)
  const answered = await post(bank, '/v1/queries', body)
  if (answered.status !== 200) throw new Error(`the first query was not answered: ${answered.status} ${answered.text}`)
  return post(bank, '/v1/queries', await again(first, body))
}

/** A message of `client` that the gateway accepts, then `again` built from it. */
async function afterAcceptedMessage(client: TongbanClient, env: Envelope, again: (first: Envelope, jws: string) => Promise<string>) {
  const jws = await client.sign(env)
  const accepted = await post(client, '/v1/messages', await client.encrypt(jws))
  if (accepted.status !== 202) throw new Error(`the first message was not accepted: ${accepted.status} ${accepted.text}`)
  return post(client, '/v1/messages', await again(env, jws))
}

/**
 * An attachment stream of REG's: `bytes` (a small file unless given), declared as it is unless
 * `declare` says otherwise, encrypted to the gateway (or to `to`), its bytes changed by `mutate`.
 */
async function attachmentStream(o: { bytes?: Buffer; declare?: Record<string, unknown>; to?: PublicKey; mutate?: (b: Buffer) => Buffer } = {}): Promise<Buffer> {
  const bytes = o.bytes ?? Buffer.from('scanned application form')
  const writer = new AttachmentWriter()
  const head = await writer.header(o.to ?? (await reg.directory()).gatewayEncryptionKey('national'), { digestAlg: 'SM3', digest: digestHex('national', bytes), size: bytes.length, mediaType: 'application/pdf', ...o.declare })
  const stream = Buffer.concat([head, writer.record(bytes, true)])
  return o.mutate ? o.mutate(stream) : stream
}
/** A stream whose key JWE is `jwe` (its records never read). */
const withKeyJwe = (jwe: string): Buffer => {
  const n = Buffer.alloc(4)
  n.writeUInt32BE(jwe.length)
  return Buffer.concat([Buffer.from('TBA1'), n, Buffer.from(jwe)])
}
const upload = (body: Buffer, opts: { auth?: boolean | string; contentType?: string; as?: TongbanClient } = {}) => (opts.as ?? reg).http('POST', '/v1/attachments', body, { contentType: ATTACHMENT, ...opts })

const schemaFault = (type: string) => {
  const f = invalidFixtures(type).find((x) => x.expect?.code === 'TB_ERR_SCHEMA')
  if (f === undefined) throw new Error(`no invalid fixture of ${type} with TB_ERR_SCHEMA`)
  return f.envelope
}

// Every client holds its token before the walk: no trigger's request waits on a token request
// (one made while the database is cut off would itself fail).
for (const c of [reg, tax, housing, bank, smallBank, operator, w.client(REG_WK)]) await c.token()

const triggers: Triggers = {
  'POST /v1/token': {
    TB_ERR_CONTENT_TYPE: async () => post(reg, '/v1/token', await reg.tokenRequest(), { auth: false, contentType: 'application/json' }),
    TB_ERR_BODY_TOO_LARGE: () => post(reg, '/v1/token', tooLarge, { auth: false }),
    TB_ERR_JOSE_MALFORMED: () => post(reg, '/v1/token', 'not.a.jws.at-all', { auth: false }),
    TB_ERR_ALG_UNSUPPORTED: async () => post(reg, '/v1/token', withAlg(await reg.tokenRequest(), 'PS256'), { auth: false }),
    TB_ERR_KEY_UNKNOWN: async () => post(reg, '/v1/token', await tokenRequestBy(rogue), { auth: false }),
    TB_ERR_KEY_EXPIRED: async () => post(reg, '/v1/token', await tokenRequestBy(expired), { auth: false }),
    TB_ERR_KEY_REVOKED: async () => post(reg, '/v1/token', await tokenRequestBy(revoked.privateKey), { auth: false }),
    TB_ERR_SIGNATURE_INVALID: async () => post(reg, '/v1/token', flipLast(await reg.tokenRequest()), { auth: false }),
    // REG's key, asking for a token of TAX.
    TB_ERR_SIGNER_MISMATCH: async () => post(reg, '/v1/token', await reg.tokenRequest({ sub: TAX }), { auth: false }),
    TB_ERR_SCHEMA: async () => post(reg, '/v1/token', await reg.tokenRequest({ jti: 'short' }), { auth: false }),
    TB_ERR_IAT_WINDOW: async () => post(reg, '/v1/token', await reg.tokenRequest({ iat: now() - 400 }), { auth: false }),
    TB_ERR_REPLAY: async () => {
      const request = await reg.tokenRequest()
      const first = await post(reg, '/v1/token', request, { auth: false })
      if (first.status !== 200) throw new Error(`the first token request was refused: ${first.text}`)
      return post(reg, '/v1/token', request, { auth: false })
    },
    // One client address (as a trusted proxy names it) spends its budget with junk; the next is refused.
    TB_ERR_RATE_LIMITED: async () => {
      const junk = () => fetch(`${w.url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/jose', 'x-forwarded-for': '203.0.113.7' }, body: 'junk' })
      for (let left = w.config.limits.tokenRequestsPerMinute; left > 0; left -= 20) {
        await Promise.all(Array.from({ length: Math.min(20, left) }, async () => (await junk()).arrayBuffer()))
      }
      return junk()
    },
    // The request id (jti) is claimed in PostgreSQL, durably.
    TB_ERR_UNAVAILABLE: async () => {
      const request = await reg.tokenRequest()
      return withoutDatabase(() => post(reg, '/v1/token', request, { auth: false }))
    },
  },

  'POST /v1/messages': {
    TB_ERR_TOKEN_MISSING: async () => post(reg, '/v1/messages', await sealed(reg, regRequest()), { auth: false }),
    TB_ERR_TOKEN_INVALID: async () => post(reg, '/v1/messages', await sealed(reg, regRequest()), { auth: 'not-a-token' }),
    TB_ERR_TOKEN_EXPIRED: () => withExpiredToken(reg, '/v1/messages'),
    // An operator's token on a participants' route.
    TB_ERR_FORBIDDEN: () => post(operator, '/v1/messages', 'not jose'),
    TB_ERR_RATE_LIMITED: () => overQuota(smallBank, '/v1/messages'),
    TB_ERR_CONTENT_TYPE: async () => post(reg, '/v1/messages', await sealed(reg, regRequest()), { contentType: 'application/json' }),
    TB_ERR_BODY_TOO_LARGE: () => post(reg, '/v1/messages', tooLarge),
    TB_ERR_JOSE_MALFORMED: () => post(reg, '/v1/messages', 'not jose at all'),
    TB_ERR_ALG_UNSUPPORTED: async () => post(reg, '/v1/messages', await reg.encrypt(withAlg(await reg.sign(regRequest()), 'PS256'))),
    TB_ERR_KEY_UNKNOWN: async () => post(reg, '/v1/messages', await sealedBy(rogue, regRequest())),
    TB_ERR_KEY_EXPIRED: async () => post(reg, '/v1/messages', await sealedBy(expired, regRequest())),
    TB_ERR_KEY_REVOKED: async () => post(reg, '/v1/messages', await sealedBy(revoked.privateKey, regRequest())),
    TB_ERR_SIGNATURE_INVALID: async () => post(reg, '/v1/messages', await reg.encrypt(flipLast(await reg.sign(regRequest())))),
    // REG's own message sent with TAX's token.
    TB_ERR_SIGNER_MISMATCH: async () => post(tax, '/v1/messages', await sealed(reg, regRequest())),
    TB_ERR_SCHEMA: async () => post(reg, '/v1/messages', await sealed(reg, reg.envelope({ ...schemaFault('tax.assessment.request'), caseId: nextCase() }))),
    TB_ERR_IAT_WINDOW: async () => post(reg, '/v1/messages', await sealed(reg, regRequest({ iat: now() - 400 }))),
    // Another message (new id, new case) under the nonce of an accepted one.
    TB_ERR_REPLAY: () => afterAcceptedMessage(reg, regRequest(), async (first) => sealed(reg, regRequest({ nonce: first.nonce }))),
    // A JWE to the gateway's key whose authentication tag does not hold.
    TB_ERR_DECRYPT: async () => post(reg, '/v1/messages', flipLast(await sealed(reg, regRequest()))),
    // A bare JWS from a participant that is not on a private network.
    TB_ERR_ENCRYPTION_REQUIRED: async () => post(reg, '/v1/messages', await reg.sign(regRequest())),
    // A synchronous query sent as a message.
    TB_ERR_TYPE_UNKNOWN: async () => post(bank, '/v1/messages', await sealed(bank, bankQuery())),
    // A tax bureau may not send a tax assessment request.
    TB_ERR_ROUTE_FORBIDDEN: async () => post(tax, '/v1/messages', await sealed(tax, tax.envelope({ ...taxRequest.envelope, caseId: nextCase() }))),
    // "to" names a participant the directory does not have.
    TB_ERR_NO_ROUTE: async () => post(reg, '/v1/messages', await sealed(reg, regRequest({ to: 'TAX:231203' }))),
    // The accepted message's id again, on other bytes (the same JWS encrypted afresh).
    TB_ERR_DUPLICATE_ID: () => afterAcceptedMessage(reg, regRequest(), async (_first, jws) => reg.encrypt(jws)),
    TB_ERR_UNAVAILABLE: async () => {
      const body = await sealed(reg, regRequest())
      return withoutDatabase(() => post(reg, '/v1/messages', body))
    },
    // Attachments: an id that is no upload of REG's; REG's upload named with another size; and
    // a recipient behind the legacy adapter, whose partner has no token to fetch files with.
    TB_ERR_ATTACHMENT_UNKNOWN: async () => {
      const ref = await reg.uploadAttachment(Buffer.from('a'), 'application/pdf')
      return post(reg, '/v1/messages', await sealed(reg, regRequest({ attachments: [{ ...ref, id: crypto.randomUUID() }] })))
    },
    TB_ERR_ATTACHMENT_MISMATCH: async () => {
      const ref = await reg.uploadAttachment(Buffer.from('ab'), 'application/pdf')
      return post(reg, '/v1/messages', await sealed(reg, regRequest({ attachments: [{ ...ref, size: 1 }] })))
    },
    TB_ERR_ATTACHMENT_UNSUPPORTED: async () => {
      const wk = w.client(REG_WK)
      const ref = await wk.uploadAttachment(Buffer.from('abc'), 'application/pdf')
      const b = bodyOf(taxRequest) as { property: Record<string, unknown> }
      const env = wk.envelope({ ...taxRequest.envelope, caseId: '231221-2026-000801', unitCode: WK_UNIT, attachments: [ref], body: { ...b, property: { ...b.property, unitCode: WK_UNIT } } })
      return post(wk, '/v1/messages', await sealed(wk, env))
    },
    // A payment on a case that has no open tax step.
    TB_ERR_CASE_NOT_FOUND: async () => post(tax, '/v1/messages', await sealed(tax, tax.envelope({ ...paid.envelope, caseId: '231202-2026-999999' }))),
    // The same case named with another unit (body and envelope agree with each other).
    TB_ERR_CASE_MISMATCH: async () => {
      const first = regRequest()
      const other = '231202003004GB00012F00010002'
      const b = bodyOf(taxRequest) as { property: Record<string, unknown> }
      return afterAcceptedMessage(reg, first, async () => sealed(reg, regRequest({ caseId: first.caseId as string, unitCode: other, body: { ...b, property: { ...b.property, unitCode: other } } })))
    },
    // A second assessment request while the case's tax step is open.
    TB_ERR_CASE_CONFLICT: async () => {
      const first = regRequest()
      return afterAcceptedMessage(reg, first, async () => sealed(reg, regRequest({ caseId: first.caseId as string })))
    },
    // The bureau filed two contracts on the unit; the request's contract number names one, its filing number the other.
    TB_ERR_CONTRACT_AMBIGUOUS: async () => {
      const hb = bodyOf(filed)
      for (const numbers of [{}, { contractNumber: 'CL2312022026007777', filingNumber: 'BA2312022026007777' }]) {
        const r = await post(housing, '/v1/messages', await sealed(housing, housing.envelope({ ...filed.envelope, body: { ...hb, ...numbers } })))
        if (r.status !== 202) throw new Error(`a filing was refused: ${r.text}`)
      }
      const tb = bodyOf(taxRequest) as { transaction: Record<string, unknown> }
      const transaction = { ...tb.transaction, housingContractNumber: hb.contractNumber, housingFilingNumber: 'BA2312022026007777' }
      return post(reg, '/v1/messages', await sealed(reg, regRequest({ body: { ...tb, transaction } })))
    },
    // Another contract of the same bureau under a filing number it already used.
    TB_ERR_FILING_CONFLICT: async () => {
      const hb = bodyOf(filed)
      return afterAcceptedMessage(housing, housing.envelope({ ...filed.envelope }), async () =>
        sealed(housing, housing.envelope({ ...filed.envelope, body: { ...hb, contractNumber: 'CL2312022026009999' } })))
    },
  },

  'POST /v1/batches': {
    TB_ERR_TOKEN_MISSING: async () => post(reg, '/v1/batches', await sealedBatch(), { auth: false }),
    TB_ERR_TOKEN_INVALID: async () => post(reg, '/v1/batches', await sealedBatch(), { auth: 'not-a-token' }),
    TB_ERR_TOKEN_EXPIRED: () => withExpiredToken(reg, '/v1/batches'),
    TB_ERR_FORBIDDEN: () => post(operator, '/v1/batches', 'not jose'),
    // A batch counts against the sender's messagesPerMinute.
    TB_ERR_RATE_LIMITED: () => overQuota(smallBank, '/v1/batches'),
    TB_ERR_CONTENT_TYPE: async () => post(reg, '/v1/batches', await sealedBatch(), { contentType: 'application/json' }),
    TB_ERR_BODY_TOO_LARGE: () => post(reg, '/v1/batches', 'a'.repeat(BATCH_BYTES + 1)),
    TB_ERR_JOSE_MALFORMED: () => post(reg, '/v1/batches', 'not jose at all'),
    TB_ERR_ALG_UNSUPPORTED: async () => post(reg, '/v1/batches', await reg.encrypt(withAlg(await batchBy(regKey()), 'PS256'))),
    TB_ERR_KEY_UNKNOWN: async () => post(reg, '/v1/batches', await reg.encrypt(await batchBy(rogue))),
    TB_ERR_KEY_EXPIRED: async () => post(reg, '/v1/batches', await reg.encrypt(await batchBy(expired))),
    TB_ERR_KEY_REVOKED: async () => post(reg, '/v1/batches', await reg.encrypt(await batchBy(revoked.privateKey))),
    TB_ERR_SIGNATURE_INVALID: async () => post(reg, '/v1/batches', await reg.encrypt(flipLast(await batchBy(regKey())))),
    // REG's batch sent with TAX's token.
    TB_ERR_SIGNER_MISMATCH: async () => post(tax, '/v1/batches', await sealedBatch()),
    // A batch of no messages.
    TB_ERR_SCHEMA: async () => post(reg, '/v1/batches', await sealedBatch({ messages: [] })),
    TB_ERR_IAT_WINDOW: async () => post(reg, '/v1/batches', await sealedBatch({ iat: now() - 400 })),
    TB_ERR_DECRYPT: async () => post(reg, '/v1/batches', flipLast(await sealedBatch())),
    TB_ERR_ENCRYPTION_REQUIRED: async () => post(reg, '/v1/batches', await batchBy(regKey())),
    // An accepted batch's id again, on other messages.
    TB_ERR_DUPLICATE_ID: async () => {
      const batchId = crypto.randomUUID()
      const first = await post(reg, '/v1/batches', await sealedBatch({ batchId }))
      if (first.status !== 202) throw new Error(`the first batch was refused: ${first.status} ${first.text}`)
      return post(reg, '/v1/batches', await sealedBatch({ batchId }))
    },
    TB_ERR_UNAVAILABLE: async () => {
      const body = await sealedBatch()
      return withoutDatabase(() => post(reg, '/v1/batches', body))
    },
  },

  'POST /v1/attachments': {
    TB_ERR_TOKEN_MISSING: async () => upload(await attachmentStream(), { auth: false }),
    TB_ERR_TOKEN_INVALID: async () => upload(await attachmentStream(), { auth: 'not-a-token' }),
    TB_ERR_TOKEN_EXPIRED: () => withExpiredToken(reg, '/v1/attachments'),
    TB_ERR_FORBIDDEN: async () => upload(await attachmentStream(), { as: operator }),
    // An upload counts against the sender's messagesPerMinute.
    TB_ERR_RATE_LIMITED: () => overQuota(smallBank, '/v1/attachments'),
    TB_ERR_CONTENT_TYPE: async () => upload(await attachmentStream(), { contentType: 'application/octet-stream' }),
    // Declared larger than attachments.maxBytes: refused at its key header.
    TB_ERR_BODY_TOO_LARGE: async () => upload(await attachmentStream({ declare: { size: w.config.attachments.maxBytes + 1 } })),
    TB_ERR_JOSE_MALFORMED: () => upload(withKeyJwe('not.a.jwe.at.all')),
    TB_ERR_ALG_UNSUPPORTED: () => upload(withKeyJwe(`${b64({ alg: 'A128KW', enc: 'A128GCM', cty: 'tongban+attachment-key' })}.AA.AA.AA.AA`)),
    // Encrypted to REG's own key, not to one of the gateway's.
    TB_ERR_KEY_UNKNOWN: async () => upload(await attachmentStream({ to: w.partner(REG).encryptionKey.publicKey })),
    // One bit of the record's tag flipped.
    TB_ERR_DECRYPT: async () => upload(await attachmentStream({ mutate: (b) => { const c = Buffer.from(b); c[c.length - 1]! ^= 1; return c } })),
    TB_ERR_SCHEMA: async () => upload(await attachmentStream({ declare: { mediaType: 'PDF' } })),
    TB_ERR_ATTACHMENT_MALFORMED: () => upload(Buffer.from('TBA0')),
    TB_ERR_ATTACHMENT_MISMATCH: async () => upload(await attachmentStream({ declare: { digest: '0'.repeat(64) } })),
    TB_ERR_UNAVAILABLE: async () => {
      const body = await attachmentStream()
      return withoutDatabase(() => upload(body))
    },
  },

  'POST /v1/queries': {
    TB_ERR_TOKEN_MISSING: async () => post(bank, '/v1/queries', await sealed(bank, bankQuery()), { auth: false }),
    TB_ERR_TOKEN_INVALID: async () => post(bank, '/v1/queries', await sealed(bank, bankQuery()), { auth: 'not-a-token' }),
    TB_ERR_TOKEN_EXPIRED: () => withExpiredToken(bank, '/v1/queries'),
    TB_ERR_FORBIDDEN: () => post(operator, '/v1/queries', 'not jose'),
    TB_ERR_RATE_LIMITED: () => overQuota(smallBank, '/v1/queries'),
    TB_ERR_CONTENT_TYPE: async () => post(bank, '/v1/queries', await sealed(bank, bankQuery()), { contentType: 'application/json' }),
    TB_ERR_BODY_TOO_LARGE: () => post(bank, '/v1/queries', tooLarge),
    TB_ERR_JOSE_MALFORMED: () => post(bank, '/v1/queries', 'not jose at all'),
    TB_ERR_ALG_UNSUPPORTED: async () => post(bank, '/v1/queries', await bank.encrypt(withAlg(await bank.sign(bankQuery()), 'PS256'))),
    // REG's keys (the only ones with an expired and a revoked entry) sign a query of REG's, with its token.
    TB_ERR_KEY_UNKNOWN: async () => post(reg, '/v1/queries', await sealedBy(rogue, reg.envelope({ ...mortgageQuery.envelope }))),
    TB_ERR_KEY_EXPIRED: async () => post(reg, '/v1/queries', await sealedBy(expired, reg.envelope({ ...mortgageQuery.envelope }))),
    TB_ERR_KEY_REVOKED: async () => post(reg, '/v1/queries', await sealedBy(revoked.privateKey, reg.envelope({ ...mortgageQuery.envelope }))),
    TB_ERR_SIGNATURE_INVALID: async () => post(bank, '/v1/queries', await bank.encrypt(flipLast(await bank.sign(bankQuery())))),
    // BANK's query sent with REG's token.
    TB_ERR_SIGNER_MISMATCH: async () => post(reg, '/v1/queries', await sealed(bank, bankQuery())),
    TB_ERR_SCHEMA: async () => post(bank, '/v1/queries', await sealed(bank, bank.envelope({ ...schemaFault('mortgage.query') }))),
    TB_ERR_IAT_WINDOW: async () => post(bank, '/v1/queries', await sealed(bank, bankQuery({ iat: now() - 400 }))),
    // The very bytes of an answered query again: a query is never repeated, its nonce is spent.
    TB_ERR_REPLAY: () => afterAnsweredQuery(async (_first, body) => body),
    TB_ERR_DECRYPT: async () => post(bank, '/v1/queries', flipLast(await sealed(bank, bankQuery()))),
    TB_ERR_ENCRYPTION_REQUIRED: async () => post(bank, '/v1/queries', await bank.sign(bankQuery())),
    // An asynchronous message sent as a query.
    TB_ERR_TYPE_UNKNOWN: async () => post(reg, '/v1/queries', await sealed(reg, regRequest())),
    // A registration centre may not ask a mortgage query.
    TB_ERR_ROUTE_FORBIDDEN: async () => post(reg, '/v1/queries', await sealed(reg, reg.envelope({ ...mortgageQuery.envelope }))),
    // "to" names a registration centre the directory does not have.
    TB_ERR_NO_ROUTE: async () => post(bank, '/v1/queries', await sealed(bank, bankQuery({ to: 'REG:231203' }))),
    // The answered query's id again, with a fresh nonce.
    TB_ERR_DUPLICATE_ID: () => afterAnsweredQuery(async (first) => sealed(bank, bankQuery({ id: first.id }))),
    TB_ERR_UNAVAILABLE: async () => {
      const body = await sealed(bank, bankQuery())
      return withoutDatabase(() => post(bank, '/v1/queries', body))
    },
    // The registration centre answers too late, with 503, with 403, and with something that is not an answer.
    TB_ERR_PARTNER_TIMEOUT: async () => {
      w.partner(REG).server.onQuery(async () => ({ status: 200, delayMs: QUERY_TIMEOUT_MS + 3_000 }))
      return post(bank, '/v1/queries', await sealed(bank, bankQuery()))
    },
    TB_ERR_PARTNER_UNAVAILABLE: async () => {
      w.partner(REG).server.onQuery(async () => ({ status: 503 }))
      return post(bank, '/v1/queries', await sealed(bank, bankQuery()))
    },
    TB_ERR_PARTNER_REJECTED: async () => {
      w.partner(REG).server.onQuery(async () => ({ status: 403 }))
      return post(bank, '/v1/queries', await sealed(bank, bankQuery()))
    },
    TB_ERR_PARTNER_BAD_ANSWER: async () => {
      w.partner(REG).server.onQuery(async () => ({ jose: 'not an answer' }))
      return post(bank, '/v1/queries', await sealed(bank, bankQuery()))
    },
  },
}

await walk(t, WALKS.signed, triggers)

// The setup requests too (filings, first messages and queries, spent quotas) drew only answers
// their routes declare: the gateway kept no answer that broke its route's schema or error list.
t.test('no answer of this file broke its route\'s declarations', async (t) => {
  t.same(w.app.tb.responseFaults, [])
})
