import t from 'tap'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 4 §2–3: a bank's mortgage query is routed to the registration system of the unit's
// division; what comes back is minimised for the bank; a partner that does not answer costs
// at most the bound; a circuit breaker stops hammering a failing partner and recovers; a bank
// can never query a unit it has no loan application for, nor read another party's case.
const REG = 'REG:231202'
const REG_WK = 'REG:231221'
const TAX = 'TAX:231202'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
const BANK_USCC = '91230100MA1B2C3D49'
const OTHER_BANK = 'BANK:91350100M000100Y43'
const TIMEOUT_MS = 600
// The breakers' reset runs on the real clock: long enough that a slow machine's few queries
// between a circuit opening and the checks that it is open all fall inside it.
const BREAKER_RESET_MS = 4_000

const w = await World.start({
  label: 'mquery',
  config: { queries: { timeoutMs: TIMEOUT_MS, breakerFailures: 3, breakerResetMs: BREAKER_RESET_MS } },
  partners: [
    { id: REG, suite: 'national', send: ['tax.assessment.request'], receive: ['mortgage.query', 'tax.payment.completed'] },
    { id: REG_WK, suite: 'international', send: [], receive: ['mortgage.query'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    { id: BANK, suite: 'national', send: ['mortgage.query'], receive: [] },
    { id: OTHER_BANK, send: ['mortgage.query'], receive: [] },
  ],
})
t.teardown(() => w.close())

const query = validFixture('mortgage.query')
const result = validFixture('mortgage.query.result')
const SELLER = { name: '张三', idType: '1', idNumber: '231202197503151230' }

/** The register's answer for `unitCode`: the fixture, with one more mortgage held by the asking bank. */
function registerAnswer(unitCode: string): Record<string, unknown> {
  const b = bodyOf(result)
  const own = {
    mortgagee: { name: '示范银行绥化分行', uscc: BANK_USCC }, mortgageType: 'maximum', maxAmount: '300000.00',
    term: { start: '2026-03-10', end: '2036-03-09' }, rank: 2, certificateNumber: '黑(2026)绥化市不动产证明第0001300号',
    registeredAt: '2026-03-10T09:00:00+08:00', status: 'current',
  }
  return { ...b, unitCode, mortgages: [...(b.mortgages as object[]), own] }
}

for (const id of [REG, REG_WK]) {
  w.partner(id).server.onQuery(async (q) => ({ type: 'mortgage.query.result', body: registerAnswer(q.envelope.unitCode as string) }))
}

type Owner = { name: string; idNumber: string }
type Mortgage = { restricted?: boolean; mortgagee?: { uscc?: string }; securedAmount?: string; maxAmount?: string; rank: number }
const ownersOf = (b: Record<string, unknown>): Owner[] => (b.ownership as { owners: Owner[] }).owners
const problem = (e: unknown): { code?: string; status?: number } => (e as { problem?: { code?: string; status?: number } }).problem ?? {}
/** The problem a refused query ends with (a failure if it was answered). */
const refusal = async (p: Promise<unknown>): Promise<{ code?: string; status?: number }> => p.then(() => ({ code: 'answered' }), problem)

t.test('a query for a unit of another division goes to that division\'s registration system', async (t) => {
  const wk = validFixture('mortgage.query', (f) => f.file.includes('wangkui'))
  const before = w.partner(REG).server.queries.length
  const a = await w.client(BANK).query({ ...wk.envelope })
  t.equal(a.envelope.from, REG_WK)
  t.equal(w.partner(REG_WK).server.queries.length, 1)
  t.equal(w.partner(REG).server.queries.length, before, 'the local centre was not asked')
  t.equal(a.envelope.unitCode, wk.envelope.unitCode)
})

t.test('owners are masked unless they are applicants of the bank\'s loan application', async (t) => {
  const masked = await w.client(BANK).query({ ...query.envelope })
  t.same(ownersOf(masked.envelope.body).map((o) => [o.name, o.idNumber]), [['张*', '231***********1230'], ['李*', '231***********2040']])
  const b = bodyOf(query) as { loanApplication: { applicationNo: string; applicants: object[] } }
  b.loanApplication = { applicationNo: 'LA2026030300099', applicants: [SELLER] }
  const clear = await w.client(BANK).query({ ...query.envelope, body: b })
  t.same(ownersOf(clear.envelope.body).map((o) => [o.name, o.idNumber]), [['张三', '231202197503151230'], ['李*', '231***********2040']], 'the applicant in clear, the co-owner still masked')
  t.notMatch(JSON.stringify(masked.envelope.body), /231202197503151230|231202197806222040|张三|李四/, 'nothing of the non-parties in clear')
})

t.test('the bank sees its own mortgage in full, another bank\'s only as the register makes public', async (t) => {
  const a = await w.client(BANK).query({ ...query.envelope })
  const ms = (a.envelope.body as { mortgages: Mortgage[] }).mortgages
  const own = ms.find((m) => m.mortgagee?.uscc === BANK_USCC)
  t.equal(own?.maxAmount, '300000.00', 'its own: amount, term and all')
  const other = ms.find((m) => m.rank === 1)
  t.same(Object.keys(other ?? {}).sort(), ['rank', 'registeredAt', 'restricted', 'status'], 'another bank\'s: existence, rank, date, status only')
  t.notMatch(JSON.stringify(a.envelope.body), /150000\.00|91231202MA1D5E6F7Y/, 'no amount or mortgagee of the other bank')
  // Seen from the other bank, it is the other way round.
  const b = await w.client(OTHER_BANK).query({ ...query.envelope })
  t.ok((b.envelope.body as { mortgages: Mortgage[] }).mortgages.every((m) => m.restricted === true), 'neither mortgage is the other bank\'s')
})

t.test('a bank cannot query a unit it has no loan application for', async (t) => {
  const b = bodyOf(query) as { purpose: string; loanApplication: { applicationNo: string } }
  b.purpose = 'post-loan'
  b.loanApplication.applicationNo = 'LA-NEVER-DECLARED'
  const asked = w.partner(REG).server.queries.length
  const e = await refusal(w.client(BANK).query({ ...query.envelope, body: b }))
  t.same([e.code, e.status], ['TB_ERR_FORBIDDEN', 403])
  t.equal(w.partner(REG).server.queries.length, asked, 'the registration system was not even asked')
  // The application declared in a pre-loan query covers later post-loan queries on that unit…
  b.loanApplication.applicationNo = (bodyOf(query) as { loanApplication: { applicationNo: string } }).loanApplication.applicationNo
  const ok = await w.client(BANK).query({ ...query.envelope, body: b })
  t.equal(ok.envelope.type, 'mortgage.query.result')
  // …for that bank only: the other bank never declared LA2026030300099 (declared above by this one).
  b.loanApplication.applicationNo = 'LA2026030300099'
  t.ok((await w.client(BANK).query({ ...query.envelope, body: b })).envelope, 'this bank declared it')
  t.equal((await refusal(w.client(OTHER_BANK).query({ ...query.envelope, body: b }))).code, 'TB_ERR_FORBIDDEN')
  // By certificate number, the unit is known only from the answer: refused then, nothing shown.
  const byCert = validFixture('mortgage.query', (f) => f.file.includes('by-certificate'))
  const cb = bodyOf(byCert) as { purpose: string; loanApplication: { applicationNo: string } }
  cb.purpose = 'disposal'
  cb.loanApplication.applicationNo = 'LA-NEVER-DECLARED'
  t.equal((await refusal(w.client(BANK).query({ ...byCert.envelope, body: cb }))).code, 'TB_ERR_FORBIDDEN')
})

t.test('a bank cannot read a case it does not take part in', async (t) => {
  const req = validFixture('tax.assessment.request')
  await w.client(REG).send({ ...req.envelope })
  const r = await w.client(BANK).getCase(req.envelope.caseId as string)
  t.equal(r.status, 404)
  t.equal((r.json as { code: string }).code, 'TB_ERR_NOT_FOUND')
  const list = await w.client(BANK).http('GET', '/v1/cases')
  t.same((list.json as { cases: unknown[] }).cases, [], 'its case list is empty')
})

t.test('a partner that does not answer: 504 within the bound', async (t) => {
  w.partner(REG).server.onQuery(async () => ({ status: 200, delayMs: 5_000 }))
  const started = Date.now()
  const e = await refusal(w.client(BANK).query({ ...query.envelope }))
  const took = Date.now() - started
  t.same([e.code, e.status], ['TB_ERR_PARTNER_TIMEOUT', 504])
  // The partner answers after 5 s: well under that is the bound, not the partner (a slow CI
  // machine running two test files at once needs more than a few hundred ms of margin).
  t.ok(took >= TIMEOUT_MS && took < 4_000, `answered after ${took} ms (bound ${TIMEOUT_MS} ms, the partner 5,000 ms)`)
})

t.test('one bank\'s failing queries open its own circuit; failures of several banks open the partner\'s; both recover', async (t) => {
  const server = w.partner(REG).server
  server.onQuery(async () => ({ status: 503 }))
  const fwd = w.app.tb.forwarder
  // One timeout already counted above; two 503s make three consecutive failures of this bank.
  for (let i = 0; i < 2; i++) t.equal(problem(await w.client(BANK).query({ ...query.envelope }).catch((x: unknown) => x)).code, 'TB_ERR_PARTNER_UNAVAILABLE')
  const asked = server.queries.length
  const started = Date.now()
  const open = problem(await w.client(BANK).query({ ...query.envelope }).catch((x: unknown) => x))
  t.same([open.code, open.status], ['TB_ERR_PARTNER_UNAVAILABLE', 503], 'open: refused at once')
  t.ok(Date.now() - started < 2_000, 'without waiting for the partner')
  t.equal(server.queries.length, asked, 'the failing partner was not called')
  t.same([fwd.breakerState(REG, BANK), fwd.breakerState(REG)], ['open', 'closed'], 'the bank\'s own circuit opened, not the partner\'s: one bank cannot shut it for all')

  // Another bank still reaches the partner; when it fails too, failures come from two banks.
  t.equal(problem(await w.client(OTHER_BANK).query({ ...query.envelope }).catch((x: unknown) => x)).code, 'TB_ERR_PARTNER_UNAVAILABLE')
  t.equal(server.queries.length, asked + 1, 'the other bank was let through')
  t.equal(fwd.breakerState(REG), 'open', 'the partner fails everyone: its circuit opens for all')
  t.equal(problem(await w.client(OTHER_BANK).query({ ...query.envelope }).catch((x: unknown) => x)).code, 'TB_ERR_PARTNER_UNAVAILABLE')
  t.equal(server.queries.length, asked + 1, 'now refused at once for the other bank too')
  // Another partner is not affected.
  const wk = validFixture('mortgage.query', (f) => f.file.includes('wangkui'))
  t.equal((await w.client(BANK).query({ ...wk.envelope })).envelope.from, REG_WK)

  server.onQuery(async (q) => ({ type: 'mortgage.query.result', body: registerAnswer(q.envelope.unitCode as string) }))
  await new Promise((r) => setTimeout(r, BREAKER_RESET_MS + 100))
  t.same([fwd.breakerState(REG), fwd.breakerState(REG, BANK)], ['half-open', 'half-open'])
  const trial = await w.client(BANK).query({ ...query.envelope })
  t.equal(trial.envelope.type, 'mortgage.query.result', 'the trial query goes through')
  t.same([fwd.breakerState(REG), fwd.breakerState(REG, BANK)], ['closed', 'closed'])
})

t.test('every query is on record: who, what, when, why, and how it ended', async (t) => {
  const mine = (await w.client(BANK).http('GET', '/v1/queries')).json as { queries: Array<{ asker: string; purpose: string; applicationNo: string; outcome: string; unitCode: string }> }
  t.ok(mine.queries.length >= 8)
  t.ok(mine.queries.every((q) => q.asker === BANK), 'a bank sees only its own queries')
  const outcomes = new Set(mine.queries.map((q) => q.outcome))
  for (const o of ['answered', 'refused', 'timeout', 'unavailable']) t.ok(outcomes.has(o), `an ${o} query is recorded`)
  t.ok(mine.queries.every((q) => q.purpose && q.applicationNo), 'purpose and loan application recorded')
  const ops = w.operatorClient()
  const all = (await ops.http('GET', '/v1/queries')).json as { queries: Array<{ asker: string }> }
  t.ok(all.queries.some((q) => q.asker === OTHER_BANK), 'an operator sees every bank\'s')
  await ops.close()
  // Issue 8: each finished query, refused ones included, is a query.recorded entry of the ledger, with its outcome.
  const recorded = (await w.db.query<{ id: string; outcome: string }>(`SELECT entry::jsonb ->> 'queryId' AS id, entry::jsonb ->> 'outcome' AS outcome FROM ledger_entries WHERE kind = 'query.recorded' ORDER BY 1`)).rows
  const facts = (await w.db.query<{ id: string; outcome: string }>(`SELECT id::text AS id, outcome FROM queries WHERE outcome <> 'pending' ORDER BY 1`)).rows
  t.same(recorded, facts, `${facts.length} finished queries, ${facts.filter((f) => f.outcome === 'refused').length} of them refused: one entry each, same outcome`)
})

t.test('queries and messages do not mix', async (t) => {
  const bank = w.client(BANK)
  const asMessage = await bank.http('POST', '/v1/messages', await bank.encrypt(await bank.sign(bank.envelope(query.envelope))))
  t.match(asMessage.json, { code: 'TB_ERR_TYPE_UNKNOWN', type: 'urn:tongban:error:TB_ERR_TYPE_UNKNOWN', messageType: query.envelope.type }, 'the problem names the message type beside its own type')
  const reg = w.client(REG)
  const req = validFixture('tax.assessment.request')
  const asQuery = await reg.http('POST', '/v1/queries', await reg.encrypt(await reg.sign(reg.envelope({ ...req.envelope, caseId: '231202-2026-000555' }))))
  t.match(asQuery.json, { code: 'TB_ERR_TYPE_UNKNOWN', messageType: 'tax.assessment.request' })
  const b = bodyOf(query)
  const mismatch = await bank.http('POST', '/v1/queries', await bank.encrypt(await bank.sign(bank.envelope({ ...query.envelope, unitCode: '231221101002GB00345F00020003', body: b }))))
  const p = mismatch.json as { code: string; violations: Array<{ pointer: string; rule: string }> }
  t.same([p.code, p.violations[0]?.pointer, p.violations[0]?.rule], ['TB_ERR_SCHEMA', '/body/unitCode', 'const'])
})

t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
