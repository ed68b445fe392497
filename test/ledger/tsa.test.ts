import t from 'tap'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tsaAnchors } from '../../src/crypto/index.ts'
import { verifyEvidence } from '../../src/ledger/evidence.ts'
import { exportLedger } from '../../src/ledger/export.ts'
import { verifyExport } from '../../src/ledger/verify.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { TestTsa } from '../helpers/tsa.ts'
import { World } from '../helpers/world.ts'

// Issue 8, trusted timestamps (可信时间戳): checkpoints stamped by an RFC 3161 TSA that this test
// runs itself with the openssl CLI (its own CA and certificate); the tokens go into the export and
// the evidence package and are checked offline; a TSA outage leaves the ledger working.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const tsa = new TestTsa()
await tsa.start()
t.teardown(() => tsa.stop())
const w = await World.start({
  label: 'ledgertsa',
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
  config: { ledger: { integrateMs: 60_000, checkpointMs: 10_000, tsaUrl: tsa.url, tsaCaFile: tsa.caFile } },
})
t.teardown(() => w.close())
const scratch = mkdtempSync(join(tmpdir(), 'tongban-ledgertsa-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))
const anchors = tsaAnchors(readFileSync(tsa.caFile))
const request = validFixture('tax.assessment.request')

t.test('each checkpoint is stamped; the tokens verify offline, in the export and in the evidence package', async (t) => {
  await w.client(REG).send({ ...request.envelope })
  await w.partner(TAX).server.waitFor(1)
  await w.deliveryStatus()
  const cp = await w.app.tb.ledger.settle()
  t.ok(cp?.tsaToken, 'the latest checkpoint carries a time-stamp token')
  t.ok(tsa.requests >= 1)
  const dir = join(scratch, 'export')
  await exportLedger(w.db, w.app.tb.ledger, dir, new Date())
  const tokens = readdirSync(join(dir, 'checkpoints')).filter((f) => f.endsWith('.tsr'))
  t.ok(tokens.length >= 1, `${tokens.length} tokens exported`)
  const r = await verifyExport(dir, { vkeys: w.app.tb.ledger.vkeys(), tsaAnchors: anchors })
  t.ok(r.ok, JSON.stringify(r.fault))
  t.equal(r.timestamps, tokens.length)
  // An independent check of the same token: OpenSSL's own RFC 3161 verifier.
  const size = (tokens[0] as string).replace('.tsr', '')
  const out = execFileSync('openssl', ['ts', '-verify', '-in', join(dir, 'checkpoints', `${size}.tsr`), '-token_in', '-data', join(dir, 'checkpoints', `${size}.note`), '-CAfile', tsa.caFile], { encoding: 'utf8' })
  t.match(out, /Verification: OK/, 'openssl ts -verify agrees')

  const pkg = await w.client(REG).http('GET', `/v1/cases/${request.envelope.caseId as string}/evidence`)
  t.equal(pkg.status, 200)
  t.match(pkg.headers['content-type'], /application\/jose/)
  const notFound = await w.client(TAX).http('GET', '/v1/cases/231202-2026-999999/evidence')
  t.same([notFound.status, (notFound.json as { code?: string }).code], [404, 'TB_ERR_NOT_FOUND'], 'no exchange of the caller in the case: 404')
  const badId = await w.client(REG).http('GET', '/v1/cases/not-a-case/evidence')
  t.same([badId.status, (badId.json as { code?: string }).code], [400, 'TB_ERR_BAD_REQUEST'], 'a malformed case id: 400')
  const ev = await verifyEvidence(pkg.text, { gatewayKeys: w.gatewaySigningKeys(), tsaAnchors: anchors })
  t.ok(ev.ok, JSON.stringify(ev.fault))
  t.ok(ev.timestamp, `stamped at ${String(ev.timestamp)}`)
  const other = new TestTsa()
  t.teardown(() => other.stop())
  const foreign = await verifyEvidence(pkg.text, { gatewayKeys: w.gatewaySigningKeys(), tsaAnchors: tsaAnchors(readFileSync(other.caFile)) })
  t.same(foreign.fault?.record, 'checkpoint time stamp')
  t.match(foreign.fault?.message, /not issued by a trusted TSA CA/)

  // A changed token, and a token moved to another checkpoint, are named.
  const bad = join(scratch, 'bad-token')
  await exportLedger(w.db, w.app.tb.ledger, bad, new Date())
  const f = join(bad, 'checkpoints', `${size}.tsr`)
  const token = readFileSync(f)
  token[token.length - 5] = (token[token.length - 5] as number) ^ 1
  writeFileSync(f, token)
  const changed = await verifyExport(bad, { vkeys: w.app.tb.ledger.vkeys(), tsaAnchors: anchors })
  t.equal(changed.fault?.record, `checkpoint ${size} time stamp`, changed.fault?.message ?? "")
  if (tokens.length >= 2) {
    const moved = join(scratch, 'moved-token')
    await exportLedger(w.db, w.app.tb.ledger, moved, new Date())
    copyFileSync(join(moved, 'checkpoints', tokens[0] as string), join(moved, 'checkpoints', tokens[1] as string))
    const m = await verifyExport(moved, { vkeys: w.app.tb.ledger.vkeys(), tsaAnchors: anchors })
    t.match(m.fault?.message ?? "", /stamps other bytes/)
  }
})

t.test('a TSA outage: the checkpoint is signed without a stamp, and the ledger goes on', async (t) => {
  tsa.down = true
  await w.client(REG).send({ ...validFixture('tax.payment.completed').envelope, caseId: request.envelope.caseId })
    .catch(() => undefined)
  await w.app.tb.ledger.write('case.read', { reader: REG, what: 'cases', count: 0 })
  const cp = await w.app.tb.ledger.settle()
  t.equal(cp?.tsaToken, null, 'signed, not stamped')
  t.match(w.logText(), /did not stamp the checkpoint/)
  tsa.down = false
  const dir = join(scratch, 'after-outage')
  await exportLedger(w.db, w.app.tb.ledger, dir, new Date())
  const r = await verifyExport(dir, { vkeys: w.app.tb.ledger.vkeys(), tsaAnchors: anchors })
  t.ok(r.ok, JSON.stringify(r.fault))
})
