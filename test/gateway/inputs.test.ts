import t, { type Test } from 'tap'
import { connect } from 'node:net'
import { request as httpRequest } from 'undici'
import { ERRORS } from '../../src/errors.ts'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { es256Jws, rsaJwe } from '../helpers/raw-jose.ts'
import { World } from '../helpers/world.ts'

// Issue 7 item 11: inputs that reached a 500 (or were accepted though two parsers read them
// differently), each performed through the HTTP API: now a 4xx with its stable code, nothing stored.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const HOUSING = 'HOUSING:231202'
const BANK = 'BANK:91230100MA1B2C3D49'

const w = await World.start({
  label: 'inputs',
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['housing.contract.filed', 'mortgage.query', 'tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    { id: HOUSING, send: ['housing.contract.filed'], receive: [] },
    { id: BANK, send: ['mortgage.query'], receive: [] },
  ],
})
t.teardown(() => w.close())
w.partner(REG).server.onQuery(async (q) => ({ type: 'mortgage.query.result', body: { ...bodyOf(validFixture('mortgage.query.result')), unitCode: q.envelope.unitCode as string } }))

const reg = w.client(REG)
const bank = w.client(BANK)
interface Problem { code?: string; status?: number; violations?: Array<{ pointer: string; rule: string }> }
interface Answer { status: number; type: string; problem: Problem }
type Tt = Test

/** A raw HTTP request; the answer's status, content type and problem document. */
async function call(method: string, path: string, opts: { body?: string; contentType?: string; token?: string | false } = {}): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/jose'
  if (opts.token !== false) headers.authorization = `Bearer ${opts.token ?? (await reg.token())}`
  const res = await httpRequest(`${w.url}${path}`, { method: method as 'GET', headers, ...(opts.body !== undefined ? { body: opts.body } : {}) })
  const text = await res.body.text()
  let problem: Problem = {}
  try { problem = JSON.parse(text) as Problem } catch { /* not JSON: the assertions on type say so */ }
  return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), problem }
}

/** Asserts a refusal with `code` (and the first violation's pointer and rule), and that nothing was stored. */
async function refused(t: Tt, send: () => Promise<Answer>, code: string, violation?: { pointer: string; rule: string }): Promise<void> {
  const before = await w.counts()
  const a = await send()
  t.equal(a.problem.code, code, `code ${code}`)
  t.equal(a.status, ERRORS[code as keyof typeof ERRORS].status, `status ${a.status}`)
  t.match(a.type, /^application\/problem\+json/, 'problem+json')
  if (violation) t.same(a.problem.violations?.[0] && { pointer: a.problem.violations[0].pointer, rule: a.problem.violations[0].rule }, violation, `violation at ${violation.pointer} (${violation.rule})`)
  t.same(await w.counts(), before, 'nothing stored')
}

const request = validFixture('tax.assessment.request')
const sealed = async (client = reg, env: object): Promise<string> => client.encrypt(await client.sign(env as Record<string, unknown>))
const gatewayRsaPem = async (): Promise<{ pem: string; kid: string }> => {
  const k = (await reg.directory()).gatewayEncryptionKey('international', 'RSA-OAEP-256')
  return { pem: k.toPem(), kid: k.kid }
}

t.test('a mortgage.query reusing its message id with a fresh nonce → 409 TB_ERR_DUPLICATE_ID (was 500)', async (t) => {
  const env = bank.envelope({ ...validFixture('mortgage.query').envelope })
  const first = await call('POST', '/v1/queries', { body: await sealed(bank, env), token: await bank.token() })
  t.equal(first.status, 200, 'the first query is answered')
  const again = bank.envelope({ ...validFixture('mortgage.query').envelope, id: env.id })
  t.not(again.nonce, env.nonce, 'a fresh nonce')
  await refused(t, async () => call('POST', '/v1/queries', { body: await sealed(bank, again), token: await bank.token() }), 'TB_ERR_DUPLICATE_ID')
  // The same bytes again: a query is not repeated (no answer is kept to repeat) — the nonce says so.
  await refused(t, async () => call('POST', '/v1/queries', { body: await sealed(bank, env), token: await bank.token() }), 'TB_ERR_REPLAY')
})

