import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BUYER, SELLER } from '../../src/demo/scenes/day.ts'
import { WANGKUI_SALE } from '../../src/demo/scenes/wangkui.ts'
import { dropRedisPrefix, dropSchema, isolationName } from '../helpers/services.ts'
import { tongbanCommand } from '../helpers/subprocess.ts'

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

const [cmd, argv] = tongbanCommand(['demo', '--schema', name, '--prefix', name, '--log', log])
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

t.test('the bank saw the seller masked', async (t) => {
  t.match(out, /owners as the bank may see them: 刘\*\* 231\*{11}3012/)
  t.notMatch(out, new RegExp(SELLER.idNumber), 'the seller\'s ID number never reached the bank in clear')
})

t.test('the gateway\'s log carries none of the people\'s data', async (t) => {
  const text = readFileSync(log, 'utf8')
  t.ok(text.includes('message accepted'), 'the log is not empty')
  for (const p of [SELLER, BUYER]) for (const v of [p.name, p.idNumber, p.phone, p.address]) t.notOk(text.includes(v), 'not in the log')
  for (const p of [WANGKUI_SALE.seller, WANGKUI_SALE.buyer]) for (const v of [p.name, p.idNumber, p.phone]) t.notOk(text.includes(v), 'not in the log')
})
