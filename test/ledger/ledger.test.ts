import t from 'tap'
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrivateKey } from '../../src/crypto/index.ts'
import { exportLedger } from '../../src/ledger/export.ts'
import { checkpointText, parseCheckpointText, parseNote, parseTlogProof, signNote, verifyNote, parseVkey } from '../../src/ledger/note.ts'
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/ledger/tree.ts'
import { verifyExport } from '../../src/ledger/verify.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { plainEnv, tongbanCommand } from '../helpers/subprocess.ts'
import { personalData, World } from '../helpers/world.ts'

// Issue 8: the evidence ledger. Every fact of a real run (messages, deliveries, reads, operator
// actions, loads) has its entry; the tree, the signed checkpoints and the proofs hold; an export
// verifies offline, and every kind of tampering — on the tables or on the export — is named.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const OTHER = 'REG:231221'
const w = await World.start({
  label: 'ledger',
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    { id: OTHER, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
  ],
  config: { ledger: { integrateMs: 100, checkpointMs: 200 } },
})
t.teardown(() => w.close())
const scratch = mkdtempSync(join(tmpdir(), 'tongban-ledger-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

const request = validFixture('tax.assessment.request')
const paid = validFixture('tax.payment.completed')
const caseId = request.envelope.caseId as string
type Json = Record<string, unknown>
const get = async (who: string, path: string): Promise<{ status: number; json: Json }> => {
  const c = who === 'operator' ? w.operatorClient() : w.client(who)
  const r = await c.http('GET', path)
  return { status: r.status, json: r.json as Json }
}
const count = async (sql: string): Promise<number> => Number((await w.db.query(sql)).rows[0].n)
const kinds = async (): Promise<Record<string, number>> =>
  Object.fromEntries((await w.db.query<{ kind: string; n: number }>('SELECT kind, count(*)::int AS n FROM ledger_entries GROUP BY kind')).rows.map((r) => [r.kind, r.n]))

let receiptEntry = ''
let firstCheckpoint: Json = {}

t.test('a transfer loop: every fact is in the ledger, written with it', async (t) => {
  const sent = await w.client(REG).send({ ...request.envelope })
  t.equal(sent.status, 202)
  t.match(sent.receipt.ledgerEntry, /^[0-9a-f-]{36}$/, 'the receipt names its ledger entry')
  receiptEntry = sent.receipt.ledgerEntry as string
  await w.partner(TAX).server.waitFor(1)
  firstCheckpoint = (await settled()).json
  t.equal((await w.client(TAX).send({ ...paid.envelope })).status, 202)
  await w.partner(REG).server.waitFor(1)
  await w.deliveryStatus()
  t.equal((await w.client(REG).getCase(caseId)).status, 200)
  t.equal((await w.client(TAX).getExchange(sent.exchangeId)).status, 200)
  t.equal((await w.client(OTHER).getCase(caseId)).status, 404, 'a refused read reads nothing and records nothing')
  t.equal((await get(REG, '/v1/cases')).status, 200)
  t.equal((await get(REG, '/v1/queries')).status, 200)
  t.equal((await get('operator', '/v1/admin/deliveries?status=dead')).status, 200)
  t.equal((await w.operatorClient().http('POST', '/v1/admin/directory/reload')).status, 200)

  const k = await kinds()
  t.equal(k['message.accepted'], await count('SELECT count(*) AS n FROM exchanges'), 'one message.accepted per accepted exchange')
  t.equal(k['delivery.settled'], await count(`SELECT count(*) AS n FROM deliveries WHERE status <> 'pending'`), 'one delivery.settled per settled delivery')
  t.equal(k['case.read'], 4, 'the case, the exchange, the case list and the query record were read')
  t.equal(k['operator.action'], 2, 'the admin read and the reload')
  t.equal(k['directory.loaded'], 2, 'the directory at start and at the reload')
  t.equal(k['keys.loaded'], 1, 'the gateway\'s keys at start')
  const read = (await w.db.query<{ entry: string }>(`SELECT entry FROM ledger_entries WHERE kind = 'case.read' ORDER BY seq`)).rows.map((r) => JSON.parse(r.entry) as Json)
  t.same(read.map((e) => [e.reader, e.what, e.ref]), [[REG, 'case', caseId], [TAX, 'exchange', sent.exchangeId], [REG, 'cases', undefined], [REG, 'queries', undefined]])
})

/** Integrates and signs (the background integrator would within checkpointMs), then the latest checkpoint. */
async function settled(): Promise<{ status: number; json: Json }> {
  await w.app.tb.ledger.settle()
  return get(REG, '/v1/ledger/checkpoint')
}

t.test('the receipt\'s entry: its sender and recipient read it whole, others see only its leaf hash', async (t) => {
  const mine = await get(REG, `/v1/ledger/entries/${receiptEntry}`)
  t.equal(mine.status, 200)
  const entry = JSON.parse(mine.json.entry as string) as Json
  t.equal(entry.kind, 'message.accepted')
  t.equal(entry.sender, REG)
  t.same(entry.recipients, [TAX])
  t.match(entry.requestDigest, /^SHA-256:[0-9a-f]{64}$/)
  t.equal((await get(TAX, `/v1/ledger/entries/${receiptEntry}`)).status, 200, 'the recipient is named too')
  t.equal((await get(OTHER, `/v1/ledger/entries/${receiptEntry}`)).status, 404, 'by id, not there for others')
  const byIndex = await get(OTHER, `/v1/ledger/entries/${String(mine.json.leafIndex)}`)
  t.same(Object.keys(byIndex.json).sort(), ['leafHash', 'leafIndex'], 'by index, others get the leaf hash only')
  t.equal(byIndex.json.leafHash, mine.json.leafHash)
  t.equal(byIndex.json.leafHash, leafHash('SM3', Buffer.from(mine.json.entry as string, 'utf8')).toString('base64'), 'leaf = SM3(0x00 ‖ entry)')
  t.equal((await get('operator', `/v1/ledger/entries/${receiptEntry}`)).status, 200, 'operators read every entry')
  for (const bad of ['x', '01', '-1', '1e3']) t.equal((await get(REG, `/v1/ledger/entries/${bad}`)).status, 400, `ref ${bad}: 400`)
  t.equal((await get(REG, '/v1/ledger/entries/999999')).status, 404)
})

t.test('checkpoints are signed notes in both suites; inclusion and consistency proofs verify', async (t) => {
  const cp = (await settled()).json
  const vkeys = (cp.vkeys as string[]).map(parseVkey)
  t.same(vkeys.map((v) => v.type).sort(), ['ecdsa', 'sm2'], 'signed with SM2 and ES256')
  const { text, verifiedBy } = await verifyNote(cp.note as string, vkeys)
  t.equal(verifiedBy.length, 2)
  const body = parseCheckpointText(text)
  t.equal(body.origin, 'tongban.tongban/ledger')
  t.equal(body.treeSize, cp.treeSize)
  t.equal(body.rootHash.toString('base64'), cp.rootHash)

  const mine = (await get(REG, `/v1/ledger/entries/${receiptEntry}`)).json
  const proof = (await get(REG, `/v1/ledger/proof/inclusion?index=${String(mine.leafIndex)}`)).json
  t.equal(proof.treeSize, cp.treeSize, 'to the latest checkpoint by default')
  const hashes = (proof.hashes as string[]).map((h) => Buffer.from(h, 'base64'))
  t.ok(verifyInclusion('SM3', mine.leafIndex as number, cp.treeSize as number, Buffer.from(mine.leafHash as string, 'base64'), hashes, body.rootHash), 'the receipt\'s entry is in the signed tree')
  const tlog = parseTlogProof(proof.tlogProof as string)
  t.equal(tlog.index, mine.leafIndex)
  t.equal(tlog.checkpoint, cp.note, 'the tlog-proof carries the checkpoint verbatim')

  const from = firstCheckpoint.treeSize as number
  const cons = (await get(REG, `/v1/ledger/proof/consistency?from=${from}&to=${String(cp.treeSize)}`)).json
  t.ok(verifyConsistency('SM3', from, cp.treeSize as number, Buffer.from(firstCheckpoint.rootHash as string, 'base64'), body.rootHash, (cons.hashes as string[]).map((h) => Buffer.from(h, 'base64'))), 'the later checkpoint extends the earlier one')
  t.equal((await get(REG, `/v1/ledger/checkpoint?treeSize=${from}`)).json.note, firstCheckpoint.note, 'an earlier checkpoint by its size')

  t.equal((await get(REG, '/v1/ledger/checkpoint?treeSize=123456')).status, 404)
  t.equal((await get(REG, '/v1/ledger/checkpoint?treeSize=abc')).status, 400)
  t.equal((await get(REG, '/v1/ledger/proof/inclusion')).status, 400, 'index is required')
  t.equal((await get(REG, `/v1/ledger/proof/inclusion?index=${String(cp.treeSize)}`)).status, 404, 'a leaf beyond the checkpoint')
  t.equal((await get(REG, `/v1/ledger/proof/inclusion?index=0&treeSize=${String((cp.treeSize as number) + 1000)}`)).status, 404, 'a tree size beyond the tree')
  t.equal((await get(REG, '/v1/ledger/proof/consistency?from=3&to=2')).status, 400)
  t.equal((await get(REG, '/v1/ledger/proof/consistency?from=1')).status, 400)
  t.equal((await w.client(REG).http('GET', '/v1/ledger/checkpoint', undefined, { auth: false })).status, 401, 'a token is needed')
})

/**
 * `tongban ledger …` as a subprocess on this world's database and keys. Asynchronous: this
 * process runs the world's gateway, whose ledger integrator must go on while the command waits
 * for the tree's lock (a synchronous spawn froze it holding that lock: the export then waited
 * out its timeout).
 */
async function cli(args: string[]): Promise<{ status: number; out: string }> {
  const [cmd, argv] = tongbanCommand(['ledger', ...args])
  return new Promise((resolve) => {
    execFile(cmd, argv, {
      timeout: 60_000, encoding: 'utf8',
      env: plainEnv({ TONGBAN_DATABASE_URL: w.config.databaseUrl, TONGBAN_DB_SCHEMA: w.schema, TONGBAN_KEYS_DIR: w.config.keysDir, TONGBAN_DIRECTORY: w.config.directoryFile }),
    }, (err, stdout, stderr) => resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, out: `${stdout}${stderr}` }))
  })
}

