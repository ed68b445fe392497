import t from 'tap'
import { connect } from 'node:net'
import { Pool } from 'undici'
import { encryptJwe, signJws, CTY_JWS, type PrivateKey } from '../../src/crypto/index.ts'
import { ERRORS } from '../../src/errors.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 7 item 11: generated malformed input, seeded and bounded. Whatever arrives — broken
// JOSE, validly signed but malformed JSON, odd paths, methods, headers and content types — the
// gateway answers a 4xx problem+json with a code of the catalogue, never a 5xx, and stores
// nothing. Set TONGBAN_FUZZ_SEED to replay a run; offenders are listed with their input.
const SEED = Number(process.env.TONGBAN_FUZZ_SEED ?? 0x7b1d2026)
const PER_CLASS = { jose: Number(process.env.FZ_JOSE ?? 1200), json: Number(process.env.FZ_JSON ?? 1000), http: Number(process.env.FZ_HTTP ?? 1200) }
const PARALLEL = 8

const REG = 'REG:231202'
const TAX = 'TAX:231202'
const BANK = 'BANK:91230100MA1B2C3D49'
const w = await World.start({
  label: 'fuzz',
  config: { limits: { tokenRequestsPerMinute: 1_000_000, adapterRequestsPerMinute: 1_000_000, bodyBytes: 256 * 1024 } },
  partners: [
    // On a (loopback) private network: bare JWS reach the payload checks without the decryption cost.
    { id: REG, privateNetwork: true, send: ['tax.assessment.request'], receive: ['mortgage.query', 'tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    { id: BANK, suite: 'national', send: ['mortgage.query'], receive: [] },
  ],
})
const pool = new Pool(w.url, { connections: PARALLEL })
t.teardown(async () => {
  await pool.close()
  await w.close()
})

/** mulberry32: small, seedable, good enough to pick inputs (never Math.random: runs must replay). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const rnd = prng(SEED)
const int = (n: number): number => Math.floor(rnd() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)))
const b64 = (x: string | Uint8Array): string => Buffer.from(x).toString('base64url')
const B64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const junk64 = (n: number): string => Array.from({ length: n }, () => B64_CHARS[int(64)]).join('')

interface Input { readonly label: string; readonly method: string; readonly path: string; readonly headers: Record<string, string>; readonly body?: string | Buffer }
interface Outcome { readonly status: number; readonly type: string; readonly text: string }

/**
 * Sends one request over its own socket, byte for byte as built (an HTTP client library would
 * refuse or rewrite some of these), and reads the final answer (after any 1xx) until the close.
 */
async function rawRequest(input: Input): Promise<Outcome> {
  const { port, hostname } = new URL(w.url)
  const body = input.body === undefined ? undefined : Buffer.from(input.body)
  const head = [`${input.method} ${input.path} HTTP/1.1`, `host: ${hostname}:${port}`, 'connection: close',
    ...Object.entries(input.headers).map(([k, v]) => `${k}: ${v}`), ...(body !== undefined ? [`content-length: ${body.length}`] : [])].join('\r\n')
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect(Number(port), hostname, () => socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)])))
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('close', () => resolve(Buffer.concat(chunks)))
    socket.on('error', (err) => (chunks.length > 0 ? resolve(Buffer.concat(chunks)) : reject(err)))
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')))
  })
  let text = raw.toString('latin1')
  // Skip interim answers (100 Continue).
  while (/^HTTP\/1\.1 1\d\d /.test(text)) text = text.slice(text.indexOf('\r\n\r\n') + 4)
  const end = text.indexOf('\r\n\r\n')
  const headers = text.slice(0, end < 0 ? text.length : end)
  let payload = end < 0 ? '' : text.slice(end + 4)
  if (/^transfer-encoding: *chunked/im.test(headers)) {
    let out = ''
    for (let at = 0; ;) {
      const eol = payload.indexOf('\r\n', at)
      const size = parseInt(payload.slice(at, eol), 16)
      if (!(size > 0)) break
      out += payload.slice(eol + 2, eol + 2 + size)
      at = eol + 2 + size + 2
    }
    payload = out
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0),
    type: /^content-type: *(.*)$/im.exec(headers)?.[1]?.trim() ?? '',
    text: Buffer.from(payload, 'latin1').toString('utf8'),
  }
}

