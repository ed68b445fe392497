import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatewayKeyring } from '../../src/crypto/index.ts'
import { defaultOrigin, Ledger, makeEntry, type LedgerSettings } from '../../src/ledger/index.ts'
import { exportLedger } from '../../src/ledger/export.ts'
import { verifyExport } from '../../src/ledger/verify.ts'
import { inTransaction, migrate, openDb } from '../../src/store/db.ts'
import { entryInsert, entryParams } from '../../src/store/ledger.ts'
import { systemClock, systemIds } from '../../src/util/ids.ts'
import { createLogger } from '../../src/util/log.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'

// The integrator (issue 8): entries committed by many writers in any order, placed by two
// integrators at once (two gateway instances): each entry gets exactly one leaf index, the
// indices run 0…n-1 with no gap, nothing committed is left out, and the tree verifies.
const schema = isolationName('integrator')
const dir = mkdtempSync(join(tmpdir(), 'tongban-integrator-'))
t.teardown(async () => {
  await dropSchema(schema)
  rmSync(dir, { recursive: true, force: true })
})
GatewayKeyring.generate(join(dir, 'keys'), ['national', 'international'], { rsaBits: 2048 })
const keyring = GatewayKeyring.load(join(dir, 'keys'), 'TONGBAN')
const db = openDb(DATABASE_URL, schema, 20)
t.teardown(() => db.end())
await migrate(db, schema)
const settings: LedgerSettings = { enabled: true, hash: 'SM3', origin: defaultOrigin('TONGBAN'), integrateMs: 1_000, checkpointMs: 50, batch: 37 }
const ledgerOf = (s: Partial<LedgerSettings> = {}): Ledger => new Ledger({ db, keyring, clock: systemClock, ids: systemIds(), logger: createLogger({ level: 'silent' }), settings: { ...settings, ...s } })
const a = ledgerOf()
const b = ledgerOf()
await a.open()
await b.open()

t.test('many writers, two integrators: one index per entry, 0…n-1, nothing left out', async (t) => {
  const ids = systemIds()
  let writing = true
  // Writers hold their transactions open for a random moment: commits land out of write order.
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      await inTransaction(db, async (tx) => {
        const e = makeEntry('case.read', ids.uuid7(), new Date(), { reader: `REG:23120${w % 10}`, what: 'cases', count: i })
        await tx.query(entryInsert(1), entryParams(e))
        await new Promise((r) => setTimeout(r, Math.random() * 8))
      })
    }
  }
  const integrator = async (l: Ledger): Promise<number> => {
    let rounds = 0
    while (writing) {
      await l.integrate()
      await l.checkpoint()
      rounds++
    }
    return rounds
  }
  const loops = [integrator(a), integrator(b)]
  await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)))
  writing = false
  await Promise.all(loops)
  await a.settle()
  const r = (await db.query<{ n: number; distinct: number; lo: number; hi: number; waiting: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT leaf_index)::int AS distinct, min(leaf_index)::int AS lo, max(leaf_index)::int AS hi, count(*) FILTER (WHERE leaf_index IS NULL)::int AS waiting FROM ledger_entries`,
  )).rows[0]
  t.same(r, { n: 320, distinct: 320, lo: 0, hi: 319, waiting: 0 }, '320 entries at 320 distinct indices 0…319')
  const checkpoints = Number((await db.query('SELECT count(*) AS n FROM ledger_checkpoints')).rows[0].n)
  t.ok(checkpoints > 2, `${checkpoints} checkpoints signed along the way, by whichever integrator held the tree`)
  const out = join(dir, 'export')
  await exportLedger(db, a, out, new Date())
  const v = await verifyExport(out, { vkeys: a.vkeys() })
  t.ok(v.ok, JSON.stringify(v.fault))
  t.equal(v.treeSize, 320)
})

t.test('the hash and origin of an existing ledger cannot change', async (t) => {
  await t.rejects(ledgerOf({ hash: 'SHA-256' }).open(), /uses SM3; ledger.hash is SHA-256/)
  await t.rejects(ledgerOf({ origin: 'other.example/log' }).open(), /origin is/)
})

t.test('a ledger switched off writes nothing and says so', async (t) => {
  const off = ledgerOf({ enabled: false })
  t.equal(off.record('case.read', { reader: 'x', what: 'cases' }), undefined)
  await off.write('case.read', { reader: 'x', what: 'cases' })
  off.start()
  await off.close()
  t.equal(Number((await db.query('SELECT count(*) AS n FROM ledger_entries').then((q) => q.rows[0])).n), 320)
})

t.test('the background integrator places entries and signs checkpoints by itself', async (t) => {
  const bg = ledgerOf({ integrateMs: 50, checkpointMs: 100 })
  bg.start()
  t.teardown(() => bg.close())
  await bg.write('case.read', { reader: 'REG:231202', what: 'cases', count: 1 })
  const end = Date.now() + 5_000
  while ((await bg.state()).treeSize < 321 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
  t.equal((await bg.state()).treeSize, 321)
  while ((await bg.latestCheckpoint())?.treeSize !== 321 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
  t.equal((await bg.latestCheckpoint())?.treeSize, 321, 'a checkpoint within checkpointMs of the entry')
})
