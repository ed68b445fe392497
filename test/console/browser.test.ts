import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { fromBase32, hotp, totpStep } from '../../src/crypto/index.ts'
import { haveChromium, launchChromium } from '../helpers/browser.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { isolationName } from '../helpers/services.ts'
import { plainEnv, tongbanCommand } from '../helpers/subprocess.ts'
import { until } from '../helpers/wait.ts'
import { World } from '../helpers/world.ts'

// Issue 11 §1–3: the operator console in a real browser (Debian's Chromium, headless, driven by
// playwright-core), against a gateway with real PostgreSQL and Redis whose database the demo
// filled. Each page's screenshot is saved as an artifact (TONGBAN_TEST_SCREENSHOTS=1: also
// into docs/console/, where the README shows them).
if (!haveChromium()) throw new Error('no /usr/bin/chromium: apt-get install -y chromium (.ci/run installs it)')

const ROOT = new URL('../../', import.meta.url).pathname
const ARTIFACTS = join(ROOT, '.tap', 'console-screenshots')
mkdirSync(ARTIFACTS, { recursive: true })
const DEMO_CASE = '231202-2026-000888'
const DEMO_UNIT = '231202 003004 GB00012 F00010001'

// 1. The demo's day, in this test's own schema and Redis prefix.
const name = isolationName('console')
const demo = spawnSync(...tongbanCommand(['demo', '--schema', name, '--prefix', name]), { encoding: 'utf8', timeout: 120_000, env: plainEnv() })
if (demo.status !== 0) throw new Error(`the demo failed: ${demo.stderr}`)

// 2. A gateway on that database, with the demo's (sample) keys, and two partners of its own: a
// registration centre and a tax bureau whose inbox can be made to refuse (a dead letter).
// The console speaks TLS itself here (a self-signed certificate for 127.0.0.1), so its session
// cookie is Secure and __Host- prefixed, as in production.
const tlsDir = mkdtempSync(join(tmpdir(), 'tongban-console-tls-'))
const tlsCertFile = join(tlsDir, 'console.crt.pem')
const tlsKeyFile = join(tlsDir, 'console.key.pem')
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', tlsKeyFile, '-out', tlsCertFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })

const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'console', schema: name, gatewayKeysFrom: join(ROOT, 'certs-example', 'gateway'),
  config: { allowSampleKeys: true, console: { enabled: true, host: '127.0.0.1', port: 0, tlsCertFile, tlsKeyFile } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
const { browser, close: closeBrowser } = await launchChromium()
t.teardown(async () => {
  await closeBrowser()
  await w.close()
  rmSync(tlsDir, { recursive: true, force: true })
})
const consoleUrl = w.app.tb.consoleUrl as string
const PASSWORD = 'correct horse battery staple 绥化'

/** An operator and the TOTP steps they have used (a code is good once). */
interface Account { username: string; secret: Buffer; lastStep: number }
function code(a: Account): string {
  // The current step, or the next one (RFC 6238 §5.2 allows one step of drift) if this one is spent.
  const step = Math.max(totpStep(new Date()), a.lastStep + 1)
  a.lastStep = step
  return hotp(a.secret, BigInt(step))
}

// 3. Accounts: one through the CLI (password on stdin, the TOTP secret printed once), two in process.
const cli = spawnSync(...tongbanCommand(['operators', 'add', '--username', 'alice', '--role', 'operator', '--name', '值班员 Alice', '--keys', join(w.dir, 'gateway'), '--directory', join(w.dir, 'directory.json')]), {
  input: `${PASSWORD}\n`, encoding: 'utf8', timeout: 60_000, env: plainEnv({ TONGBAN_DB_SCHEMA: name, TONGBAN_REDIS_PREFIX: name }),
})
if (cli.status !== 0) throw new Error(`operators add failed: ${cli.stderr}`)
const printed = /TOTP secret .*: ([A-Z2-7]+)\n/.exec(cli.stdout)?.[1]
const alice: Account = { username: 'alice', secret: fromBase32(printed ?? '') as Buffer, lastStep: 0 }
const vera: Account = { username: 'vera', secret: (await w.app.tb.operators.add({ username: 'vera', displayName: '查看员 Vera', role: 'viewer', password: PASSWORD, by: 'test' })).totpSecret, lastStep: 0 }
const audrey: Account = { username: 'audrey', secret: (await w.app.tb.operators.add({ username: 'audrey', displayName: '审计员 Audrey', role: 'auditor', password: PASSWORD, by: 'test' })).totpSecret, lastStep: 0 }

// 4. A dead letter: the tax bureau refuses (a 4xx is final).
const taxServer = w.partner(TAX).server
taxServer.behave(() => 422)
const sent = await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope, caseId: '231202-2026-000701' })
const deadId = await (async () => {
  let id = ''
  await until('the delivery is dead', async () => {
    const d = (await w.db.query<{ id: string; status: string }>('SELECT id, status FROM deliveries WHERE exchange_id = $1', [sent.exchangeId])).rows[0]
    id = d?.id ?? ''
    return d?.status === 'dead'
  })
  return id
})()

