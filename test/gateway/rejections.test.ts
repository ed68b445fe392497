import t from 'tap'
import { PrivateKey, signJws, encryptJwe, CTY_JWS } from '../../src/crypto/index.ts'
import { sameBytesOtherText } from '../helpers/base64url.ts'
import { TestClock } from '../helpers/clock.ts'
import { invalidFixtures, validFixture, bodyOf, type Fixture } from '../helpers/fixtures.ts'
import { World, type Assert } from '../helpers/world.ts'

// Every kind of bad input gets a 4xx with its stable code, and changes nothing: no exchange
// row, no delivery, no case, no queued job.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const OTHER_REG = 'REG:231221'
const clock = new TestClock()

const w = await World.start({
  label: 'reject',
  clock,
  config: { limits: { bodyBytes: 64 * 1024, replayWindowSeconds: 300, tokenTtlSeconds: 300 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed', 'tax.assessment.rejected'] },
    { id: TAX, send: ['tax.payment.completed', 'tax.assessment.rejected'], receive: ['tax.assessment.request'] },
    { id: OTHER_REG, send: [], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())

const request = validFixture('tax.assessment.request')
const reg = w.client(REG)
const tax = w.client(TAX)

interface Problem { code?: string; status?: number; fault?: string; violations?: Array<{ pointer: string; rule: string }> }

/** Sends a raw request and asserts its problem code, and that nothing was stored or queued. */
async function rejects(t: Assert, send: () => Promise<{ status: number; json: unknown; text: string }>, code: string, status?: number): Promise<Problem> {
  const before = await w.counts()
  const res = await send()
  const p = (res.json ?? {}) as Problem
  t.equal(p.code, code, `code ${code}`)
  if (status !== undefined) t.equal(res.status, status, `status ${status}`)
  t.ok(res.status >= 400 && res.status < 500, 'a 4xx')
  t.equal(p.status, res.status, 'problem status = HTTP status')
  t.notMatch(res.text, /at .*\.ts:\d+|stack/i, 'no stack trace')
  t.same(await w.counts(), before, 'no exchange, delivery, case, step or job left behind')
  return p
}

const post = (client = reg, body: string | Buffer, opts: { auth?: boolean | string; contentType?: string } = {}) => client.http('POST', '/v1/messages', body, opts)
const sealed = async (env: Record<string, unknown>, client = reg): Promise<string> => client.encrypt(await client.sign(env))

t.test('wrong content type → TB_ERR_CONTENT_TYPE', async (t) => {
  const body = await sealed(reg.envelope(request.envelope) as unknown as Record<string, unknown>)
  await rejects(t, () => post(reg, body, { contentType: 'application/json' }), 'TB_ERR_CONTENT_TYPE', 415)
  await rejects(t, () => post(reg, body, { contentType: 'text/plain' }), 'TB_ERR_CONTENT_TYPE', 415)
})

t.test('body over the size limit → TB_ERR_BODY_TOO_LARGE', async (t) => {
  await rejects(t, () => post(reg, 'a'.repeat(64 * 1024 + 1)), 'TB_ERR_BODY_TOO_LARGE', 413)
})

t.test('malformed JOSE → TB_ERR_JOSE_MALFORMED', async (t) => {
  for (const body of ['not jose at all', 'a.b.c.d', '!!!.???.###.$$$.%%%', '.....', 'e30.e30.e30.e30.e30']) {
    await rejects(t, () => post(reg, body), 'TB_ERR_JOSE_MALFORMED', 400)
  }
  // A JWE whose plaintext is not a JWS.
  const key = (await reg.directory()).gatewayEncryptionKey('international')
  const notJws = await encryptJwe(Buffer.from('{"hello":"world"}'), key, { cty: CTY_JWS })
  await rejects(t, () => post(reg, notJws), 'TB_ERR_JOSE_MALFORMED', 400)
})

t.test('a JWE or JWS part not in its canonical base64url (a bit set after the last byte) → TB_ERR_JOSE_MALFORMED', async (t) => {
  const env = reg.envelope({ ...request.envelope, caseId: '231202-2026-000901' }) as unknown as Record<string, unknown>
  const jws = await reg.sign(env)
  const jwe = await reg.encrypt(jws)
  // The JWE's tag (16 bytes: 22 characters, 4 spare bits), written another way.
  const jweParts = jwe.split('.')
  const tag = jweParts[4] as string
  const otherTag = sameBytesOtherText(tag)
  t.ok(Buffer.from(otherTag, 'base64url').equals(Buffer.from(tag, 'base64url')), 'the same tag bytes')
  await rejects(t, () => post(reg, [...jweParts.slice(0, 4), otherTag].join('.')), 'TB_ERR_JOSE_MALFORMED', 400)
  // The JWS's signature (64 bytes: 86 characters, 4 spare bits), written another way, sealed anew.
  const [h, p, sig] = jws.split('.') as [string, string, string]
  await rejects(t, async () => post(reg, await reg.encrypt(`${h}.${p}.${sameBytesOtherText(sig)}`)), 'TB_ERR_JOSE_MALFORMED', 400)
  // The message itself, written canonically, is accepted: only the form was refused.
  t.equal((await post(reg, jwe)).status, 202, 'the canonical JWE of the same message: 202')
})

t.test('a bare JWS where the link is not a private network → TB_ERR_ENCRYPTION_REQUIRED', async (t) => {
  const jws = await reg.sign(reg.envelope(request.envelope) as unknown as Record<string, unknown>)
  await rejects(t, () => post(reg, jws), 'TB_ERR_ENCRYPTION_REQUIRED', 400)
  await rejects(t, () => post(reg, 'eyJhbGciOiJub25lIn0.e30.'), 'TB_ERR_ENCRYPTION_REQUIRED', 400)
})

t.test('absent, malformed and expired tokens → TB_ERR_TOKEN_*', async (t) => {
  const body = await sealed(reg.envelope(request.envelope) as unknown as Record<string, unknown>)
  await rejects(t, () => post(reg, body, { auth: false }), 'TB_ERR_TOKEN_MISSING', 401)
  await rejects(t, () => post(reg, body, { auth: 'not-a-token' }), 'TB_ERR_TOKEN_INVALID', 401)
  const token = await reg.token()
  const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA')
  await rejects(t, () => post(reg, body, { auth: forged }), 'TB_ERR_TOKEN_INVALID', 401)
  // Used once, so the gateway remembers it verified (src/inbound/auth.ts): expiry is still checked.
  t.equal((await reg.http('GET', '/v1/cases?overdue=false', undefined, { auth: token })).status, 200, 'the token works while it is valid')
  clock.advance(301_000)
  try {
    await rejects(t, () => post(reg, body, { auth: token }), 'TB_ERR_TOKEN_EXPIRED', 401)
  } finally {
    clock.advance(-301_000)
  }
})

t.test('an alg the signing key does not take → 400 TB_ERR_ALG_UNSUPPORTED (as errors.md says, and as on the encryption side)', async (t) => {
  const jws = await reg.sign(reg.envelope(request.envelope) as unknown as Record<string, unknown>)
  const [h, p, s] = jws.split('.') as [string, string, string]
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>
  for (const alg of ['PS256', 'RS256', 'SM2SM3']) {
    // REG's key is EC P-256: it signs ES256 only.
    const forged = Buffer.from(JSON.stringify({ ...header, alg })).toString('base64url')
    const pr = await rejects(t, async () => post(reg, await reg.encrypt(`${forged}.${p}.${s}`)), 'TB_ERR_ALG_UNSUPPORTED', 400)
    t.match(JSON.stringify(pr), /ES256/, `${alg}: the answer names what the key signs with`)
  }
})

t.test('bad signature → TB_ERR_SIGNATURE_INVALID', async (t) => {
  const jws = await reg.sign(reg.envelope(request.envelope) as unknown as Record<string, unknown>)
  const [h, p, s] = jws.split('.') as [string, string, string]
  const sig = Buffer.from(s, 'base64url')
  sig[5] = (sig[5] ?? 0) ^ 0x01
  await rejects(t, async () => post(reg, await reg.encrypt(`${h}.${p}.${sig.toString('base64url')}`)), 'TB_ERR_SIGNATURE_INVALID', 401)
  // The payload changed after signing.
  const env2 = { ...reg.envelope(request.envelope), caseId: 'X-1' }
  const p2 = Buffer.from(JSON.stringify(env2)).toString('base64url')
  await rejects(t, async () => post(reg, await reg.encrypt(`${h}.${p2}.${s}`)), 'TB_ERR_SIGNATURE_INVALID', 401)
})

t.test('unknown kid → TB_ERR_KEY_UNKNOWN', async (t) => {
  const rogue = PrivateKey.generate(`${REG}#rogue`, 'ec-p256').privateKey
  const env = reg.envelope(request.envelope)
  const jws = await signJws(Buffer.from(JSON.stringify(env)), rogue, { typ: 'tongban+jws' })
  await rejects(t, async () => post(reg, await reg.encrypt(jws)), 'TB_ERR_KEY_UNKNOWN', 401)
})

t.test('signer ≠ from ≠ token subject → TB_ERR_SIGNER_MISMATCH', async (t) => {
  // TAX signs an envelope that claims to come from REG.
  const env = { ...reg.envelope(request.envelope) }
  const jws = await tax.sign(env)
  await rejects(t, async () => post(tax, await tax.encrypt(jws)), 'TB_ERR_SIGNER_MISMATCH', 403)
  // REG's own, valid message sent with TAX's token.
  const body = await sealed(reg.envelope(request.envelope) as unknown as Record<string, unknown>)
  await rejects(t, () => post(tax, body), 'TB_ERR_SIGNER_MISMATCH', 403)
})

t.test('iat outside the window → TB_ERR_IAT_WINDOW', async (t) => {
  // 330 s, not 301: the request is sealed and sent after `now` was read, and on a loaded machine
  // that can take more than a second, which would bring now + 301 back inside the window.
  const now = Math.floor(clock.now().getTime() / 1000)
  for (const iat of [now - 330, now + 330]) {
    const body = await sealed(reg.envelope({ ...request.envelope, iat }) as unknown as Record<string, unknown>)
    await rejects(t, () => post(reg, body), 'TB_ERR_IAT_WINDOW', 400)
  }
})

t.test('schema violations → TB_ERR_SCHEMA with the failing pointer', async (t) => {
  const cases: Fixture[] = invalidFixtures('tax.assessment.request').filter((f) => f.expect?.code === 'TB_ERR_SCHEMA')
  t.ok(cases.length >= 5, 'several invalid fixtures')
  for (const f of cases) {
    const body = await sealed(reg.envelope(f.envelope) as unknown as Record<string, unknown>)
    const p = await rejects(t, () => post(reg, body), 'TB_ERR_SCHEMA', 400)
    t.equal(p.violations?.[0]?.pointer, f.expect?.pointer, `${f.file}: pointer ${f.expect?.pointer}`)
    if (f.expect?.rule) t.equal(p.violations?.[0]?.rule, f.expect.rule, `${f.file}: rule ${f.expect.rule}`)
  }
  // Built here as well, so each named kind is certainly covered.
  const extra = { ...bodyOf(request), surprise: true }
  const p = await rejects(t, async () => post(reg, await sealed(reg.envelope({ ...request.envelope, body: extra }) as unknown as Record<string, unknown>)), 'TB_ERR_SCHEMA')
  t.equal(p.violations?.[0]?.pointer, '/body/surprise')
  const badUnit = await rejects(t, async () => post(reg, await sealed(reg.envelope({ ...request.envelope, unitCode: '231202003004XX00012F00010001' }) as unknown as Record<string, unknown>)), 'TB_ERR_SCHEMA')
  t.equal(badUnit.violations?.[0]?.pointer, '/unitCode')
  const envExtra = { ...reg.envelope(request.envelope), priority: 'high' }
  const pe = await rejects(t, async () => post(reg, await sealed(envExtra)), 'TB_ERR_SCHEMA')
  t.equal(pe.violations?.[0]?.pointer, '/priority')
})

t.test('route forbidden → TB_ERR_ROUTE_FORBIDDEN', async (t) => {
  // A type the sender may not send.
  const asTax = await sealed(tax.envelope(request.envelope) as unknown as Record<string, unknown>, tax)
  await rejects(t, () => post(tax, asTax), 'TB_ERR_ROUTE_FORBIDDEN', 403)
  // A recipient whose role may not receive the type.
  const toReg = await sealed(reg.envelope({ ...request.envelope, to: OTHER_REG }) as unknown as Record<string, unknown>)
  await rejects(t, () => post(reg, toReg), 'TB_ERR_ROUTE_FORBIDDEN', 403)
})

t.test('完税 with no open case → TB_ERR_CASE_NOT_FOUND', async (t) => {
  const paid = validFixture('tax.payment.completed')
  const body = await sealed(tax.envelope({ ...paid.envelope, caseId: '231202-2026-999999' }) as unknown as Record<string, unknown>, tax)
  await rejects(t, () => post(tax, body), 'TB_ERR_CASE_NOT_FOUND', 409)
})

t.test('case conflicts → TB_ERR_CASE_CONFLICT / TB_ERR_CASE_MISMATCH, and racing answers', async (t) => {
  const caseId = '231202-2026-000700'
  const first = await post(reg, await sealed(reg.envelope({ ...request.envelope, caseId }) as unknown as Record<string, unknown>))
  t.equal(first.status, 202)
  // A second assessment request while the case's tax step is open.
  await rejects(t, async () => post(reg, await sealed(reg.envelope({ ...request.envelope, caseId }) as unknown as Record<string, unknown>)), 'TB_ERR_CASE_CONFLICT', 409)
  // The same case named with another unit code (body and envelope agree with each other).
  const other = '231202003004GB00012F00010002'
  const b = bodyOf(request) as { property: { unitCode: string } }
  b.property.unitCode = other
  await rejects(t, async () => post(reg, await sealed(reg.envelope({ ...request.envelope, caseId, unitCode: other, body: b }) as unknown as Record<string, unknown>)), 'TB_ERR_CASE_MISMATCH', 409)
  // Two different 完税 messages race for the one open step: exactly one closes it.
  const paid = validFixture('tax.payment.completed')
  const before = await w.counts()
  const bodies = await Promise.all([0, 1].map(async () => sealed(tax.envelope({ ...paid.envelope, caseId }) as unknown as Record<string, unknown>, tax)))
  const results = await Promise.all(bodies.map((body) => post(tax, body)))
  t.same(results.map((r) => r.status).sort(), [202, 409], 'one accepted, one refused')
  t.equal((results.find((r) => r.status === 409)?.json as Problem).code, 'TB_ERR_CASE_NOT_FOUND')
  const after = await w.counts()
  t.equal(after.exchanges, before.exchanges + 1, 'only the winner is stored')
})

t.test('replayed nonce → TB_ERR_REPLAY (after one acceptance)', async (t) => {
  const env = reg.envelope(request.envelope)
  const first = await post(reg, await sealed(env as unknown as Record<string, unknown>))
  t.equal(first.status, 202)
  const again = { ...reg.envelope(request.envelope), nonce: env.nonce }
  await rejects(t, async () => post(reg, await sealed(again as unknown as Record<string, unknown>)), 'TB_ERR_REPLAY', 409)
})

t.test('a token request cannot be replayed either', async (t) => {
  const tr = await reg.tokenRequest()
  t.equal((await reg.http('POST', '/v1/token', tr, { auth: false })).status, 200)
  const again = await reg.http('POST', '/v1/token', tr, { auth: false })
  t.equal((again.json as Problem).code, 'TB_ERR_REPLAY')
})

t.test('the gateway logged no personal data', async (t) => w.checkLogs(t))