let exported = ''
let vkeyArgs: string[] = []

t.test('tongban ledger export, then verify: the untouched export passes', async (t) => {
  exported = join(scratch, 'export')
  const ex = await cli(['export', '--out', exported])
  t.equal(ex.status, 0, ex.out)
  vkeyArgs = w.app.tb.ledger.vkeys().flatMap((v) => ['--vkey', v])
  const v = await cli(['verify', exported, ...vkeyArgs])
  t.equal(v.status, 0, v.out)
  t.match(v.out, /^OK .*entries, \d+ checkpoints, root /m)
  const r = await verifyExport(exported, { vkeys: w.app.tb.ledger.vkeys() })
  t.ok(r.ok, JSON.stringify(r.fault))
  t.equal(r.kinds['message.accepted'], 2)
  t.same(r.notices, [])
  const own = await verifyExport(exported)
  t.ok(own.ok && own.notices.length === 1, 'without trusted keys: checked with the export\'s own, and said so')
  const text = readdirSync(exported, { recursive: true }).map((f) => { try { return readFileSync(join(exported, String(f)), 'utf8') } catch { return '' } }).join('\n')
  t.same(personalData().filter((s) => text.includes(s)), [], 'no personal data in the export')
  await w.checkLogs(t)
})

/** A copy of the export, changed by `edit`, verified with the gateway's keys. */
async function tampered(name: string, edit: (dir: string) => void | Promise<void>): Promise<{ record: string; message: string }> {
  const dir = join(scratch, name)
  cpSync(exported, dir, { recursive: true })
  await edit(dir)
  const r = await verifyExport(dir, { vkeys: w.app.tb.ledger.vkeys() })
  return r.fault ?? { record: 'none', message: 'verified' }
}
const lines = (dir: string, f: string): string[] => readFileSync(join(dir, f), 'utf8').split('\n').slice(0, -1)
const writeLines = (dir: string, f: string, l: string[]): void => writeFileSync(join(dir, f), l.map((x) => `${x}\n`).join(''))