async function shot(page: Page, file: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, file), fullPage })
  if (process.env.TONGBAN_TEST_SCREENSHOTS === '1') {
    mkdirSync(join(ROOT, 'docs', 'console'), { recursive: true })
    copyFileSync(join(ARTIFACTS, file), join(ROOT, 'docs', 'console', file))
  }
}

/** A browser context signed in as `a` through the log-in form. */
async function signIn(a: Account, options: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'zh-CN', viewport: { width: 1280, height: 900 }, ...options })
  const page = await context.newPage()
  const problems: string[] = []
  // A CSP violation or a failed resource shows as a console error: the pages must have none.
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
  await page.goto(`${consoleUrl}/overview`)
  await page.waitForURL(/\/login\?next=/)
  await page.fill('#username', a.username)
  await page.fill('#password', PASSWORD)
  await page.fill('#code', code(a))
  await page.click('#login')
  await page.waitForURL(/\/overview$/)
  return { context, page, problems }
}

// Each operator signs in once (a TOTP code is good once; one step of drift allows a second
// log-in in the same 30 s, not more): later tests open pages in the signed-in context.
let aliceSession: { context: BrowserContext; problems: string[] } | undefined
async function alicePage(): Promise<Page> {
  if (aliceSession === undefined) throw new Error('alice has not signed in')
  return aliceSession.context.newPage()
}

t.test('log in with a password and a TOTP code; the overview shows the day', async (t) => {
  const { context, page, problems } = await signIn(alice)
  aliceSession = { context, problems }
  t.match(await page.title(), /总览/, 'Chinese first')
  t.match(await page.textContent('header'), /值班员 Alice \(操作员\)/)
  t.ok(Number(await page.textContent('#n-accepted')) > 0, 'the demo\'s messages are counted in the last hour')
  t.equal(await page.textContent('#n-dead'), '1', 'the dead letter is counted')
  t.ok(await page.isVisible('svg.chart polyline#accepted'), 'the per-minute chart is drawn')
  await shot(page, 'overview.png')
  // The session cookie: secure, HTTP-only, same-site strict, host-only.
  const cookies = await context.cookies()
  const sessionCookie = cookies.find((c) => c.name === '__Host-tongban-console')
  t.same(sessionCookie && { secure: sessionCookie.secure, httpOnly: sessionCookie.httpOnly, sameSite: sessionCookie.sameSite }, { secure: true, httpOnly: true, sameSite: 'Strict' })
  const r = await page.request.get(`${consoleUrl}/overview`)
  t.match(r.headers()['content-security-policy'], /default-src 'none'/, 'a strict CSP')
  t.equal(r.headers()['x-frame-options'], 'SAMEORIGIN')
  t.same(problems, [], 'no CSP violation or failed resource')
  await page.close()
})

