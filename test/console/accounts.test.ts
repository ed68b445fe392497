import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { base32, checkTotp, fromBase32, hashPassword, hotp, passwordFault, totpStep, verifyPassword } from '../../src/crypto/index.ts'
import { ConfigError, loadConfig } from '../../src/config/index.ts'
import { maskRef, maskUnit } from '../../src/util/mask.ts'
import { html, raw } from '../../src/console/html.ts'
import { WORD_KEYS, word } from '../../src/console/i18n.ts'
import { plainEnv, tongbanCommand } from '../helpers/subprocess.ts'
import { World } from '../helpers/world.ts'

// Issue 11 §2: operator accounts (argon2id + TOTP, roles, lock-out) and the console's sessions,
// over plain HTTP on loopback (a local trial); the browser test covers the TLS listener.

t.test('TOTP and HOTP: the RFC test vectors', async (t) => {
  const secret = Buffer.from('12345678901234567890')
  // RFC 4226 Appendix D: HOTP of counters 0–9.
  t.same(Array.from({ length: 10 }, (_, i) => hotp(secret, BigInt(i))), ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'])
  // RFC 6238 Appendix B (SHA-1, 8 digits), by time.
  const at = (s: number): string => hotp(secret, BigInt(Math.floor(s / 30)), 8)
  t.same([59, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000].map(at), ['94287082', '07081804', '14050471', '89005924', '69279037', '65353130'])
  // RFC 4648 §10: base32 (without padding, as authenticator apps take it).
  t.same(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map((s) => base32(Buffer.from(s))), ['', 'MY', 'MZXQ', 'MZXW6', 'MZXW6YQ', 'MZXW6YTB', 'MZXW6YTBOI'])
  t.equal(fromBase32('mzxw 6ytb oi======')?.toString(), 'foobar', 'lower case, spaces and padding are fine')
  t.equal(fromBase32('MZ1'), undefined, 'not base32')
})

t.test('a TOTP code: good in its step and one step either side, once', async (t) => {
  const secret = Buffer.from('0123456789abcdef0123')
  const now = new Date('2026-12-06T03:00:10Z')
  const step = totpStep(now)
  const codeAt = (s: number): string => hotp(secret, BigInt(s))
  t.equal(checkTotp(secret, codeAt(step), now, 0), step)
  t.equal(checkTotp(secret, codeAt(step - 1), now, 0), step - 1, 'the step before (clock drift)')
  t.equal(checkTotp(secret, codeAt(step + 1), now, 0), step + 1, 'the step after')
  t.equal(checkTotp(secret, codeAt(step + 2), now, 0), undefined, 'two steps off: refused')
  t.equal(checkTotp(secret, codeAt(step), now, step), undefined, 'a step already used: refused')
  t.equal(checkTotp(secret, codeAt(step + 1), now, step), step + 1, 'a later step after a use: fine')
  t.equal(checkTotp(secret, '12345', now, 0), undefined, 'five digits')
  t.equal(checkTotp(secret, 'abcdef', now, 0), undefined, 'not digits')
})

t.test('passwords: argon2id PHC strings, and the rules for a new one', async (t) => {
  const h = await hashPassword('a sufficiently long pass phrase')
  t.match(h, /^\$argon2id\$v=19\$m=65536,p=4,t=3\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
  t.ok(await verifyPassword(h, 'a sufficiently long pass phrase'))
  t.notOk(await verifyPassword(h, 'a sufficiently long pass phrasE'))
  t.notOk(await verifyPassword('not a hash', 'x'), 'a malformed hash is a wrong password, not a crash')
  t.not(await hashPassword('a sufficiently long pass phrase'), h, 'a fresh salt each time')
  t.match(passwordFault('short'), /at least 12/)
  t.match(passwordFault('aaaaaaaaaaaaaaaa'), /repeated/)
  t.match(passwordFault('x'.repeat(257) + 'y'), /at most 256/)
  t.equal(passwordFault('十二个汉字的密码短语也可以用'), undefined, 'counted in characters, not bytes')
})

t.test('masks and escaping', async (t) => {
  t.equal(maskUnit('231202003004GB00012F00010001'), '231202**********************')
  t.equal(maskRef('BA2312022026008801'), '**************8801')
  t.equal(maskRef('黑(2026)不动产权第0001234号'), '****************234号', 'characters, not bytes')
  t.equal(maskRef('12'), '**')
  t.equal(html`<p title="${'"><script>'}">${'<b>&'}</p>${raw('<i>ok</i>')}${['<', html`<br>`]}`.text, '<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;&amp;</p><i>ok</i>&lt;<br>')
  t.ok(WORD_KEYS.every((k) => word('zh', k) !== '' && word('en', k) !== ''), 'every word in both languages')
})

t.test('config: off loopback the console needs TLS or a TLS proxy', async (t) => {
  const base = { keysDir: '/k', directoryFile: '/d' }
  t.throws(() => loadConfig({ overrides: { ...base, console: { host: '0.0.0.0' } } }), { name: 'ConfigError', message: /console\/host: 0\.0\.0\.0 is not loopback/ })
  t.throws(() => loadConfig({ overrides: { ...base, console: { tlsCertFile: '/c.pem' } } }), ConfigError)
  t.equal(loadConfig({ overrides: { ...base, console: { host: '0.0.0.0' }, trustProxy: ['10.0.0.5'] } }).console.host, '0.0.0.0', 'behind a proxy')
  t.equal(loadConfig({ overrides: { ...base, console: { host: '0.0.0.0', tlsCertFile: 'c.pem', tlsKeyFile: 'k.pem' } }, cwd: '/etc/tongban' }).console.tlsCertFile, '/etc/tongban/c.pem', 'with TLS; paths resolved')
  t.equal(loadConfig({ overrides: { ...base, console: { host: '0.0.0.0', enabled: false } } }).console.enabled, false, 'disabled: no constraint')
  t.same(loadConfig({ overrides: base, env: { TONGBAN_CONSOLE_PORT: '9999', TONGBAN_CONSOLE: 'false' } }).console, { enabled: false, host: '127.0.0.1', port: 9999, sessionMinutes: 30, maxFailures: 5, lockoutMinutes: 15 })
})

const w = await World.start({
  label: 'accounts',
  config: { console: { enabled: true, host: '127.0.0.1', port: 0, sessionMinutes: 30, maxFailures: 3, lockoutMinutes: 10 } },
  partners: [{ id: 'REG:231202', send: [], receive: ['tax.payment.completed'] }],
})
t.teardown(() => w.close())
const base = w.app.tb.consoleUrl as string
const PASSWORD = 'another long pass phrase'
const accounts = w.app.tb.operators

/** A browser without a browser: the log-in form's cookie and CSRF token, then a POST. */
async function login(username: string, password: string, code: string): Promise<{ status: number; cookie: string; body: string; location: string | null }> {
  const form = await fetch(`${base}/login`)
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] as string
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? ''
  const r = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username, password, code }).toString(),
  })
  const next = (r.headers.get('set-cookie') ?? '').split(';')[0] as string
  return { status: r.status, cookie: next === '' ? cookie : next, body: await r.text(), location: r.headers.get('location') }
}
const codeOf = (secret: Buffer, offset = 0): string => hotp(secret, BigInt(totpStep(new Date()) + offset))
const problemCode = (body: string): string | undefined => /data-code="([A-Z_]+)"/.exec(body)?.[1]

