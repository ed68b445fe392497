import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createHmac } from 'node:crypto'
import { PrivateKey } from '../../src/crypto/index.ts'
import { TestClock } from '../helpers/clock.ts'
import { World } from '../helpers/world.ts'
import { remembered, REMEMBERED_TOKENS } from '../../src/inbound/auth.ts'

// Issue 7, item 6: token request ids were remembered only in Redis (a Redis loss reopened the
// window for a captured request), and tokens carried no audience and no key id (they outlived
// the key that obtained them). Each test performs the attack through the HTTP API.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const clock = new TestClock(new Date('2026-03-02T09:00:00+08:00'))
const w = await World.start({
  label: 'tokbind',
  clock,
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
const codeOf = (r: { json: unknown }): string | undefined => (r.json as { code?: string } | undefined)?.code
const tokenOf = (r: { json: unknown }): string => (r.json as { access_token: string }).access_token
const readCases = async (token: string) => {
  const res = await fetch(`${w.url}/v1/cases?overdue=false`, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, code: ((await res.json()) as { code?: string }).code }
}

t.test('a token request cannot be replayed after a Redis loss', async (t) => {
  const client = w.client(REG)
  const request = await client.tokenRequest()
  const first = await client.http('POST', '/v1/token', request, { auth: false })
  t.equal(first.status, 200)
  t.equal(codeOf(await client.http('POST', '/v1/token', request, { auth: false })), 'TB_ERR_REPLAY', 'replayed at once: refused')
  // Redis loses everything of this gateway (as a FLUSHALL would, but only this test's prefix).
  const keys = await w.redis.keys(`${w.prefix}:*`)
  if (keys.length > 0) await w.redis.del(...keys)
  const again = await client.http('POST', '/v1/token', request, { auth: false })
  t.same([again.status, codeOf(again)], [409, 'TB_ERR_REPLAY'], 'still refused: the jti is in PostgreSQL')
  const jti = (JSON.parse(Buffer.from(request.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti: string }).jti
  const rows = await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM token_requests WHERE subject = $1 AND jti = $2', [REG, jti])
  t.equal(rows.rows[0]?.n, 1, 'the request id is a row')
})

t.test('expired token request ids are purged', async (t) => {
  await w.db.query(`INSERT INTO token_requests (subject, jti, expires_at) VALUES ('REG:231202', 'old-jti-0000000000', $1)`, [new Date(clock.now().getTime() - 86_400_000)])
  // The purge runs at most once a minute, after a token is issued: move the clock past that.
  clock.advance(61_000)
  const r = await w.client(TAX).http('POST', '/v1/token', await w.client(TAX).tokenRequest(), { auth: false })
  t.equal(r.status, 200)
  const end = Date.now() + 5_000
  let left = 1
  while (left > 0 && Date.now() < end) {
    left = (await w.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM token_requests WHERE jti = 'old-jti-0000000000'`)).rows[0]?.n ?? 0
    if (left > 0) await new Promise((r) => setTimeout(r, 50))
  }
  t.equal(left, 0)
})

t.test('a token names this gateway as its audience and the key that obtained it', async (t) => {
  const r = await w.client(REG).http('POST', '/v1/token', await w.client(REG).tokenRequest(), { auth: false })
  const claims = claimsOf(tokenOf(r))
  t.same([claims.aud, claims.iss, claims.sub, claims.kid], [w.config.gatewayId, w.config.gatewayId, REG, w.partner(REG).signingKey.kid])
  t.equal((await readCases(tokenOf(r))).status, 200)

  // A token made with the same secret for another gateway (or with no key) is refused.
  const secret = Buffer.from(readFileSync(join(w.dir, 'gateway', 'token.key'), 'utf8').trim(), 'base64')
  const forge = (payload: object): string => {
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
  }
  const now = Math.floor(clock.now().getTime() / 1000)
  const base = { sub: REG, kind: 'participant', kid: w.partner(REG).signingKey.kid, iss: w.config.gatewayId, iat: now, exp: now + 300 }
  t.equal((await readCases(forge(base))).code, 'TB_ERR_TOKEN_INVALID', 'no audience: refused')
  t.equal((await readCases(forge({ ...base, aud: 'another-gateway' }))).code, 'TB_ERR_TOKEN_INVALID', 'another audience: refused')
  t.equal((await readCases(forge({ ...base, aud: w.config.gatewayId }))).status, 200, 'the same claims with this audience pass (the forge is faithful)')
  t.equal((await readCases(forge({ ...base, aud: w.config.gatewayId, kid: w.partner(TAX).signingKey.kid }))).code, 'TB_ERR_TOKEN_INVALID', 'a key of someone else: refused')
  // Expiry and not-before, against the gateway's clock: to the second, and only as numbers.
  const aud = w.config.gatewayId
  // A token whose exp is the next second has less than a second left, and the requests above took
  // some of it (CI saw one expire): the clock goes back to the start of `now`'s second first.
  clock.set(new Date(now * 1000))
  t.equal((await readCases(forge({ ...base, aud, exp: now + 1 }))).status, 200, 'valid up to its exp')
  t.same(await readCases(forge({ ...base, aud, exp: now - 1 })), { status: 401, code: 'TB_ERR_TOKEN_EXPIRED' }, 'expired a second ago')
  t.same(await readCases(forge({ ...base, aud, exp: String(now + 300) })), { status: 401, code: 'TB_ERR_TOKEN_INVALID' }, 'an exp that is not a number')
  t.same(await readCases(forge({ ...base, aud, nbf: now + 60 })), { status: 401, code: 'TB_ERR_TOKEN_INVALID' }, 'not valid before a time to come')
  t.equal((await readCases(forge({ ...base, aud, nbf: now }))).status, 200, 'valid from its nbf')
  t.same(await readCases(forge({ ...base, aud, iss: 'another-gateway' })), { status: 401, code: 'TB_ERR_TOKEN_INVALID' }, 'another issuer')
})

t.test('a remembered token still ends with its key, reloaded without a restart', async (t) => {
  // The gateway remembers the tokens it verified (src/inbound/auth.ts); the key and the subject
  // are checked on every call, so a directory reload ends the token at once.
  const reg = w.partner(REG)
  const token = tokenOf(await reg.client.http('POST', '/v1/token', await reg.client.tokenRequest(), { auth: false }))
  t.equal((await readCases(token)).status, 200)
  t.equal((await readCases(token)).status, 200, 'and again (remembered by now)')
  const ops = w.operatorClient()
  t.teardown(() => ops.close())
  const saved = readFileSync(join(w.dir, 'directory.json'), 'utf8')
  const next = PrivateKey.generate(`${REG}#sign-3`, 'ec-p256').privateKey
  w.writeDirectory((doc) => {
    const p = doc.participants.find((x) => x.id === REG) as { signingKeys: Array<Record<string, unknown>> }
    p.signingKeys = [{ kid: next.kid, publicKey: next.publicKey.toPem() }]
  })
  t.equal((await ops.http('POST', '/v1/admin/directory/reload')).status, 200)
  try {
    t.same(await readCases(token), { status: 401, code: 'TB_ERR_TOKEN_INVALID' }, 'refused once the key is removed')
  } finally {
    writeFileSync(join(w.dir, 'directory.json'), saved)
    await ops.http('POST', '/v1/admin/directory/reload')
  }
})

t.test('a token stops working when the key that obtained it is removed or expires', async (t) => {
  const reg = w.partner(REG)
  const token = tokenOf(await reg.client.http('POST', '/v1/token', await reg.client.tokenRequest(), { auth: false }))
  t.equal((await readCases(token)).status, 200)

  // The key expires (notAfter passes) while the token is still within its lifetime.
  const notAfter = new Date(clock.now().getTime() + 60_000).toISOString()
  await w.stopGateway()
  w.writeDirectory((doc) => {
    const p = doc.participants.find((x) => x.id === REG) as { signingKeys: Array<Record<string, unknown>> }
    p.signingKeys = p.signingKeys.map((k) => ({ ...k, notAfter }))
  })
  await w.boot()
  t.equal((await readCases(token)).status, 200, 'valid while the key is')
  clock.advance(120_000)
  t.same(await readCases(token), { status: 401, code: 'TB_ERR_TOKEN_INVALID' }, 'refused once the key has expired')

  // The key is replaced (rotation): tokens the old key obtained end with it.
  clock.advance(-120_000)
  const fresh = tokenOf(await reg.client.http('POST', '/v1/token', await reg.client.tokenRequest(), { auth: false }))
  await w.stopGateway()
  const next = PrivateKey.generate(`${REG}#sign-2`, 'ec-p256').privateKey
  w.writeDirectory((doc) => {
    const p = doc.participants.find((x) => x.id === REG) as { signingKeys: Array<Record<string, unknown>> }
    p.signingKeys = [{ kid: next.kid, publicKey: next.publicKey.toPem() }]
  })
  await w.boot()
  t.same(await readCases(fresh), { status: 401, code: 'TB_ERR_TOKEN_INVALID' }, 'refused once the key is removed')
})

t.test('remembered: a verified token is verified once, a refused one every time, the oldest forgotten first', async (t) => {
  const calls: string[] = []
  const verify = remembered((token) => {
    calls.push(token)
    if (token.startsWith('bad')) throw new Error('invalid')
    return { sub: token, kind: 'participant', kid: 'k' }
  }, 2)
  t.equal(verify('a').sub, 'a')
  t.equal(verify('a').sub, 'a')
  t.same(calls, ['a'], 'a token that verified is not verified again')
  t.throws(() => verify('bad'))
  t.throws(() => verify('bad'))
  t.same(calls, ['a', 'bad', 'bad'], 'a refused token is checked, and refused, every time')
  t.ok(Object.isFrozen(verify('a')), 'its claims cannot be changed by a caller')
  verify('b')
  verify('c')
  verify('b')
  verify('a')
  t.same(calls, ['a', 'bad', 'bad', 'b', 'c', 'a'], 'at most two remembered: the oldest (a) was forgotten first')
  t.equal(REMEMBERED_TOKENS, 4096)
})

// Issue 11 (doc gaps): the token request has its schema (schemas/token-request.v1.json); each
// fault is named at its pointer, a wrong audience included; a reused jti is a replay.
t.test('a token request that does not match its schema is named at its pointers; a reused jti is TB_ERR_REPLAY', async (t) => {
  const tax = w.client(TAX)
  const key = w.partner(TAX).signingKey
  const { signJws } = await import('../../src/crypto/index.ts')
  const request = async (claims: Record<string, unknown>): Promise<{ status: number; json: unknown }> =>
    tax.http('POST', '/v1/token', await signJws(Buffer.from(JSON.stringify(claims)), key, { typ: 'tongban+token-request' }), { auth: false })
  const iat = Math.floor(clock.now().getTime() / 1000)
  const good = { sub: TAX, aud: w.config.gatewayId, iat, jti: 'abcdefghijklmnop0001' }
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ ...good, aud: 'ANOTHER-GATEWAY' }, '/aud', 'const'],
    [{ ...good, jti: undefined }, '/jti', 'required'],
    [{ ...good, jti: 'short' }, '/jti', 'pattern'],
    [{ ...good, iat: String(iat) }, '/iat', 'type'],
    [{ ...good, sub: undefined }, '/sub', 'required'],
  ]
  for (const [claims, pointer, rule] of cases) {
    const r = await request(claims)
    const p = r.json as { code?: string; violations?: Array<{ pointer: string; rule: string }> }
    t.equal(r.status, 400, `${pointer} ${rule}: 400 (${JSON.stringify(r.json)})`)
    t.equal(p.code, 'TB_ERR_SCHEMA')
    t.ok(p.violations?.some((v) => v.pointer === pointer && v.rule === rule), `named at ${pointer} (${rule})`)
  }
  t.equal((await request(good)).status, 200)
  const again = await request(good)
  t.same([again.status, codeOf(again)], [409, 'TB_ERR_REPLAY'], 'the same jti again: a replay')
})
