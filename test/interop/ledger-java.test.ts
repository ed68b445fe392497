// Interop of the evidence ledger: docs/ledger.md is enough to write an independent verifier.
// test/interop/java/LedgerVerify.java was written from that document alone (Bouncy Castle's SM3 and
// SM2, the JDK's SHA-256 and ECDSA): it must accept a real export — same root as our verifyExport —
// and, for tampered copies, fail naming the same first bad record as verifyExport does.
// One World per tree hash (SM3, the default, and SHA-256). A missing Java or bcprov.jar makes this
// test FAIL, not skip, as in test/crypto/interop-bc.test.ts: interop is a requirement.
import t from 'tap'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exportLedger } from '../../src/ledger/export.ts'
import { verifyExport } from '../../src/ledger/verify.ts'
import { BCPROV_JAR, javaProblem, run } from '../crypto/helpers/tools.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

/** The type of a subtest's `t` (tap's last `test` overload takes just the callback). */
type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const PROGRAM = fileURLToPath(new URL('./java/LedgerVerify.java', import.meta.url))
const REG = 'REG:231202'
const TAX = 'TAX:231202'

interface Verdict {
  status: number
  line: string
  record: string
  stderr: string
}

const problem = javaProblem()
if (problem) {
  t.fail(`the Java ledger verifier cannot run: ${problem}`)
} else {
  const scratch = mkdtempSync(join(tmpdir(), 'tongban-ledger-java-'))
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

  // The program is run once as a single-file source program (as documented), then, to keep the
  // many tampered runs fast, from classes compiled once (javac, when the JDK has it).
  let classes: string | undefined
  const javac = (() => { try { return run('javac', ['-version']).status === 0 } catch { return false } })()
  if (javac) {
    const out = join(scratch, 'classes')
    const c = run('javac', ['-cp', BCPROV_JAR, '-d', out, PROGRAM], { timeout: 120_000 })
    if (c.status === 0) classes = out
    else t.fail(`javac LedgerVerify.java failed: ${c.stderr}`)
  }

  const java = (dir: string, vkeysFile: string, source = false): Verdict => {
    const args = source || classes === undefined
      ? ['-cp', BCPROV_JAR, PROGRAM, dir, vkeysFile]
      : ['-cp', `${BCPROV_JAR}:${classes}`, 'LedgerVerify', dir, vkeysFile]
    const r = run('java', args, { timeout: 120_000 })
    const line = r.stdout.toString().trim()
    const m = /^FAIL (.+?): /.exec(line)
    return { status: r.status, line, record: m ? (m[1] as string) : 'none', stderr: r.stderr }
  }

  const lines = (dir: string, f: string): string[] => readFileSync(join(dir, f), 'utf8').split('\n').slice(0, -1)
  const writeLines = (dir: string, f: string, l: string[]): void => writeFileSync(join(dir, f), l.map((x) => `${x}\n`).join(''))

  const scenario = (label: string, hash: 'SM3' | 'SHA-256') => async (t: Test): Promise<void> => {
    const w = await World.start({
      label,
      partners: [
        { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
        { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
      ],
      // Only this test's settle() calls integrate and sign.
      config: { ledger: { hash, integrateMs: 60_000, checkpointMs: 10_000 } },
    })
    t.teardown(() => w.close())
    const ledger = w.app.tb.ledger
    const total = async (): Promise<number> => Number((await w.db.query('SELECT count(*)::int AS n FROM ledger_entries')).rows[0].n)
    const reads = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await ledger.write('case.read', { reader: REG, what: 'cases', count: i })
    }

    // A ledger of several batches, each under its own checkpoint; the second one of size 8 (a power
    // of 2: the consistency proof from it takes the other branch of RFC 9162 §2.1.4.2).
    await ledger.settle()
    const request = validFixture('tax.assessment.request').envelope
    const paid = validFixture('tax.payment.completed').envelope
    t.equal((await w.client(REG).send({ ...request })).status, 202, 'a message REG → TAX')
    await w.partner(TAX).server.waitFor(1)
    await w.deliveryStatus()
    await reads(Math.max(0, 8 - (await total())))
    await ledger.settle()
    await reads(5)
    await ledger.settle()
    t.equal((await w.client(TAX).send({ ...paid })).status, 202, 'a message TAX → REG')
    await w.partner(REG).server.waitFor(1)
    await w.deliveryStatus()
    await reads(4)
    await ledger.settle()
    await reads(7)
    await ledger.settle()

    const exported = join(scratch, `${label}-export`)
    const made = await exportLedger(w.db, ledger, exported, new Date())
    t.ok(made.treeSize >= 20, `${made.treeSize} entries`)
    t.ok(made.checkpoints >= 3, `${made.checkpoints} checkpoints`)
    const vkeysFile = join(scratch, `${label}-vkeys.txt`)
    writeFileSync(vkeysFile, ledger.vkeys().map((v) => `${v}\n`).join(''))

    const ours = await verifyExport(exported, { vkeys: ledger.vkeys() })
    t.ok(ours.ok, `verifyExport accepts the export: ${JSON.stringify(ours.fault)}`)
    const theirs = java(exported, vkeysFile, true)
    t.equal(theirs.status, 0, `LedgerVerify accepts the export: ${theirs.line} ${theirs.stderr}`)
    t.equal(theirs.line, `OK ${ours.treeSize} entries ${ours.checkpoints} checkpoints ${ours.rootHash ?? ''}`, 'the same entries, checkpoints and root')
    t.match(theirs.line, new RegExp(`^OK ${made.treeSize} entries ${made.checkpoints} checkpoints [A-Za-z0-9+/]{43}=$`))
    // Each signature type alone: the notes verify with either key (both are signed, SM2 first).
    const vkeys = ledger.vkeys()
    t.equal(vkeys.length, 2, 'an SM2 and an ES256 vkey')
    for (const [i, v] of vkeys.entries()) {
      const one = join(scratch, `${label}-vkey-${i}.txt`)
      writeFileSync(one, `${v}\n`)
      const kind = Buffer.from(v.split('+')[2] as string, 'base64')[0] === 0x02 ? 'ES256' : 'SM2'
      t.ok((await verifyExport(exported, { vkeys: [v] })).ok, `verifyExport with the ${kind} key alone`)
      t.equal(java(exported, one).line, theirs.line, `LedgerVerify with the ${kind} key alone`)
    }
    const own = java(exported, join(scratch, 'no-such-vkeys'))
    t.equal(own.status, 1, 'an unreadable vkeys file: exit 1')
    t.equal(own.line, '', 'and nothing on stdout')

    const cps = readdirSync(join(exported, 'checkpoints')).filter((f) => f.endsWith('.note')).map((f) => Number(f.slice(0, -5))).sort((a, b) => a - b)
    const entries = lines(exported, 'entries.jsonl')
    const leafOf = (kind: string): number => entries.findIndex((l) => l.includes(`"kind":"${kind}"`))
    const middle = cps.find((n) => n >= 8) as number
    const last = cps.at(-1) as number

    /** A copy of the export changed by `edit`: both verifiers must fail, naming the same record. */
    const tamper = async (name: string, edit: (dir: string) => void, expected?: RegExp | string): Promise<void> => {
      const dir = join(scratch, `${label}-${name}`)
      cpSync(exported, dir, { recursive: true })
      edit(dir)
      const r = await verifyExport(dir, { vkeys: ledger.vkeys() })
      const ts = r.fault ?? { record: 'none', message: 'verified' }
      const jv = java(dir, vkeysFile)
      t.not(ts.record, 'none', `${name}: verifyExport fails (${ts.record}: ${ts.message})`)
      t.equal(jv.status, 1, `${name}: LedgerVerify exits 1 (${jv.line})`)
      t.equal(jv.record, ts.record, `${name}: both name ${ts.record}`)
      if (typeof expected === 'string') t.equal(ts.record, expected, `${name}: ${expected}`)
      else if (expected) t.match(ts.record, expected, `${name}: ${String(expected)}`)
    }
    const editLine = (i: number, f: (l: string) => string) => (d: string): void => {
      const l = lines(d, 'entries.jsonl')
      const before = l[i] as string
      l[i] = f(before)
      if (l[i] === before) throw new Error(`line ${i} unchanged`)
      writeLines(d, 'entries.jsonl', l)
    }

    const accepted = leafOf('message.accepted')
    const read = entries.findIndex((l, i) => i > middle && l.includes('"kind":"case.read"'))
    await tamper('edit-field', editLine(accepted, (l) => l.replace(/"type":"[^"]+"/, '"type":"tax.assessment.rejected"')), `entry ${accepted}`)
    await tamper('edit-count', editLine(read, (l) => l.replace(/"count":(\d+)/, (_, n: string) => `"count":${Number(n) + 1}`)), `entry ${read}`)
    await tamper('delete-line', (d) => { const l = lines(d, 'entries.jsonl'); l.splice(3, 1); writeLines(d, 'entries.jsonl', l) }, 'entry 3')
    await tamper('swap-lines', (d) => { const l = lines(d, 'entries.jsonl'); [l[2], l[5]] = [l[5] as string, l[2] as string]; writeLines(d, 'entries.jsonl', l) }, 'entry 2')
    await tamper('edit-without-leaves', (d) => {
      editLine(read, (l) => l.replace(/"count":(\d+)/, (_, n: string) => `"count":${Number(n) + 1}`))(d)
      rmSync(join(d, 'leaves.txt'))
    }, `checkpoint ${String(cps.find((n) => n > read))}`)
    await tamper('alter-root', (d) => {
      const f = join(d, 'checkpoints', `${middle}.note`)
      const note = readFileSync(f, 'utf8')
      writeFileSync(f, note.replace(note.split('\n')[2] as string, Buffer.alloc(32, 7).toString('base64')))
    }, `checkpoint ${middle}`)
    await tamper('alter-size', (d) => {
      const f = join(d, 'checkpoints', `${last}.note`)
      const note = readFileSync(f, 'utf8').split('\n')
      note[1] = String(last + 1)
      writeFileSync(f, note.join('\n'))
    }, `checkpoint ${last}`)
    await tamper('drop-signature', (d) => {
      // The SM2 line removed (the ES256 line alone would still verify), then the text changed.
      const f = join(d, 'checkpoints', `${middle}.note`)
      const note = readFileSync(f, 'utf8').split('\n')
      note[3] = (note[3] as string).replace(/^timestamp (\d{4})/, (_, y: string) => `timestamp ${Number(y) + 1}`)
      writeFileSync(f, [...note.slice(0, 5), note[6], ''].join('\n'))
    }, `checkpoint ${middle}`)
    await tamper('consistency', (d) => {
      const file = readdirSync(join(d, 'consistency'))[0] as string
      const l = lines(join(d, 'consistency'), file)
      l[0] = Buffer.alloc(32, 3).toString('base64')
      writeLines(join(d, 'consistency'), file, l)
    }, /^checkpoint \d+$/)
    await tamper('truncate', (d) => { const l = lines(d, 'entries.jsonl'); writeLines(d, 'entries.jsonl', l.slice(0, -1)) })
    await tamper('extra-line', (d) => { const l = lines(d, 'entries.jsonl'); writeLines(d, 'entries.jsonl', [...l, l[0] as string]) }, `entry ${last}`)
    await tamper('leaf-hash', (d) => { const l = lines(d, 'leaves.txt'); l[4] = Buffer.alloc(32, 5).toString('base64'); writeLines(d, 'leaves.txt', l) }, 'entry 4')
    await tamper('no-consistency', (d) => rmSync(join(d, 'consistency', `${middle}-${String(cps[cps.indexOf(middle) + 1])}.txt`)),
      `checkpoint ${String(cps[cps.indexOf(middle) + 1])}`)
    await tamper('tree-size', (d) => {
      const f = join(d, 'ledger.json')
      const j = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>
      writeFileSync(f, JSON.stringify({ ...j, treeSize: (j.treeSize as number) - 1 }, null, 2))
    })
    await tamper('other-keys', (d) => {
      // Every signature's key ID changed: no line is by a trusted key (unknown ones are ignored).
      for (const f of readdirSync(join(d, 'checkpoints'))) {
        const p = join(d, 'checkpoints', f)
        const note = readFileSync(p, 'utf8')
        writeFileSync(p, note.replace(/^— (\S+) (\S{6})/gm, (_, n: string, b: string) => `— ${n} ${b === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`))
      }
    }, `checkpoint ${cps[0] as number}`)
    t.ok(existsSync(join(exported, 'leaves.txt')), 'the export has leaves.txt (entries named through it)')
  }

  t.test('SM3 ledger (the default)', scenario('ledger-java-sm3', 'SM3'))
  t.test('SHA-256 ledger', scenario('ledger-java-sha256', 'SHA-256'))
}