t.test('log-in: one refusal for every wrong part; a code is good once', async (t) => {
  const { totpSecret } = await accounts.add({ username: 'olga', displayName: 'Olga', role: 'operator', password: PASSWORD, by: 'test' })
  for (const [what, u, p, c] of [
    ['wrong password', 'olga', 'not the password at all', codeOf(totpSecret)],
    ['wrong code', 'olga', PASSWORD, '000000'],
    ['unknown user', 'nobody', PASSWORD, codeOf(totpSecret)],
    ['malformed user', 'Robert\'); DROP TABLE', PASSWORD, codeOf(totpSecret)],
  ] as const) {
    const r = await login(u, p, c)
    t.same([r.status, problemCode(r.body)], [401, 'TB_ERR_LOGIN_FAILED'], what)
  }
  await accounts.passwd({ username: 'olga', password: PASSWORD, newTotp: false, by: 'test' }) // clears the failures counted above
  const code = codeOf(totpSecret)
  const ok = await login('olga', PASSWORD, code)
  t.same([ok.status, ok.location], [303, '/overview'])
  const page = await fetch(`${base}/overview`, { headers: { cookie: ok.cookie } })
  t.equal(page.status, 200, 'the session opens the overview')
  t.match(await page.text(), /Olga \(操作员\)/)
  t.equal(page.headers.get('cache-control'), 'no-store')
  const again = await login('olga', PASSWORD, code)
  t.same([again.status, problemCode(again.body)], [401, 'TB_ERR_LOGIN_FAILED'], 'the same code again: refused')

  // The session table holds the id's hash, never the id.
  const sid = decodeURIComponent(ok.cookie.split('=')[1] ?? '').split('.')[0] as string
  t.ok(sid.length >= 20)
  t.notOk((await w.storedText()).includes(sid), 'no session id in the database')
  const rows = (await w.db.query<{ data: { operator?: string } }>('SELECT data FROM console_sessions')).rows
  t.ok(rows.some((r) => r.data.operator === 'olga'), 'the session names its operator')

  // A new password ends the sessions.
  await accounts.passwd({ username: 'olga', password: PASSWORD, newTotp: false, by: 'test' })
  const after = await fetch(`${base}/overview`, { headers: { cookie: ok.cookie }, redirect: 'manual' })
  t.same([after.status, after.headers.get('location')], [303, '/login?next=%2Foverview'], 'signed out')
})