t.test('tampering with the export is found and the first bad record named', async (t) => {
  const target = lines(exported, 'entries.jsonl').findIndex((l) => l.includes('"message.accepted"'))
  const edited = await tampered('edit', (d) => {
    const l = lines(d, 'entries.jsonl')
    l[target] = (l[target] as string).replace(/"type":"[^"]+"/, '"type":"tax.assessment.rejected"')
    writeLines(d, 'entries.jsonl', l)
  })
  t.same(edited.record, `entry ${target}`, `edit one field: ${edited.message}`)
  const rehashed = await tampered('edit-rehash', (d) => {
    const l = lines(d, 'entries.jsonl')
    l[target] = (l[target] as string).replace(/"type":"[^"]+"/, '"type":"tax.assessment.rejected"')
    writeLines(d, 'entries.jsonl', l)
    const h = lines(d, 'leaves.txt')
    h[target] = leafHash('SM3', Buffer.from(l[target] as string, 'utf8')).toString('base64')
    writeLines(d, 'leaves.txt', h)
  })
  t.match(rehashed.record, /^checkpoint \d+$/, `edit and re-hash its leaf: the checkpoint over it fails (${rehashed.message})`)
  const deleted = await tampered('delete', (d) => { const l = lines(d, 'entries.jsonl'); l.splice(3, 1); writeLines(d, 'entries.jsonl', l) })
  t.equal(deleted.record, 'entry 3', `delete an entry: ${deleted.message}`)
  const swapped = await tampered('swap', (d) => { const l = lines(d, 'entries.jsonl'); [l[2], l[5]] = [l[5] as string, l[2] as string]; writeLines(d, 'entries.jsonl', l) })
  t.equal(swapped.record, 'entry 2', `swap two: ${swapped.message}`)
  const cps = readdirSync(join(exported, 'checkpoints')).filter((f) => f.endsWith('.note')).map((f) => Number(f.slice(0, -5))).sort((a, b) => a - b)
  const last = cps.at(-1) as number
  const altered = await tampered('alter-cp', (d) => {
    const f = join(d, 'checkpoints', `${last}.note`)
    const note = readFileSync(f, 'utf8')
    const root = note.split('\n')[2] as string
    writeFileSync(f, note.replace(root, Buffer.alloc(32, 7).toString('base64')))
  })
  t.same(altered, { record: `checkpoint ${last}`, message: altered.message }, `alter a checkpoint: ${altered.message}`)
  t.match(altered.message, /does not verify/)
  const forged = await tampered('forge-cp', async (d) => {
    const f = join(d, 'checkpoints', `${last}.note`)
    const body = parseCheckpointText(parseNote(readFileSync(f, 'utf8')).text)
    const other = PrivateKey.generate('forger', 'sm2').privateKey
    writeFileSync(f, await signNote(checkpointText({ ...body, rootHash: Buffer.alloc(32, 9) }), body.origin, [other]))
  })
  t.same(forged.record, `checkpoint ${last}`)
  t.match(forged.message, /no signature by a trusted key/, 're-signed with another key')
  const early = await tampered('forged-keys', async (d) => {
    // The attacker replaces the export's own keys too: the trusted keys given still decide.
    const other = PrivateKey.generate('forger', 'sm2').privateKey
    const f = join(d, 'checkpoints', `${last}.note`)
    const body = parseCheckpointText(parseNote(readFileSync(f, 'utf8')).text)
    writeFileSync(f, await signNote(checkpointText(body), body.origin, [other]))
  })
  t.equal(early.record, `checkpoint ${last}`)
  const dropped = await tampered('truncate', (d) => { const l = lines(d, 'entries.jsonl'); writeLines(d, 'entries.jsonl', l.slice(0, -1)) })
  t.match(dropped.record, /^entry \d+$/, `truncated: ${dropped.message}`)
  t.match(dropped.message, /missing/)
})