t.test('the demo\'s case: found by its id and by its unit code, shown as a progress map', async (t) => {
  const page = await alicePage()
  await page.goto(`${consoleUrl}/overview`)
  await page.click('a[href="/cases"]')
  await page.fill('#q', DEMO_CASE)
  await page.click('#search')
  await page.waitForURL(new RegExp(`/cases/${DEMO_CASE}$`))
  t.equal(await page.textContent('#case-id'), DEMO_CASE)
  t.equal(await page.textContent('#unit-code'), '231202**********************', 'the unit code masked by default')
  const nodes = await page.$$eval('#progress-map .node', (els) => els.map((e) => `${e.getAttribute('data-kind')}:${e.getAttribute('data-status') ?? ''}`))
  t.same(nodes[0], 'application:', 'the application first')
  t.ok(nodes.indexOf('tax:completed') > 0, 'the tax step, completed')
  t.equal(nodes.at(-1), 'registered:completed', 'the entry in the register last')
  t.match(await page.textContent('#progress-map'), /TAX:231202/, 'who held the tax step')
  t.match(await page.textContent('#timeline'), /tax\.payment\.completed/, 'the timeline below')
  await shot(page, 'case.png')
  // Unmasked on request: recorded in the ledger before the page leaves.
  await page.click('#unmask')
  t.equal(await page.textContent('#unit-code'), '231202003004GB00012F00010001')
  const reads = (await w.db.query<{ entry: string }>(`SELECT entry FROM ledger_entries WHERE kind = 'case.read' AND entry LIKE '%console:alice%'`)).rows.map((r) => JSON.parse(r.entry) as { what: string; ref?: string; unmasked?: boolean })
  t.ok(reads.some((e) => e.what === 'case' && e.ref === DEMO_CASE && e.unmasked === true), 'the unmasked read is in the ledger')
  t.ok(reads.some((e) => e.what === 'case' && e.ref === DEMO_CASE && e.unmasked === undefined), 'and so is the masked one')
  // By unit code (with spaces, as printed on a certificate): the cases on that unit.
  await page.goto(`${consoleUrl}/cases?q=${encodeURIComponent(DEMO_UNIT)}`)
  t.match(await page.textContent('main'), new RegExp(DEMO_CASE))
  t.same(aliceSession?.problems, [])
  await page.close()
})

t.test('a dead letter: its reason and attempts; replay, confirm, and see it delivered', async (t) => {
  const page = await alicePage()
  await page.goto(`${consoleUrl}/overview`)
  await page.click('a[href="/dead"]')
  const row = page.locator(`tr[data-delivery="${deadId}"]`)
  t.match(await row.textContent(), /PARTNER_4XX 422/, 'the reason')
  await shot(page, 'dead-letters.png')
  taxServer.behave(() => 200)
  await row.locator('a.replay').click()
  await page.waitForURL(new RegExp(`/dead/${deadId}$`))
  t.match(await page.textContent('main'), /确认重新投递/, 'a confirmation first')
  await page.click('#confirm-replay')
  await page.waitForURL(new RegExp(`/deliveries/${deadId}\\?replayed=1$`))
  t.ok(await page.isVisible('#replayed'), 'done, with the outcome below')
  await until('delivered', async () => {
    await page.click('#refresh')
    return (await page.getAttribute('#delivery-status', 'data-status')) === 'delivered'
  })
  t.equal(taxServer.accepted.get(sent.receipt.messageId), 1, 'the partner took it once')
  const entries = (await w.db.query<{ entry: string }>(`SELECT entry FROM ledger_entries WHERE kind = 'operator.action'`)).rows.map((r) => JSON.parse(r.entry) as { operator: string; action: string; target?: string })
  t.ok(entries.some((e) => e.operator === 'console:alice' && e.action === 'delivery.replay' && e.target === deadId), 'the replay is in the ledger, by the console operator')
  await page.close()
})

t.test('partners: directory entries, key expiry, circuit, last delivery', async (t) => {
  const page = await alicePage()
  await page.goto(`${consoleUrl}/overview`)
  await page.click('a[href="/partners"]')
  const row = page.locator(`tr[data-partner="${TAX}"]`)
  t.match(await row.textContent(), /正常/, 'circuit closed')
  t.match(await row.textContent(), /已送达/, 'its last delivery')
  await shot(page, 'partners.png')
  await page.close()
})

t.test('an auditor: the query record and the ledger, verified', async (t) => {
  const { context, page, problems } = await signIn(audrey)
  await page.click('a[href="/queries"]')
  t.match(await page.textContent('#queries'), /mortgage\.query/, 'the bank\'s mortgage queries of the demo')
  await shot(page, 'query-record.png')
  await page.click('a[href="/ledger"]')
  t.ok(await page.locator('#checkpoints tbody tr').count() > 0, 'the latest checkpoints')
  await page.click('#verify')
  await page.waitForSelector('#verify-result')
  t.equal(await page.getAttribute('#verify-result', 'data-ok'), 'true', await page.textContent('#verify-result') ?? '')
  await shot(page, 'ledger.png')
  // An auditor reads; it does not act.
  await page.goto(`${consoleUrl}/dead`)
  t.equal(await page.locator('a.replay').count(), 0)
  t.same(problems, [])
  await context.close()
})