t.test('lock-out after repeated failures; passwd clears it', async (t) => {
  const { totpSecret } = await accounts.add({ username: 'lena', displayName: 'Lena', role: 'viewer', password: PASSWORD, by: 'test' })
  for (let i = 0; i < 3; i++) t.equal((await login('lena', 'wrong wrong wrong', codeOf(totpSecret))).status, 401)
  const locked = await login('lena', PASSWORD, codeOf(totpSecret))
  t.same([locked.status, problemCode(locked.body)], [429, 'TB_ERR_ACCOUNT_LOCKED'], 'locked, even with the right password and code')
  await accounts.passwd({ username: 'lena', password: PASSWORD, newTotp: false, by: 'test' })
  t.equal((await login('lena', PASSWORD, codeOf(totpSecret, 1))).status, 303, 'unlocked by a new password')
  const entries = (await w.db.query<{ entry: string }>(`SELECT entry FROM ledger_entries WHERE kind = 'operator.action' AND entry LIKE '%console.login%'`)).rows.map((r) => JSON.parse(r.entry) as { operator: string; outcome: string })
  t.equal(entries.filter((e) => e.operator === 'console:lena' && e.outcome === 'refused').length, 3, 'every refused log-in is in the ledger')
  t.equal(entries.filter((e) => e.operator === 'console:lena' && e.outcome === 'locked').length, 1, 'and the one refused as locked')
  t.ok(entries.some((e) => e.operator === 'console:lena' && e.outcome === 'signed-in'))
})