t.test('U+0000 (and other controls, lone surrogates) in a signed string → 400 TB_ERR_SCHEMA at its pointer (was 500)', async (t) => {
  const housing = w.client(HOUSING)
  const filed = validFixture('housing.contract.filed')
  const body = { ...bodyOf(filed), contractNumber: 'CL2312022026\u00004567' }
  await refused(t, async () => call('POST', '/v1/messages', { body: await sealed(housing, housing.envelope({ ...filed.envelope, body })), token: await housing.token() }), 'TB_ERR_SCHEMA', { pointer: '/body/contractNumber', rule: 'control-character' })
  const tx = bodyOf(request)
  const withNul = { ...tx, transaction: { ...(tx.transaction as object), housingContractNumber: '\u0000' } }
  await refused(t, async () => call('POST', '/v1/messages', { body: await sealed(reg, reg.envelope({ ...request.envelope, body: withNul })) }), 'TB_ERR_SCHEMA', { pointer: '/body/transaction/housingContractNumber', rule: 'control-character' })
  const withEsc = { ...tx, property: { ...(tx.property as object), location: '绥化市\u001b[2J北林区' } }
  await refused(t, async () => call('POST', '/v1/messages', { body: await sealed(reg, reg.envelope({ ...request.envelope, body: withEsc })) }), 'TB_ERR_SCHEMA', { pointer: '/body/property/location', rule: 'control-character' })
  const lone = { ...tx, property: { ...(tx.property as object), location: '绥化市\ud800' } }
  await refused(t, async () => call('POST', '/v1/messages', { body: await sealed(reg, reg.envelope({ ...request.envelope, body: lone })) }), 'TB_ERR_SCHEMA', { pointer: '/body/property/location', rule: 'unicode' })
  // Tab, LF and CR stay allowed in free text (the schema decides where they may be).
  const before = await w.counts()
  const tabbed = { ...tx, property: { ...(tx.property as object), location: '绥化市\t北林区康庄路128号' } }
  const ok = await call('POST', '/v1/messages', { body: await sealed(reg, reg.envelope({ ...request.envelope, caseId: '231202-2026-000701', body: tabbed })) })
  t.equal(ok.status, 202, 'a tab in free text is accepted')
  t.equal((await w.counts()).exchanges, before.exchanges + 1)
})

t.test('duplicate members in signed JSON are refused wherever they are', async (t) => {
  const { signingPem } = w.partner(REG)
  const kid = `${REG}#sign-1`
  const env = reg.envelope({ ...request.envelope, caseId: '231202-2026-000702' }) as unknown as Record<string, unknown>
  // Two "type" members: JSON.parse keeps the last, other parsers the first.
  const text = JSON.stringify(env).replace('"type":"tax.assessment.request"', '"type":"housing.contract.filed","type":"tax.assessment.request"')
  const header = JSON.stringify({ alg: 'ES256', kid, typ: 'tongban+jws' })
  await refused(t, async () => call('POST', '/v1/messages', { body: await reg.encrypt(es256Jws(header, text, signingPem)) }), 'TB_ERR_SCHEMA', { pointer: '/type', rule: 'duplicate-key' })
  // The same member name spelt with an escape is the same name.
  const nested = JSON.stringify(env).replace('"contractNumber":', '"contract\\u004eumber":"CL0","contractNumber":')
  await refused(t, async () => call('POST', '/v1/messages', { body: await reg.encrypt(es256Jws(header, nested, signingPem)) }), 'TB_ERR_SCHEMA', { pointer: '/body/transaction/contractNumber', rule: 'duplicate-key' })
  // A JWS protected header with two typ members (a token request to one reader, a message to another).
  const twoTyp = `{"alg":"ES256","kid":"${kid}","typ":"tongban+token-request","typ":"tongban+jws"}`
  await refused(t, async () => call('POST', '/v1/messages', { body: await reg.encrypt(es256Jws(twoTyp, JSON.stringify(env), signingPem)) }), 'TB_ERR_JOSE_MALFORMED')
  // A JWE protected header with two kid members.
  const gw = await gatewayRsaPem()
  const jwsText = await reg.sign(env)
  const twoKid = `{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"${REG}#nope","kid":"${gw.kid}","cty":"tongban+jws"}`
  await refused(t, () => call('POST', '/v1/messages', { body: rsaJwe(twoKid, jwsText, gw.pem) }), 'TB_ERR_JOSE_MALFORMED')
  // A well-formed JWE built the same way is accepted: the refusal is the duplicate, not the builder.
  const oneKid = `{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"${gw.kid}","cty":"tongban+jws"}`
  t.equal((await call('POST', '/v1/messages', { body: rsaJwe(oneKid, jwsText, gw.pem) })).status, 202, 'the control: accepted')
  // A token request with two sub members.
  const dir = await reg.directory()
  const claims = `{"sub":"${TAX}","sub":"${REG}","aud":"${dir.gatewayId}","iat":${Math.floor(Date.now() / 1000)},"jti":"dup-sub-0123456789"}`
  const tokenJws = es256Jws(JSON.stringify({ alg: 'ES256', kid, typ: 'tongban+token-request' }), claims, signingPem)
  await refused(t, () => call('POST', '/v1/token', { body: tokenJws, token: false }), 'TB_ERR_SCHEMA', { pointer: '/sub', rule: 'duplicate-key' })
})