t.test('tampering with the tables, then exporting: found and named', async (t) => {
  const exportAfter = async (name: string, sql: string[]): Promise<{ record: string; message: string }> => {
    const c = await w.db.connect()
    try {
      // The tables refuse changes to written entries (trigger); an attacker with superuser rights turns that off.
      await c.query('BEGIN')
      await c.query(`SET LOCAL session_replication_role = replica`)
      for (const s of sql) await c.query(s)
      await c.query('COMMIT')
    } finally {
      c.release()
    }
    const dir = join(scratch, name)
    await exportLedger(w.db, w.app.tb.ledger, dir, new Date())
    const r = await verifyExport(dir, { vkeys: w.app.tb.ledger.vkeys() })
    return r.fault ?? { record: 'none', message: 'verified' }
  }
  await t.rejects(w.db.query(`UPDATE ledger_entries SET entry = entry || ' ' WHERE leaf_index = 1`), /written once/, 'the trigger refuses a change')
  await t.rejects(w.db.query(`DELETE FROM ledger_entries WHERE leaf_index = 1`), /never deleted/, 'and a deletion')
  const edited = await exportAfter('sql-edit', [`UPDATE ledger_entries SET entry = replace(entry, '"at":"', '"at":"1') WHERE leaf_index = 4`])
  t.same(edited.record, 'entry 4', `edit one field in the table: ${edited.message}`)
  await exportAfter('sql-edit-back', [`UPDATE ledger_entries SET entry = replace(entry, '"at":"1', '"at":"') WHERE leaf_index = 4`])

  // Truncate at 6 and re-grow with other entries: the integrator rebuilds a tree that the old signed checkpoints contradict.
  const cps = (await w.db.query<{ n: number }>('SELECT tree_size::int AS n FROM ledger_checkpoints ORDER BY tree_size')).rows.map((r) => r.n)
  const regrown = await exportAfter('sql-regrow', [
    `DELETE FROM ledger_entries WHERE leaf_index >= 6`,
    `DELETE FROM ledger_nodes WHERE (idx + 1) * (1::bigint << level) > 6`,
    `UPDATE ledger_state SET tree_size = 6`,
  ])
  t.not(regrown.record, 'none', 'truncated: found even before re-growing')
  await w.app.tb.ledger.write('case.read', { reader: 'REG:231202', what: 'cases', count: 0 })
  for (let i = 0; i < 30; i++) await w.app.tb.ledger.write('case.read', { reader: 'REG:231202', what: 'cases', count: i })
  while ((await w.app.tb.ledger.integrate()) > 0) { /* re-grow */ }
  const dir = join(scratch, 'sql-regrown')
  await exportLedger(w.db, w.app.tb.ledger, dir, new Date())
  const r = await verifyExport(dir, { vkeys: w.app.tb.ledger.vkeys() })
  t.notOk(r.ok)
  const firstAfter = cps.find((n) => n > 6)
  t.equal(r.fault?.record, `checkpoint ${String(firstAfter)}`, `re-grown with other entries: ${r.fault?.message ?? ''}`)
})

