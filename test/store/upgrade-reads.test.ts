import t from 'tap'
import { migrate, openDb } from '../../src/store/db.ts'
import { listCases } from '../../src/store/cases.ts'
import { caseEntries } from '../../src/store/ledger.ts'
import { makeEntry } from '../../src/ledger/entries.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'

// A gateway upgraded to migrations 0021 and 0022 keeps what it had: the participants and ledger
// entries written before are filled in (each participant's case time, each entry's case), so a
// participant's list and a case's evidence find them as they find new ones.
const schema = isolationName('upgrade_reads')
const db = openDb(DATABASE_URL, schema, 1)
t.teardown(async () => { await dropSchema(schema); await db.end() })
await migrate(db, schema, '0020')

const at = new Date('2026-11-02T08:00:00Z')
const CASE = '231202-2026-0000042'
const OTHER = '231202-2026-0000043'
for (const [i, c] of [CASE, OTHER].entries()) {
  await db.query(`INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES ($1, '231202003004GB00099F00010001', 'REG:231202', $2)`, [c, new Date(at.getTime() + i * 60_000)])
  await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) VALUES ($1, 'REG:231202', true), ($1, 'TAX:231202', true)`, [c])
}
// Ledger entries as 0008's columns hold them (no case), placed in the tree.
const X = '0193a0f0-0000-7000-8000-000000000001'
const Y = '0193a0f0-0000-7000-8000-000000000002'
const D = '0193a0f0-0000-7000-8000-000000000003'
const accepted = (id: string, exchangeId: string, caseId: string): ReturnType<typeof makeEntry> =>
  makeEntry('message.accepted', id, at, { exchangeId, sender: 'REG:231202', messageId: id, type: 'tax.assessment.request', caseId, recipients: ['TAX:231202'], suite: 'national', requestDigest: 'SM3:00', messageDigest: 'SM3:00', receiptDigest: 'SM3:00' })
const old = [
  accepted('0193a0f0-0000-7000-8000-00000000000a', X, CASE),
  makeEntry('delivery.settled', '0193a0f0-0000-7000-8000-00000000000b', at, { deliveryId: D, exchangeId: X, sender: 'REG:231202', recipient: 'TAX:231202', outcome: 'delivered', attempt: 1 }),
  makeEntry('case.read', '0193a0f0-0000-7000-8000-00000000000c', at, { reader: 'TAX:231202', what: 'evidence', ref: CASE }),
  makeEntry('operator.action', '0193a0f0-0000-7000-8000-00000000000d', at, { operator: 'op1', action: 'step.close', target: `${CASE}/0193a0f0-0000-7000-8000-0000000000ff` }),
  accepted('0193a0f0-0000-7000-8000-00000000000e', Y, OTHER),
  makeEntry('case.read', '0193a0f0-0000-7000-8000-00000000000f', at, { reader: 'TAX:231202', what: 'cases', count: 2 }),
  makeEntry('operator.action', '0193a0f0-0000-7000-8000-000000000010', at, { operator: 'op1', action: 'delivery.replay', target: D }),
]
for (const [i, e] of old.entries()) {
  await db.query('INSERT INTO ledger_entries (id, kind, entry, parties, created_at, leaf_index) VALUES ($1, $2, $3, $4, $5, $6)', [e.id, e.kind, e.entry, e.parties, e.at, i])
}

t.same(await migrate(db, schema, '0022'), ['0021_participant_cases.sql', '0022_ledger_by_case.sql'], 'the upgrade applies both')

t.test("each participant's row has its case's creation time", async (t) => {
  const rows = (await db.query<{ case_id: string; t: Date }>('SELECT case_id, case_created_at AS t FROM case_participants ORDER BY case_id, participant')).rows
  t.same(rows.map((r) => [r.case_id, r.t.getTime()]), [[CASE, at.getTime()], [CASE, at.getTime()], [OTHER, at.getTime() + 60_000], [OTHER, at.getTime() + 60_000]])
  const list = await listCases(db, { now: new Date(), participant: 'TAX:231202', overdueOnly: false, limit: 10 })
  t.same(list.map((c) => c.caseId), [OTHER, CASE], "the tax bureau's list: both, newest first")
})

t.test('each old entry of a case has its case; the others none', async (t) => {
  const rows = (await db.query<{ id: string; case_id: string | null }>('SELECT id, case_id FROM ledger_entries ORDER BY leaf_index')).rows
  t.same(rows.map((r) => r.case_id), [CASE, CASE, CASE, CASE, OTHER, null, null])
  const found = await caseEntries(db, { caseId: CASE, exchangeIds: [X], deliveryIds: [D] })
  t.same(found.map((e) => e.id), old.slice(0, 4).map((e) => e.id), "the case's evidence finds its four")
})

t.test("a participant added after the upgrade has its case's time", async (t) => {
  await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) VALUES ($1, 'BNK:231202', true)`, [CASE])
  const r = (await db.query<{ t: Date }>(`SELECT case_created_at AS t FROM case_participants WHERE participant = 'BNK:231202'`)).rows[0]
  t.equal(r?.t.getTime(), at.getTime(), "a participant added later: its case's time, filled on insert")
})