t.test('a disabled operator cannot sign in, and their session ends', async (t) => {
  const { totpSecret } = await accounts.add({ username: 'dora', displayName: 'Dora', role: 'auditor', password: PASSWORD, by: 'test' })
  const ok = await login('dora', PASSWORD, codeOf(totpSecret))
  t.equal(ok.status, 303)
  t.equal((await fetch(`${base}/ledger`, { headers: { cookie: ok.cookie } })).status, 200, 'an auditor sees the ledger')
  await accounts.disable('dora', 'test')
  t.equal((await fetch(`${base}/ledger`, { headers: { cookie: ok.cookie }, redirect: 'manual' })).status, 303, 'the session ended')
  t.equal((await login('dora', PASSWORD, codeOf(totpSecret, 1))).status, 401)
  await accounts.enable('dora', 'test')
  t.equal((await login('dora', PASSWORD, codeOf(totpSecret, -1))).status, 401, 'an older step than the one used: refused')
  await t.rejects(accounts.disable('nobody', 'test'), { code: 'TB_ERR_NOT_FOUND' })
  await t.rejects(accounts.add({ username: 'dora', displayName: '', role: 'viewer', password: PASSWORD, by: 'test' }), { code: 'TB_ERR_INVALID_STATE' })
  await t.rejects(accounts.add({ username: 'Dora', displayName: '', role: 'viewer', password: PASSWORD, by: 'test' }), { code: 'TB_ERR_BAD_REQUEST' })
  await t.rejects(accounts.add({ username: 'eve', displayName: '', role: 'admin', password: PASSWORD, by: 'test' }), { code: 'TB_ERR_BAD_REQUEST' })
  await t.rejects(accounts.add({ username: 'eve', displayName: '', role: 'viewer', password: 'short', by: 'test' }), { code: 'TB_ERR_BAD_REQUEST' })
})

t.test('pages: log-in first, role checks, unknown paths, logout', async (t) => {
  const r = await fetch(`${base}/cases/231202-2026-000001`, { redirect: 'manual' })
  t.same([r.status, r.headers.get('location')], [303, '/login?next=%2Fcases%2F231202-2026-000001'])
  t.equal((await fetch(`${base}/nope`)).status, 404)
  const post = await fetch(`${base}/ledger/verify`, { method: 'POST' })
  t.same([post.status, problemCode(await post.text())], [403, 'TB_ERR_CSRF'], 'no session, no token')
  const { totpSecret } = await accounts.add({ username: 'vic', displayName: 'Vic', role: 'viewer', password: PASSWORD, by: 'test' })
  const ok = await login('vic', PASSWORD, codeOf(totpSecret))
  const get = (path: string) => fetch(`${base}${path}`, { headers: { cookie: ok.cookie }, redirect: 'manual' })
  t.equal((await get('/ledger')).status, 403, 'a viewer has no ledger page')
  t.equal((await get('/cases/not-a-case')).status, 400, 'a malformed case id')
  t.equal((await get('/cases/231202-2026-999999')).status, 404, 'no such case')
  t.equal((await get('/deliveries/not-a-uuid')).status, 404)
  t.equal((await get('/dead/00000000-0000-7000-8000-000000000000')).status, 403, 'the replay page is for operators')
  const back = await get('/lang?to=en&back=//evil.example/')
  t.equal(back.headers.get('location'), '/overview', 'the language switch only comes back to this console')
  t.equal((await get('/api/openapi.json')).status, 200)
  const page = await (await get('/overview')).text()
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
  const out = await fetch(`${base}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: ok.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(csrf)}` })
  t.same([out.status, out.headers.get('location')], [303, '/login'])
  t.equal((await get('/overview')).status, 303, 'signed out')
})