t.test('a read that cannot be recorded is not answered; an acceptance whose entry fails is not stored', async (t) => {
  await w.db.query(`CREATE FUNCTION refuse_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger refused (test)'; END $$`)
  await w.db.query(`CREATE TRIGGER refuse_ledger BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION refuse_ledger()`)
  try {
    const before = await w.counts()
    const r = await w.client(REG).getCase(caseId)
    t.equal(r.status, 503, 'the case is not shown')
    t.equal((r.json as { code?: string }).code, 'TB_ERR_UNAVAILABLE')
    t.notOk(r.text.includes('timeline'), 'nothing of the case in the answer')
    t.equal((await get(REG, '/v1/queries')).status, 503)
    const sent = await w.client(REG).send({ ...request.envelope, caseId: '231202-2026-000777' }).then(() => 'accepted', (err: { status?: number }) => err.status)
    t.not(sent, 'accepted', `the acceptance is refused (${String(sent)})`)
    t.same(await w.counts(), before, 'and nothing of it stored')
  } finally {
    await w.db.query('DROP TRIGGER refuse_ledger ON ledger_entries')
    await w.db.query('DROP FUNCTION refuse_ledger()')
  }
  t.equal((await w.client(REG).getCase(caseId)).status, 200, 'answered again once the ledger records')
})
