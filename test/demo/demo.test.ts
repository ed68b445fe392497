import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BUYER, SELLER } from '../../src/demo/scenes/day.ts'
import { WANGKUI_SALE } from '../../src/demo/scenes/wangkui.ts'
import { SUIHUA } from '../../src/demo/scenes/suihua.ts'
import { dropRedisPrefix, dropSchema, isolationName } from '../helpers/services.ts'
import { plainEnv, tongbanCommand } from '../helpers/subprocess.ts'
import pg from 'pg'
import { GatewayKeyring } from '../../src/crypto/index.ts'
import { verifyEvidence } from '../../src/ledger/evidence.ts'
import { DATABASE_URL } from '../helpers/services.ts'

// Issue 2 §1 / issue 4: `npm run demo` (tongban demo) runs the gateway and the simulated
// agencies end to end, completes the transfer case REG → TAX → REG and prints its timeline.
const name = isolationName('demo')
const dir = mkdtempSync(join(tmpdir(), 'tongban-demo-test-'))
const log = join(dir, 'gateway.log')
t.teardown(async () => {
  await dropSchema(name)
  await dropRedisPrefix(name)
  rmSync(dir, { recursive: true, force: true })
})

const evidence = join(dir, 'transfer-case.evidence')
const [cmd, argv] = tongbanCommand(['demo', '--schema', name, '--prefix', name, '--log', log, '--evidence', evidence])
const run = spawnSync(cmd, argv, {
  encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
})
const out = run.stdout