t.test('a case id must be a case id (受理编号): 64 × "A" is refused', async (t) => {
  await refused(t, async () => call('POST', '/v1/messages', { body: await sealed(reg, reg.envelope({ ...request.envelope, caseId: 'A'.repeat(64) })) }), 'TB_ERR_SCHEMA', { pointer: '/caseId', rule: 'format:case-id' })
  await refused(t, () => call('GET', `/v1/cases/${'A'.repeat(64)}`), 'TB_ERR_BAD_REQUEST', { pointer: '/params/caseId', rule: 'format:case-id' })
  t.equal((await call('GET', '/v1/cases/231202-2026-999999')).problem.code, 'TB_ERR_NOT_FOUND', 'a well-formed id of no visible case: 404')
})

t.test('odd path and query parameters → 4xx, never 500', async (t) => {
  const ops = w.operatorClient()
  const opsToken = await ops.token()
  await refused(t, () => call('GET', '/v1/cases/%00'), 'TB_ERR_BAD_REQUEST', { pointer: '/params/caseId', rule: 'format:case-id' })
  await refused(t, () => call('GET', '/v1/cases/231202-2026-000123%00'), 'TB_ERR_BAD_REQUEST')
  await refused(t, () => call('GET', '/v1/exchanges/%00'), 'TB_ERR_NOT_FOUND')
  await refused(t, () => call('GET', '/v1/queries?limit=%00'), 'TB_ERR_BAD_REQUEST')
  await refused(t, () => call('GET', '/v1/cases?overdue=%00'), 'TB_ERR_BAD_REQUEST')
  await refused(t, () => call('GET', '/v1/admin/deliveries?status=%00', { token: opsToken }), 'TB_ERR_BAD_REQUEST')
  await refused(t, () => call('POST', '/v1/admin/deliveries/%00/replay', { token: opsToken }), 'TB_ERR_NOT_FOUND')
  await refused(t, () => call('POST', '/v1/adapters/legacy-tax/%00/zsxx', { body: '{}', contentType: 'application/json', token: false }), 'TB_ERR_NOT_FOUND')
  await ops.close()
})

t.test('Fastify\'s own errors carry catalogue codes', async (t) => {
  await refused(t, () => call('GET', '/v1/cases/%E0%A4%A'), 'TB_ERR_BAD_REQUEST')
  await refused(t, () => call('GET', `/v1/cases/${'1'.repeat(500)}`), 'TB_ERR_BAD_REQUEST')
  await refused(t, async () => call('POST', '/v1/messages', { body: '{"not":"jose"}', contentType: 'application/json' }), 'TB_ERR_CONTENT_TYPE')
  await refused(t, async () => call('POST', '/v1/token', { body: '{"not json', contentType: 'application/json', token: false }), 'TB_ERR_CONTENT_TYPE')
  await refused(t, async () => call('POST', '/v1/messages', { body: 'x', contentType: '' }), 'TB_ERR_CONTENT_TYPE')
  await refused(t, () => call('PATCH', '/v1/messages', { body: 'x' }), 'TB_ERR_NOT_FOUND')
  await refused(t, () => call('DELETE', '/v1/cases/231202-2026-000123'), 'TB_ERR_NOT_FOUND')
  // Requests Node's HTTP parser refuses before Fastify sees them.
  for (const raw of ['FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]) {
    const answer = await rawHttp(raw)
    t.match(answer, /^HTTP\/1\.1 400 /, `${JSON.stringify(raw.slice(0, 24))}: 400`)
    t.match(answer, /content-type: application\/problem\+json/i)
    t.match(answer, /"code":"TB_ERR_BAD_REQUEST"/)
  }
})

/** Writes raw bytes to the gateway and reads the answer until the connection closes. */
async function rawHttp(raw: string): Promise<string> {
  const { port, hostname } = new URL(w.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(raw))
    let out = ''
    socket.setEncoding('latin1')
    socket.on('data', (c: string) => { out += c })
    socket.on('close', () => resolve(out))
    socket.on('error', (err) => (out === '' ? reject(err) : resolve(out)))
    socket.setTimeout(5_000, () => socket.destroy())
  })
}