t.test('a viewer: no replay button, a forged POST refused, no query record; works with scripts off', async (t) => {
  const { context, page } = await signIn(vera, { javaScriptEnabled: false })
  taxServer.behave(() => 422)
  const again = await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope, caseId: '231202-2026-000702' })
  let id = ''
  await until('dead again', async () => {
    const d = (await w.db.query<{ id: string; status: string }>('SELECT id, status FROM deliveries WHERE exchange_id = $1', [again.exchangeId])).rows[0]
    id = d?.id ?? ''
    return d?.status === 'dead'
  })
  await page.goto(`${consoleUrl}/dead`)
  t.ok(await page.isVisible(`tr[data-delivery="${id}"]`), 'the viewer sees the dead letter')
  t.equal(await page.locator('a.replay').count(), 0, 'but no replay button')
  // A forged POST with the viewer's own valid session and CSRF token: refused by role.
  const token = await page.getAttribute('form[action="/logout"] input[name="_csrf"]', 'value')
  const forged = await page.request.post(`${consoleUrl}/dead/${id}/replay`, { form: { _csrf: token ?? '' }, maxRedirects: 0 })
  t.equal(forged.status(), 403)
  t.match(await forged.text(), /data-code="TB_ERR_FORBIDDEN"/)
  t.equal((await w.db.query<{ status: string }>('SELECT status FROM deliveries WHERE id = $1', [id])).rows[0]?.status, 'dead', 'still dead')
  const q = await page.goto(`${consoleUrl}/queries`)
  t.equal(q?.status(), 403, 'the query record is for auditors')
  await page.goto(`${consoleUrl}/cases/${DEMO_CASE}`)
  t.equal(await page.textContent('#unit-code'), '231202**********************', 'masked')
  t.equal(await page.locator('#unmask').count(), 0, 'and no way to unmask')
  t.equal((await page.goto(`${consoleUrl}/cases/${DEMO_CASE}?unmask=1`))?.status(), 403)
  await context.close()
})

t.test('CSRF: a POST without the form\'s token is refused, even with a valid session', async (t) => {
  const page = await alicePage()
  await page.goto(`${consoleUrl}/overview`)
  const context = page.context()
  const id = (await w.db.query<{ id: string }>(`SELECT id FROM deliveries WHERE status = 'dead' LIMIT 1`)).rows[0]?.id as string
  for (const form of [{ note: 'no token' }, { _csrf: 'forged-token' }] as Array<Record<string, string>>) {
    const r = await page.request.post(`${consoleUrl}/dead/${id}/replay`, { form, maxRedirects: 0 })
    t.equal(r.status(), 403, JSON.stringify(form))
    t.match(await r.text(), /data-code="TB_ERR_CSRF"/)
  }
  t.equal((await w.db.query<{ status: string }>('SELECT status FROM deliveries WHERE id = $1', [id])).rows[0]?.status, 'dead', 'nothing was replayed')
  // Another site's form: the same-site-strict cookie is not sent, and there is no token.
  const evil = await context.newPage()
  await evil.setContent(`<form method="post" action="${consoleUrl}/dead/${id}/replay"><button id="go">go</button></form>`)
  const [answer] = await Promise.all([evil.waitForNavigation(), evil.click('#go')])
  t.equal(answer?.status(), 403)
  t.equal((await w.db.query<{ status: string }>('SELECT status FROM deliveries WHERE id = $1', [id])).rows[0]?.status, 'dead')
  await page.goto(`${consoleUrl}/overview`)
  t.match(page.url(), /\/overview$/, 'and the refused request did not end the operator\'s session')
  await evil.close()
  await page.close()
})

t.test('English on request, and the API reference', async (t) => {
  const page = await alicePage()
  await page.goto(`${consoleUrl}/overview`)
  await Promise.all([page.waitForResponse((r) => r.url().endsWith('/overview') && r.status() === 200), page.click('#lang')])
  await page.waitForLoadState()
  t.match(await page.title(), /Overview/)
  await page.click('a[href="/api"]')
  t.match(await page.textContent('#operations'), /POST \/v1\/messages/)
  await shot(page, 'api.png', false)
  await aliceSession?.context.close()
})

t.test('nothing secret in the logs or in clear in the database', async (t) => {
  const stored = await w.storedText()
  const logs = w.logText()
  for (const [what, s] of [['password', PASSWORD], ['TOTP secret', printed as string]] as const) {
    t.notOk(stored.includes(s), `no ${what} in the database`)
    t.notOk(logs.includes(s), `no ${what} in the logs`)
  }
  await w.checkLogs(t)
})