/** Sends every input (PARALLEL at a time) and returns those whose answer breaks the contract. */
async function run(inputs: readonly Input[], allow2xx = false, raw = false): Promise<string[]> {
  const offenders: string[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const input = inputs[next++] as Input
      let o: Outcome
      try {
        if (raw) o = await rawRequest(input)
        else {
          const res = await pool.request({ method: input.method as 'GET', path: input.path, headers: input.headers, headersTimeout: 10_000, bodyTimeout: 10_000, ...(input.body !== undefined ? { body: input.body } : {}) })
          o = { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), text: await res.body.text() }
        }
      } catch (err) {
        offenders.push(`${input.label}: no answer (${(err as Error).message})`)
        continue
      }
      const fault = judge(input, o, allow2xx)
      if (fault !== null) offenders.push(`${input.label}: ${fault} — ${o.status} ${o.text.slice(0, 160)}`)
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  return offenders
}

/** Why an answer breaks the contract, or null: no 5xx; every refusal problem+json with a catalogue code. */
function judge(input: Input, o: Outcome, allow2xx: boolean): string | null {
  if (o.status >= 500) return 'a 5xx'
  if (o.status < 400) return allow2xx ? null : 'accepted'
  if (input.method === 'HEAD') return null
  if (!/^application\/problem\+json/.test(o.type)) return `content type ${o.type}`
  let p: { code?: string; status?: number }
  try { p = JSON.parse(o.text) as typeof p } catch { return 'not JSON' }
  if (p.code === undefined || !(p.code in ERRORS)) return `code ${String(p.code)} not in the catalogue`
  if (p.status !== o.status) return 'problem status ≠ HTTP status'
  return null
}

const reg = w.client(REG)
const bank = w.client(BANK)
const regToken = await reg.token()
const bankToken = await bank.token()
const regKey: PrivateKey = w.partner(REG).signingKey
const bankKey: PrivateKey = w.partner(BANK).signingKey
const directory = await reg.directory()
const gatewayIntl = directory.gatewayEncryptionKey('international')
const gatewayNational = directory.gatewayEncryptionKey('national')
const request = validFixture('tax.assessment.request')
const query = validFixture('mortgage.query')