t.test('console refusals have their codes: not signed in, too large, not a form; expired sessions are purged', async (t) => {
  // A session with a CSRF token (the log-in page's) but no operator in it: the token passes, the guard refuses.
  const form = await fetch(`${base}/login`)
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] as string
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? ''
  const post = (path: string, body: string, type = 'application/x-www-form-urlencoded') => fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': type }, body })
  const anonymous = await post('/ledger/verify', `_csrf=${encodeURIComponent(csrf)}`)
  t.same([anonymous.status, problemCode(await anonymous.text())], [401, 'TB_ERR_TOKEN_MISSING'], 'sign in first')
  const large = await post('/login', `_csrf=${encodeURIComponent(csrf)}&username=${'x'.repeat(20_000)}`)
  t.same([large.status, problemCode(await large.text())], [413, 'TB_ERR_BODY_TOO_LARGE'], 'over the console\'s 16 KiB')
  const text = await post('/login', '<username>olga</username>', 'application/xml')
  t.same([text.status, problemCode(await text.text())], [415, 'TB_ERR_CONTENT_TYPE'], 'a body of a type the console does not read')

  await w.db.query(`INSERT INTO console_sessions (id_hash, data, expires_at) VALUES ('expired-test', '{}', now() - interval '1 minute')`)
  const { totpSecret } = await accounts.add({ username: 'pete', displayName: 'Pete', role: 'viewer', password: PASSWORD, by: 'test' })
  t.equal((await login('pete', PASSWORD, codeOf(totpSecret))).status, 303)
  t.equal((await w.db.query(`SELECT 1 FROM console_sessions WHERE id_hash = 'expired-test'`)).rowCount, 0, 'an expired session is gone after a log-in')
})

t.test('the CLI: add prints the TOTP secret once; list, passwd, disable; refusals exit 1', async (t) => {
  const env = plainEnv({ TONGBAN_DB_SCHEMA: w.schema, TONGBAN_REDIS_PREFIX: w.prefix })
  const cli = (args: string[], input = '') => spawnSync(...tongbanCommand(['operators', ...args, '--keys', join(w.dir, 'gateway'), '--directory', join(w.dir, 'directory.json')]), { input, encoding: 'utf8', timeout: 60_000, env })
  const add = cli(['add', '--username', 'carl', '--role', 'auditor', '--name', '审计 Carl'], `${PASSWORD}\n`)
  t.equal(add.status, 0, add.stderr)
  const secret = fromBase32(/TOTP secret .*: ([A-Z2-7]+)\n/.exec(add.stdout)?.[1] ?? '') as Buffer
  t.match(add.stdout, /otpauth:\/\/totp\/Tongban%20TONGBAN%3Acarl\?secret=[A-Z2-7]+&issuer=Tongban%20TONGBAN&algorithm=SHA1&digits=6&period=30/)
  t.equal((await login('carl', PASSWORD, codeOf(secret))).status, 303, 'the printed secret signs in')
  const list = cli(['list'])
  t.match(list.stdout, /^carl\tauditor\tactive\t审计 Carl$/m)
  const weak = cli(['passwd', '--username', 'carl'], 'short\n')
  t.same([weak.status, /TB_ERR_BAD_REQUEST/.test(weak.stderr)], [1, true], weak.stderr)
  const passwd = cli(['passwd', '--username', 'carl', '--new-totp'], `${PASSWORD} 2\n`)
  t.equal(passwd.status, 0, passwd.stderr)
  const fresh = fromBase32(/TOTP secret .*: ([A-Z2-7]+)\n/.exec(passwd.stdout)?.[1] ?? '') as Buffer
  t.not(base32(fresh), base32(secret), 'a new secret')
  t.equal((await login('carl', `${PASSWORD} 2`, codeOf(fresh))).status, 303, 'the new password and secret sign in')
  t.equal(cli(['disable', '--username', 'carl']).status, 0)
  t.match(cli(['list']).stdout, /^carl\tauditor\tdisabled/m)
  const none = cli(['disable', '--username', 'nobody'])
  t.same([none.status, /TB_ERR_NOT_FOUND/.test(none.stderr)], [1, true])
  t.equal(cli(['nope']).status, 2, 'an unknown subcommand is a usage error')
  t.equal(cli(['add', '--username', 'x1']).status, 2, 'add needs --role')
})