t.test('the demo ends by itself, successfully', async (t) => {
  t.equal(run.status, 0, run.stderr)
  t.match(out, /the day's work took \d+ ms/)
})

t.test('the transfer case goes REG → TAX → REG and its timeline is printed', async (t) => {
  t.match(out, /case 231202-2026-000888 — unit 231202 003004 GB00012 F00010001/)
  t.match(out, /step tax\s+completed REG:231202 → TAX:231202/)
  for (const e of ['message.accepted     REG:231202', 'tax.assessment.request → TAX:231202', 'tax.payment.completed → REG:231202', 'step "tax" completed', 'contract.linked']) {
    t.ok(out.includes(e), `timeline shows: ${e}`)
  }
  t.match(out, /registration\.completed → BANK:91230100MA1B2C3D49:suihua, HOUSING:231200, TAX:231202/, 'the register entry fans out to everyone on the case')
  t.match(out, /received the electronic certificate of registration 黑\(2026\)绥化市不动产证明第\d{7}号/)
  t.match(out, /pre-registration .* for case 231202-2026-000889/)
})

t.test('the legacy tax bureau answers in its own format, and the centre gets 完税 attested by the gateway', async (t) => {
  t.match(out, /received 征税信息 as flat vendor JSON \(HMAC-SM3 checked\): bdcdyh 231221101002GB00345F00020003, jyjg 56\.8 万元/)
  t.match(out, /posted 完税信息 \(wsxx, totals in 万元\) to the gateway: HTTP 202, fhm 0000/)
  t.match(out, /received 完税 for case 231221-2026-000031 from TAX:231221: .* signed by the gateway for the legacy system/)
  t.match(out, /step tax\s+completed REG:231221 → TAX:231221/)
})

t.test('a court seizes a unit, the bank\'s query shows the seizure, the court releases it', async (t) => {
  t.match(out, /\[绥化市北林区人民法院\] sent the seizure \(2026\)黑1202执118号之一 of unit 231202003004GB00012F00030502 on its case 231202-2026-J000118/)
  t.match(out, /seizure registered: 业务号 \d+; its step completed, due end of \d{4}-\d{2}-\d{2} \(CST\) \(1 working day\), in time/)
  t.match(out, /pre-loan query on unit 231202003004GB00012F00030502: SEIZED — seizure by 绥化市北林区人民法院, \(2026\)黑1202执118号之一/, 'between seizure and release the bank sees the seizure')
  t.match(out, /pre-loan query again: no seizure any more/, 'after the release it does not')
  t.match(out, /case 231202-2026-J000118 — unit 231202 003004 GB00012 F00030502 — participants COURT:11231202MB00123459, REG:231202/)
  t.match(out, /step seizure\s+completed COURT:11231202MB00123459 → REG:231202/)
  t.match(out, /step release\s+completed COURT:11231202MB00123459 → REG:231202/)
  t.notMatch(out, /231202197206113019/, 'the debtor\'s ID number is not printed')
})

t.test('the water and power companies move the buyer\'s accounts with the title; gas was not asked for', async (t) => {
  t.match(out, /\[绥化市供水有限公司\] received the 供水 transfer notice for unit 231202003004GB00012F00010001: account SH-0288801 to the new holder \(mobile 136\*{4}6789; no ID number, no address\)/)
  t.match(out, /\[国网绥化供电公司\] received the 供电 transfer notice for unit 231202003004GB00012F00010001: account 0300288801234/)
  t.match(out, /a gas notice the applicants did not ask for: 403 TB_ERR_ROUTE_FORBIDDEN/)
  t.match(out, /step utility:water\s+completed REG:231202 → UTILITY:91231200MA1W00001Q:water/)
  t.match(out, /step utility:power\s+completed REG:231202 → UTILITY:91231200MA1P00002Y:power/)
  t.match(out, /the applicants opted in to the water and power transfers/)
  t.notMatch(out, new RegExp(BUYER.phone), 'the buyer\'s mobile number is never printed in full')
})

t.test('Suihua: applied in 北林 for a flat in 望奎, examined in 望奎, printed in 北林; the one-hour promise missed is flagged', async (t) => {
  t.match(out, /\[绥化市北林区不动产登记中心\] accepted at its window a transfer of unit 231221101002GB00345F00030101 in 望奎县 \(异地申请\) and forwarded it/)
  t.match(out, /\[望奎县不动产登记中心\] examined it \(属地审核\): accepted into its own case 231221-2026-000052, linked to 231202-2026-000901/)
  t.match(out, /\[绥化市北林区不动产登记中心\] the title 黑\(2026\)望奎县不动产权第0000512号 came back from REG:231221: electronic certificate verified offline, digest matches; printing it here/)
  t.match(out, /case 231202-2026-000901 — unit 231221 101002 GB00345 F00030101 — participants REG:231202, REG:231221 — linked: home case 231221-2026-000052 \(REG:231221\)/)
  t.match(out, /step cross-region\s+completed REG:231202 → REG:231221 after \d+ ms; due [^\n]* OVERDUE/, 'the plain transfer took longer than the (demo\'s) hour')
  t.match(out, /step\.overdue\s+gateway\s+step "cross-region" overdue/)
  t.match(out, /step print\s+completed REG:231221 → REG:231202/)
  t.match(out, /case 231221-2026-000052 — unit 231221 101002 GB00345 F00030101 — participants REG:231221 — linked: forwarded case 231202-2026-000901 \(REG:231202\)/, 'the centre where it was applied reads the home case through the link')
  for (const p of [SUIHUA.seller, SUIHUA.buyer]) t.notMatch(out, new RegExp(p.idNumber), 'no ID number printed')
})

t.test('a developer files a 200-flat building in one batch; the bad filing alone is refused; a retry gets the same receipt', async (t) => {
  t.match(out, /\[绥化市北林区示范房地产开发有限公司\] sent the pre-registrations of 康庄家园 building 3 in one batch: 200 filings, 1 request, 1 JWE of \d+ KiB; batch receipt 202: 199 accepted, 1 refused — #57 TB_ERR_SCHEMA at \/body\/buyers\/0\/idNumber \(format:resident-id\)/)
  t.match(out, /sent the same batch again \(a retry\): 200, the same batch receipt byte for byte: true/)
  t.match(out, /corrected the buyer's ID number of flat #57 and sent it alone: 202/)
  t.match(out, /\[绥化市北林区不动产登记中心\] received the 200 pre-registration filings of 康庄家园 building 3/)
})

t.test('the bank checks its certificate with the issuer: valid, and unknown once the bytes change', async (t) => {
  t.match(out, /verified the electronic certificate offline: signed by its issuer REG:231202 \(key from the published directory\), mortgage certificate 黑\(2026\)绥化市不动产证明第\d{7}号 for unit 231202003004GB00012F00010001, document digest matches/)
  t.match(out, /certificate check \(电子证照查验\) of 黑\(2026\)绥化市不动产证明第\d{7}号 with its issuer REG:231202: valid/)
  t.match(out, /the same number with a document whose bytes changed: unknown/)
})

t.test('a provident fund centre lends like a bank', async (t) => {
  t.match(out, /\[绥化市住房公积金管理中心\] pre-loan query for provident-fund loan GJJ2026112400890: owners as a lender may see them: 吴\*\* 231\*{11}4519/)
  t.match(out, /\[绥化市住房公积金管理中心\] received the electronic certificate of registration 黑\(2026\)绥化市不动产证明第\d{7}号 for case 231202-2026-000890/)
  t.match(out, /heard the transfer of case 231202-2026-000890 entered in the register/)
  t.match(out, /case 231202-2026-000890 — unit 231202 003004 GB00012 F00040801 — participants FUND:12231200MB07654323, REG:231202, TAX:231202/)
  t.match(out, /step mortgage\s+completed FUND:12231200MB07654323 → REG:231202/)
  t.notMatch(out, /231202196811234519/, 'the seller\'s ID number never reached the fund in clear')
})

t.test('the bank saw the seller masked', async (t) => {
  t.match(out, /owners as the bank may see them: 刘\*\* 231\*{11}3012/)
  t.notMatch(out, new RegExp(SELLER.idNumber), 'the seller\'s ID number never reached the bank in clear')
})

t.test('the gateway\'s log carries none of the people\'s data', async (t) => {
  const text = readFileSync(log, 'utf8')
  t.ok(text.includes('message accepted'), 'the log is not empty')
  for (const p of [SELLER, BUYER]) for (const v of [p.name, p.idNumber, p.phone, p.address]) t.notOk(text.includes(v), 'not in the log')
  for (const p of [WANGKUI_SALE.seller, WANGKUI_SALE.buyer]) for (const v of [p.name, p.idNumber, p.phone]) t.notOk(text.includes(v), 'not in the log')
  for (const p of [SUIHUA.seller, SUIHUA.buyer]) for (const v of [p.name, p.idNumber, p.phone]) t.notOk(text.includes(v), 'not in the log')
})

// Issue 8: the ledger after the full demo, and the transfer case's evidence package.
t.test('after the demo, every fact has its ledger entry, kind by kind', async (t) => {
  const db = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${name}` })
  await db.connect()
  t.teardown(() => db.end())
  const n = async (sql: string): Promise<number> => Number((await db.query(sql)).rows[0].n)
  const kinds = Object.fromEntries((await db.query<{ kind: string; n: number }>('SELECT kind, count(*)::int AS n FROM ledger_entries GROUP BY kind')).rows.map((r) => [r.kind, r.n]))
  t.equal(kinds['message.accepted'], await n('SELECT count(*) AS n FROM exchanges'), 'accepted exchanges')
  t.ok((kinds['message.accepted'] ?? 0) > 0)
  t.equal(kinds['delivery.settled'], await n(`SELECT count(*) AS n FROM deliveries WHERE status <> 'pending'`), 'settled deliveries')
  t.equal(kinds['query.recorded'], await n(`SELECT count(*) AS n FROM queries WHERE outcome <> 'pending'`), 'finished queries (refused ones included)')
  // Reads of personal data: the successful GETs of a case, an exchange, the case list, the query record or an evidence package, from the gateway's request log.
  const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { reqId?: string; msg?: string; req?: { method?: string; url?: string }; res?: { statusCode?: number } })
  const ok = new Set(lines.filter((l) => l.msg === 'request completed' && l.res?.statusCode === 200).map((l) => l.reqId))
  const reads = lines.filter((l) => l.msg === 'incoming request' && l.req?.method === 'GET' && ok.has(l.reqId) && /^\/v1\/(cases|exchanges|queries|attachments)(\/|\?|$)/.test(l.req.url ?? ''))
  t.ok(reads.length >= 5, `the demo read ${reads.length} times`)
  t.equal(kinds['case.read'], reads.length, 'one case.read per read answered')
  t.equal(kinds['operator.action'] ?? 0, 0, 'no operator acted in the demo')
  t.equal(kinds['directory.loaded'], 1)
  t.equal(kinds['keys.loaded'], 1)
  t.equal(await n('SELECT count(*) AS n FROM ledger_entries WHERE leaf_index IS NULL'), 0, 'every entry placed in the tree')
})

t.test('the transfer case\'s evidence package verifies offline; flipping any byte fails and names what failed', async (t) => {
  t.match(out, /evidence package of case 231202-2026-000888: \d+ messages .* verified offline/)
  const text = readFileSync(evidence, 'utf8')
  const gatewayKeys = GatewayKeyring.load('certs-example/gateway', 'TONGBAN').publicKeys().signing
  const good = await verifyEvidence(text, { gatewayKeys })
  t.ok(good.ok, JSON.stringify(good.fault))
  t.equal(good.caseId, '231202-2026-000888')
  t.ok(good.exchanges >= 3 && good.entries >= good.exchanges * 2, `${good.exchanges} exchanges, ${good.entries} entries`)
  const [vcmd, vargv] = tongbanCommand(['evidence', 'verify', evidence, '--gateway-key', 'certs-example/gateway/sign-sm2.pub.pem', '--gateway-key', 'certs-example/gateway/sign-es256.pub.pem'])
  const cli = spawnSync(vcmd, vargv, { encoding: 'utf8', timeout: 60_000, env: plainEnv() })
  t.equal(cli.status, 0, cli.stdout + cli.stderr)
  t.match(cli.stdout, /^OK evidence of case 231202-2026-000888/)
  // Bytes flipped one at a time (bit 0; the package is ASCII, so the result is another byte): every
  // byte of the header, the signature and the separators, and a spread of the payload — or, with
  // TONGBAN_TEST_EXHAUSTIVE=1, every byte (about 3 minutes for the demo's package).
  const failed = new Map<string, number>()
  let passed = 0
  const [h, p] = [text.indexOf('.'), text.lastIndexOf('.')]
  const stride = process.env.TONGBAN_TEST_EXHAUSTIVE === '1' ? 1 : Math.ceil(text.length / 1500)
  const positions = [...Array(text.length).keys()].filter((i) => i <= h + 1 || i >= p - 1 || i % stride === 0)
  for (const i of positions) {
    const flipped = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1)
    const r = await verifyEvidence(flipped, { gatewayKeys })
    if (r.ok) passed++
    else failed.set(r.fault?.record.replace(/[0-9a-f-]{36}|\d+/g, '…') ?? '', (failed.get(r.fault?.record ?? '') ?? 0) + 1)
  }
  t.equal(passed, 0, `every one of ${positions.length} flipped bytes (of ${text.length}) fails`)
  t.ok(failed.size >= 4, `named what failed: ${[...failed.keys()].join('; ')}`)
})