const post = (label: string, path: string, body: string | Buffer, token?: string, contentType = 'application/jose'): Input => ({
  label, method: 'POST', path, body, headers: { 'content-type': contentType, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
})

// Real objects to break: a sender's JWS, and JWEs of it in both suites.
const realJws = await reg.sign(reg.envelope({ ...request.envelope }))
const realJwe = await encryptJwe(Buffer.from(realJws, 'latin1'), gatewayIntl, { cty: CTY_JWS })
const bankJws = await bank.sign(bank.envelope({ ...query.envelope }))
const nationalJwe = await encryptJwe(Buffer.from(bankJws, 'latin1'), gatewayNational, { cty: CTY_JWS })

const ALGS = ['none', 'HS256', 'RS256', 'PS256', 'ES256', 'ES512', 'EdDSA', 'SM2SM3', 'SM2', 'RSA-OAEP', 'RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A256KW', 'dir', 'A256KW', '', 'es256', 1, null, true, ['ES256'], {}]
const ENCS = ['A256GCM', 'A128GCM', 'A128CBC-HS256', 'SM4-CBC-HMAC-SM3', 'SM4-GCM', '', 7, null]
const TYPS = ['tongban+jws', 'tongban+token-request', 'tongban+receipt', 'JWT', '', 'TONGBAN+JWS', 0]
const odd = (): unknown => pick<unknown>(['', 'x', '\u0000', '\ud800', 'é', '../../etc/passwd', 'a'.repeat(int(5000)), 0, -1, 1e308, null, true, [], {}, [1, [2]], { kid: 'x' }])

/** A JOSE header object: the real one with a few members changed, removed or added. */
function header(base: Record<string, unknown>): Record<string, unknown> {
  const h: Record<string, unknown> = { ...base }
  for (let n = 1 + int(3); n > 0; n--) {
    switch (int(8)) {
      case 0: h.alg = pick(ALGS); break
      case 1: h.enc = pick(ENCS); break
      case 2: h.typ = pick(TYPS); break
      case 3: h.kid = pick([`${REG}#sign-1`, `${BANK}#sign-1`, 'TONGBAN#nope', '', odd()]); break
      case 4: h[pick(['crit', 'b64', 'zip', 'jku', 'x5u', 'jwk', 'cty', 'epk', 'p2c'])] = pick<unknown>([['b64'], false, 'DEF', 'http://127.0.0.1:9/', { kty: 'EC' }, 'tongban+jws', 1e9, odd()]); break
      case 5: delete h[pick(Object.keys(h))]; break
      case 6: h[`x${int(1000)}`] = odd(); break
      default: h.cty = pick([CTY_JWS, 'JWT', '', odd()])
    }
  }
  return h
}

/** Replaces or corrupts characters of a base64url segment. */
function corrupt(seg: string): string {
  const chars = [...seg]
  for (let n = 1 + int(4); n > 0 && chars.length > 0; n--) {
    const i = int(chars.length)
    chars[i] = pick(['=', '+', '/', '.', ' ', '!', '\u00e9', '%', '\n', B64_CHARS[int(64)] as string])
  }
  return chars.join('')
}

/** One malformed JOSE body (never one of the real objects unchanged: a mutation may be a no-op). */
function badJose(): { label: string; body: string | Buffer; national: boolean } {
  for (;;) {
    const g = badJoseOnce()
    const text = g.body.toString()
    if (text !== realJwe && text !== nationalJwe && text !== realJws) return g
  }
}

function badJoseOnce(): { label: string; body: string | Buffer; national: boolean } {
  const national = rnd() < 0.3
  const jwe = national ? nationalJwe : realJwe
  const parts = jwe.split('.')
  const jwsParts = realJws.split('.')
  const realHeader = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8')) as Record<string, unknown>
  switch (int(12)) {
    case 0: {
      const n = pick([0, 1, 2, 4, 6, 7, 9])
      return { label: `segments:${n}`, body: Array.from({ length: n }, () => junk64(int(40))).join('.'), national }
    }
    case 1: {
      const i = int(5)
      const copy = [...parts]
      copy[i] = corrupt(copy[i] as string)
      return { label: `bad-base64:jwe[${i}]`, body: copy.join('.'), national }
    }
    case 2: {
      const i = int(3)
      const copy = [...jwsParts]
      copy[i] = corrupt(copy[i] as string)
      return { label: `bad-base64:jws[${i}]`, body: copy.join('.'), national: false }
    }
    case 3: return { label: 'jwe-header-mutated', body: [b64(JSON.stringify(header(realHeader))), ...parts.slice(1)].join('.'), national }
    case 4: {
      const jh = JSON.parse(Buffer.from(jwsParts[0] as string, 'base64url').toString('utf8')) as Record<string, unknown>
      return { label: 'jws-header-mutated', body: [b64(JSON.stringify(header(jh))), ...jwsParts.slice(1)].join('.'), national: false }
    }
    case 5: {
      // A huge header, up to most of the body limit.
      const pad = 'p'.repeat(1_000 + int(150_000))
      return { label: `huge-header:${pad.length}`, body: [b64(JSON.stringify({ ...realHeader, pad })), ...parts.slice(1)].join('.'), national }
    }
    case 6: {
      // Duplicate members in a protected header, raw text.
      const key = pick(['alg', 'enc', 'kid', 'cty', 'typ'])
      const text = JSON.stringify(realHeader).replace('{', `{"${key}":${JSON.stringify(pick<unknown>(ALGS))},`)
      return { label: `dup-header:${key}`, body: [b64(text), ...parts.slice(1)].join('.'), national }
    }
    case 7: {
      const cut = int(jwe.length)
      return { label: `truncated:${cut}`, body: jwe.slice(0, cut), national }
    }
    case 8: {
      // One bit flipped in the encrypted key, iv, ciphertext or tag.
      const i = 1 + int(4)
      const raw = Buffer.from(parts[i] as string, 'base64url')
      if (raw.length > 0) { const at = int(raw.length); raw[at] = (raw[at] ?? 0) ^ (1 << int(8)) }
      const copy = [...parts]
      copy[i] = b64(raw)
      return { label: `bitflip:jwe[${i}]`, body: copy.join('.'), national }
    }
    case 9: {
      const which = int(4)
      const text = [pick(['', '[]', '"alg"', '{"alg":', 'null', '{"alg":"ES256"}x']) as string, bytes(1 + int(30)).toString('latin1'), '\ufeff{"alg":"ES256"}', `{"alg":"ES256","kid":"${'\u0001'}"}`][which] as string
      const h = which === 1 ? Buffer.from(text, 'latin1').toString('base64url') : b64(text)
      return { label: `header-not-json:${which}`, body: [h, ...(rnd() < 0.5 ? parts.slice(1) : jwsParts.slice(1))].join('.'), national }
    }
    case 10: {
      // Ciphertext cut to a length the cipher cannot have.
      const copy = [...parts]
      const ct = Buffer.from(copy[3] as string, 'base64url')
      copy[3] = b64(ct.subarray(0, int(ct.length)))
      return { label: 'short-ciphertext', body: copy.join('.'), national }
    }
    default: {
      const wrap = pick(['\u0000', '\r\n\r\n', ' '.repeat(int(100)), '\t', '\ufeff', '..'])
      return { label: 'wrapped', body: Buffer.from(`${wrap}${jwe.slice(0, -1 - int(10))}${wrap}`, 'utf8'), national }
    }
  }
}

t.test(`malformed JOSE (seed ${SEED})`, async (t) => {
  const inputs: Input[] = []
  for (let i = 0; i < PER_CLASS.jose; i++) {
    const g = badJose()
    const target = int(5)
    if (target === 0) inputs.push(post(`jose#${i} ${g.label} → token`, '/v1/token', g.body))
    else if (g.national || target === 1) inputs.push(post(`jose#${i} ${g.label} → queries`, '/v1/queries', g.body, bankToken))
    else inputs.push(post(`jose#${i} ${g.label} → messages`, '/v1/messages', g.body, regToken))
  }
  const before = await w.counts()
  t.same(await run(inputs), [], `${inputs.length} inputs: every one a 4xx problem with a catalogue code`)
  t.same(await w.counts(), before, 'no row written, no job queued')
})

// ── Validly signed, malformed JSON ───────────────────────────────────────────────────────────

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Every [parent, key] of a JSON tree whose value is a string. */
function stringSlots(v: Json, out: Array<[Record<string, Json> | Json[], string | number]> = []): Array<[Record<string, Json> | Json[], string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => (typeof x === 'string' ? out.push([v, i]) : stringSlots(x, out)))
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) typeof x === 'string' ? out.push([v, k]) : stringSlots(x, out)
  return out
}
/** Every object of a JSON tree. */
function objects(v: Json, out: Array<Record<string, Json>> = []): Array<Record<string, Json>> {
  if (Array.isArray(v)) v.forEach((x) => objects(x, out))
  else if (v !== null && typeof v === 'object') {
    out.push(v)
    Object.values(v).forEach((x) => objects(x, out))
  }
  return out
}

const CONTROLS = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => !'\t\n\r'.includes(c))]

/** Breakages that make any signed JSON invalid (for token requests, which ignore unknown members). */
const STRICT_ONLY = [0, 1, 2, 4, 5, 6, 10]

/** A payload that is certainly invalid, as bytes: the envelope (or claims) `env` broken one way. */
function badPayload(env: Record<string, Json>, kinds?: readonly number[]): { label: string; bytes: Buffer } {
  const copy = structuredClone(env)
  const text = (x: unknown): Buffer => Buffer.from(JSON.stringify(x), 'utf8')
  switch (kinds === undefined ? int(11) : pick(kinds)) {
    case 0: {
      const slots = stringSlots(copy)
      const [parent, key] = pick(slots)
      const s = (parent as Record<string, string>)[key as string] as string
      const at = int(s.length + 1)
      ;(parent as Record<string, string>)[key as string] = `${s.slice(0, at)}${pick(CONTROLS)}${s.slice(at)}`
      return { label: `control-char@${String(key)}`, bytes: text(copy) }
    }
    case 1: {
      const [parent, key] = pick(stringSlots(copy))
      ;(parent as Record<string, string>)[key as string] += pick(['\ud800', '\udfff', 'a\udc00b'])
      return { label: `lone-surrogate@${String(key)}`, bytes: text(copy) }
    }
    case 2: {
      // A member repeated in some object of the tree (same or another value).
      const obj = pick(objects(copy).filter((o) => Object.keys(o).length > 0))
      const key = pick(Object.keys(obj))
      const raw = JSON.stringify(obj)
      const dup = raw.replace('{', `{${JSON.stringify(key)}:${JSON.stringify(rnd() < 0.5 ? obj[key] : odd())},`)
      return { label: `duplicate-key:${key}`, bytes: Buffer.from(JSON.stringify(copy).replace(raw, dup), 'utf8') }
    }
    case 3: {
      const key = pick(['id', 'type', 'v', 'from', 'iat', 'nonce', 'body', 'caseId', 'unitCode', 'to'])
      copy[key] = pick<Json>([null, 1.5, -1, 'x', [], {}, true, '\u0000', 'a'.repeat(200)])
      return { label: `wrong-type:${key}`, bytes: text(copy) }
    }
    case 4: {
      const raw = JSON.stringify(copy)
      const variants = [raw.slice(0, int(raw.length)), `${raw}x`, `\ufeff${raw}`, raw.replace(/"/g, "'"), `${raw},${raw}`, '', 'null', '[]', '"env"', '1e999']
      const which = int(variants.length)
      return { label: `not-json:${which}`, bytes: Buffer.from(variants[which] as string, 'utf8') }
    }
    case 5: {
      const raw = Buffer.from(JSON.stringify(copy), 'utf8')
      const at = int(raw.length)
      const bad = pick([[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe4, 0xb8], [0xf8, 0x88, 0x80, 0x80, 0x80]])
      return { label: 'invalid-utf8', bytes: Buffer.concat([raw.subarray(0, at), Buffer.from(bad), raw.subarray(at)]) }
    }
    case 6: {
      let deep: Json = 'x'
      const depth = 65 + int(2_000)
      for (let i = 0; i < depth; i++) deep = rnd() < 0.5 ? { a: deep } : [deep]
      ;((copy.body as Record<string, Json> | undefined) ?? copy).deep = deep
      return { label: `deep:${depth}`, bytes: text(copy) }
    }
    case 7: {
      copy[`extra${int(100)}`] = odd() as Json
      return { label: 'extra-member', bytes: text(copy) }
    }
    case 8: {
      copy.caseId = pick(['A'.repeat(64), '231202-2026-', '231202/2026/000123', '991202-2026-000123', '231202-2026-0000000000001', '231202-26-1', `231202-2026-${'1'.repeat(int(40))}x`])
      return { label: `case-id:${copy.caseId.slice(0, 20)}`, bytes: text(copy) }
    }
    case 9: {
      // Numbers JSON allows and JavaScript reads oddly.
      copy.iat = pick<Json>([1e21, -0, 2 ** 53 + 1, 0.1, Number.MAX_SAFE_INTEGER])
      const raw = JSON.stringify(copy).replace(/"v":1/, `"v":${pick(['1.0', '1e0', '10e-1', '0', '-1', '1E400'])}`)
      return { label: 'numbers', bytes: Buffer.from(raw, 'utf8') }
    }
    default: {
      const key = pick(Object.keys(copy))
      const raw = JSON.stringify(copy).replace(`"${key}":`, `"${key}\\u0000":`)
      return { label: `control-in-name:${key}`, bytes: Buffer.from(raw, 'utf8') }
    }
  }
}

t.test(`validly signed, malformed JSON payloads (seed ${SEED})`, async (t) => {
  const inputs: Input[] = []
  for (let i = 0; i < PER_CLASS.json; i++) {
    const kind = int(10)
    if (kind < 6) {
      const g = badPayload(reg.envelope({ ...request.envelope }) as unknown as Record<string, Json>)
      const jws = await signJws(g.bytes, regKey, { typ: 'tongban+jws' })
      // Bare on the private link, or encrypted as anyone would send it.
      const body = kind < 3 ? jws : await encryptJwe(Buffer.from(jws, 'latin1'), gatewayIntl, { cty: CTY_JWS })
      inputs.push(post(`json#${i} ${g.label} → messages${kind < 3 ? ' (bare)' : ''}`, '/v1/messages', body, regToken))
    } else if (kind < 8) {
      const g = badPayload(bank.envelope({ ...query.envelope }) as unknown as Record<string, Json>)
      const jws = await signJws(g.bytes, bankKey, { typ: 'tongban+jws' })
      inputs.push(post(`json#${i} ${g.label} → queries`, '/v1/queries', await encryptJwe(Buffer.from(jws, 'latin1'), gatewayNational, { cty: CTY_JWS }), bankToken))
    } else {
      const claims = { sub: REG, aud: directory.gatewayId, iat: Math.floor(Date.now() / 1000), jti: junk64(22) }
      const g = badPayload(claims as unknown as Record<string, Json>, STRICT_ONLY)
      inputs.push(post(`json#${i} ${g.label} → token`, '/v1/token', await signJws(g.bytes, regKey, { typ: 'tongban+token-request' })))
    }
  }
  const before = await w.counts()
  t.same(await run(inputs), [], `${inputs.length} inputs: every one a 4xx problem with a catalogue code`)
  t.same(await w.counts(), before, 'no row written, no job queued')
})

// ── Odd paths, methods, headers and content types ────────────────────────────────────────────

const ops = w.operatorClient()
const opsToken = await ops.token()
t.teardown(() => ops.close())

/** A path segment: percent-encoded bytes (some not UTF-8), long runs, dots, unicode. */
function segment(): string {
  switch (int(8)) {
    case 0: return Array.from({ length: 1 + int(6) }, () => `%${int(256).toString(16).padStart(2, '0').toUpperCase()}`).join('')
    case 1: return pick(['%00', '%E0%A4%A', '%', '%zz', '%C0%AF', '%ED%A0%80', '%F0%9F%98', '%2F', '%25'])
    case 2: return 'A'.repeat(1 + int(3_000))
    case 3: return pick(['..', '.', '', '~', '*', '231202-2026-000123', '231202-2026-000123%00', '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'])
    case 4: return encodeURIComponent(pick(['受理编号', 'ü', '\u0000', '\ud83d\ude00', ' ', '"', '<script>']))
    case 5: return junk64(int(80))
    case 6: return String(int(1e9))
    default: return encodeURIComponent(bytes(1 + int(12)).toString('latin1'))
  }
}
const ROUTES = ['/v1/cases/:x', '/v1/cases', '/v1/exchanges/:x', '/v1/queries', '/v1/messages', '/v1/token', '/v1/directory', '/v1/openapi.json', '/v1/admin/deliveries', '/v1/admin/deliveries/:x/replay', '/v1/adapters/legacy-tax/:x/zsxx', '/v1/adapters/:x/:x/:x', '/healthz', '/:x', '/v1/:x/:x', '//v1//cases//', '/v1/cases/:x/:x']
const QUERY_KEYS = ['limit', 'overdue', 'status', 'suite', 'x', '__proto__', 'constructor', 'limit[]', '']
function queryString(): string {
  if (rnd() < 0.5) return ''
  return `?${Array.from({ length: 1 + int(4) }, () => `${pick(QUERY_KEYS)}=${pick([segment(), '1', '0', '-1', '99999999999', 'true', 'dead', 'national', ''])}`).join('&')}${pick(['', '&', '&&', '#frag', '&limit=1&limit=2'])}`
}
const CONTENT_TYPES = ['application/jose', 'application/jose; charset=utf-8', 'APPLICATION/JOSE', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/jose;;', 'application/jose, application/json', '*/*', 'application/problem+json', '\u00e9']
function authorization(): Record<string, string> {
  switch (int(6)) {
    case 0: return {}
    case 1: return { authorization: regToken }
    case 2: return { authorization: `Bearer ${pick([junk64(40), '', regToken.slice(0, -3), `${regToken}.x`, 'a.b.c'])}` }
    case 3: return { authorization: `Bearer ${opsToken}` }
    case 4: return { authorization: pick(['Basic dXNlcjpwYXNz', 'Bearer', `bearer  ${regToken}`, 'Bearer \u00e9']) }
    default: return { authorization: `Bearer ${regToken}` }
  }
}
function body(): string | Buffer | undefined {
  switch (int(5)) {
    case 0: return undefined
    case 1: return bytes(int(2_000))
    // Never a real object unchanged: this class is about the envelope of the request, not its content.
    case 2: return pick(['{}', '{"a":1,"a":2}', '[', 'null', `${realJws}x`, realJwe.slice(1), '\u0000'])
    case 3: return realJwe.slice(0, int(realJwe.length))
    default: return ''
  }
}

t.test(`odd paths, methods, headers and content types (seed ${SEED})`, async (t) => {
  const inputs: Input[] = []
  for (let i = 0; i < PER_CLASS.http; i++) {
    const method = pick(['GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'])
    const path = pick(ROUTES).replace(/:x/g, () => segment()) + queryString()
    const b = method === 'GET' || method === 'HEAD' ? undefined : body()
    const headers: Record<string, string> = { ...authorization() }
    if (b !== undefined || rnd() < 0.2) headers['content-type'] = pick(CONTENT_TYPES)
    if (rnd() < 0.1) headers[pick(['accept', 'x-forwarded-for', 'tongban-message-id', 'content-encoding', 'expect'])] = pick(['*/*', '10.0.0.1', 'gzip', '100-continue', segment()])
    inputs.push({ label: `http#${i} ${method} ${path.slice(0, 120)}`, method, path, headers, ...(b !== undefined ? { body: b } : {}) })
  }
  const before = await w.counts()
  // Some of these are fine reads (GET /healthz, GET /v1/cases?limit=1): a 2xx is allowed, a write is not.
  t.same(await run(inputs, true, true), [], `${inputs.length} inputs: no 5xx, every refusal a problem with a catalogue code`)
  t.same(await w.counts(), before, 'no row written, no job queued')
})
