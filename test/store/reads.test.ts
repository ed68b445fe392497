import t from 'tap'
import { migrate, openDb } from '../../src/store/db.ts'
import { listCases, listSteps } from '../../src/store/cases.ts'
import { listByStatus } from '../../src/store/deliveries.ts'
import { caseEntries, entryInsert, entryParams, latestCheckpoints } from '../../src/store/ledger.ts'
import { makeEntry } from '../../src/ledger/entries.ts'
import { listQueries } from '../../src/store/queries.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'
import { rowsRead } from '../helpers/reads.ts'

// Reads that partners and operators make (a case's steps, the newest cases, the newest queries,
// the ledger's latest checkpoints, the newest delivered deliveries) must not grow with the tables,
// which only grow (migration 0020; docs/performance.md). 20,000 rows of each lie beside the few a
// read asks for: each must give the right answer and read about as many rows as it returns.
const schema = isolationName('reads')
const db = openDb(DATABASE_URL, schema, 1)
t.teardown(async () => { await dropSchema(schema); await db.end() })
await migrate(db, schema)

const N = 20_000
const now = new Date()
const base = `$1::timestamptz - interval '30 days'`
await db.query(`INSERT INTO cases (case_id, unit_code, opened_by, created_at)
  SELECT '231202-2026-' || lpad(i::text, 7, '0'), '231202003004GB00099F' || lpad(i::text, 8, '0'), 'REG:231202', ${base} + i * interval '1 minute'
    FROM generate_series(1, $2::int) i`, [now, N])
await db.query(`INSERT INTO case_steps (id, case_id, kind, status, requester, responder, opened_by_exchange, opened_at)
  SELECT gen_random_uuid(), case_id, 'tax-assessment', 'completed', 'REG:231202', 'TAX:231202', gen_random_uuid(), created_at FROM cases`)
const CASE = '231202-2026-0000777'
for (const [i, kind] of ['mortgage-registration', 'certificate'].entries()) {
  await db.query(`INSERT INTO case_steps (id, case_id, kind, status, requester, responder, opened_by_exchange, opened_at)
                  VALUES (gen_random_uuid(), $1, $2, 'open', 'REG:231202', 'BNK:231202', gen_random_uuid(), $3)`, [CASE, kind, new Date(now.getTime() - (2 - i) * 60_000)])
}
await db.query(`INSERT INTO queries (id, asker, message_id, type, responder, asked_at, outcome, request_digest)
  SELECT gen_random_uuid(), 'BNK:23120' || (i % 5), 'q-' || i, 'mortgage.query', 'REG:231202', ${base} + i * interval '1 minute', 'answered', 'd'
    FROM generate_series(1, $2::int) i`, [now, N])
await db.query(`INSERT INTO ledger_checkpoints (tree_size, root_hash, signed_at, note)
  SELECT i, '\\x00', ${base} + i * interval '1 minute', 'n' FROM generate_series(1, $2::int) i`, [now, N])
await db.query(`INSERT INTO deliveries (id, exchange_id, recipient, status, attempts, created_at, age_from, updated_at, delivered_at)
  SELECT gen_random_uuid(), gen_random_uuid(), 'TAX:23120' || (i % 3), 'delivered', 1, ${base} + i * interval '1 minute', ${base} + i * interval '1 minute',
         ${base} + i * interval '1 minute' + interval '1 second', ${base} + i * interval '1 minute' + interval '1 second'
    FROM generate_series(1, $2::int) i`, [now, N])
const caseAt = (i: number): string => `231202-2026-${String(i).padStart(7, '0')}`
// Every case has its centre, the older half its tax bureau; a bank takes part in three old ones,
// and asked (unconfirmed) to join a new one. Two cases have a step open past its deadline: an old one the bank is in, and a new one.
await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) SELECT case_id, 'REG:231202', true FROM cases`)
await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) SELECT case_id, 'TAX:231202', true FROM cases WHERE case_id <= $1`, [caseAt(N / 2)])
for (const i of [5, 10, 15]) await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) VALUES ($1, 'BNK:231202', true)`, [caseAt(i)])
await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) VALUES ($1, 'BNK:231202', false)`, [caseAt(N - 1)])
for (const i of [10, N - 2]) {
  await db.query(`INSERT INTO case_steps (id, case_id, kind, status, requester, responder, opened_by_exchange, opened_at, due_at)
                  VALUES (gen_random_uuid(), $1, 'mortgage-registration', 'open', 'REG:231202', 'BNK:231202', gen_random_uuid(), $2, $3)`,
  [caseAt(i), new Date(now.getTime() - 86_400_000), new Date(now.getTime() - 3_600_000)])
}
// The ledger: 20,000 placed entries of other cases (as their writers store them: with their case),
// and those of one case, written as the gateway writes them.
await db.query(`INSERT INTO ledger_entries (id, kind, entry, parties, created_at, case_id, leaf_index)
  SELECT gen_random_uuid(), 'message.accepted', json_build_object('kind', 'message.accepted', 'exchangeId', gen_random_uuid(), 'caseId', case_id)::text,
         '{REG:231202,TAX:231202}', created_at, case_id, row_number() OVER (ORDER BY created_at) - 1 FROM cases`)
const X = '0193a0f0-0000-7000-8000-000000000001'
const D = '0193a0f0-0000-7000-8000-000000000002'
const mine = [
  makeEntry('message.accepted', '0193a0f0-0000-7000-8000-00000000000a', now, { exchangeId: X, sender: 'REG:231202', messageId: 'm1', type: 'tax.assessment.request', caseId: CASE, recipients: ['TAX:231202'], suite: 'national', requestDigest: 'SM3:00', messageDigest: 'SM3:00', receiptDigest: 'SM3:00' }),
  makeEntry('delivery.settled', '0193a0f0-0000-7000-8000-00000000000b', now, { deliveryId: D, exchangeId: X, sender: 'REG:231202', recipient: 'TAX:231202', outcome: 'delivered', attempt: 1 }, CASE),
  makeEntry('case.read', '0193a0f0-0000-7000-8000-00000000000c', now, { reader: 'TAX:231202', what: 'case', ref: CASE }),
  makeEntry('operator.action', '0193a0f0-0000-7000-8000-00000000000d', now, { operator: 'op1', action: 'step.close', target: `${CASE}/0193a0f0-0000-7000-8000-0000000000ff` }),
  // Not the package's: a list read, another case's read, a delivery the case does not have.
  makeEntry('case.read', '0193a0f0-0000-7000-8000-00000000000e', now, { reader: 'TAX:231202', what: 'cases', count: 3 }),
  makeEntry('case.read', '0193a0f0-0000-7000-8000-00000000000f', now, { reader: 'TAX:231202', what: 'case', ref: `${CASE}9` }),
]
for (const [i, e] of mine.entries()) {
  await db.query(entryInsert(1), entryParams(e))
  await db.query('UPDATE ledger_entries SET leaf_index = $2 WHERE id = $1', [e.id, N + i])
}
await db.query('ANALYZE')
const newest = (i: number): Date => new Date(now.getTime() - 30 * 86_400_000 + i * 60_000)

t.test("a case's steps", async (t) => {
  const { value, read } = await rowsRead(db, schema, (c) => listSteps(c, CASE))
  t.same(value.map((s) => s.kind), ['tax-assessment', 'mortgage-registration', 'certificate'], 'its three steps, oldest first')
  t.ok(read < 20, `read ${read} rows and index entries, not the ${N} steps`)
})

t.test('the newest cases (an operator)', async (t) => {
  const { value, read } = await rowsRead(db, schema, (c) => listCases(c, { now, participant: undefined, overdueOnly: false, limit: 5 }))
  t.same(value.map((c) => c.caseId), [N, N - 1, N - 2, N - 3, N - 4].map((i) => `231202-2026-${String(i).padStart(7, '0')}`), 'the five newest')
  t.ok(read < 50, `read ${read} rows and index entries, not the ${N} cases`)
})

t.test("a participant's newest cases", async (t) => {
  const { value, read } = await rowsRead(db, schema, (c) => listCases(c, { now, participant: 'REG:231202', overdueOnly: false, limit: 5 }))
  t.same(value.map((c) => c.caseId), [N, N - 1, N - 2, N - 3, N - 4].map(caseAt), 'the five newest of its cases')
  t.same(value.map((c) => c.createdAt.getTime()), [N, N - 1, N - 2, N - 3, N - 4].map((i) => newest(i).getTime()), 'each with its creation time')
  t.same(value.map((c) => [c.openSteps, c.overdueSteps]), [[0, 0], [0, 0], [1, 1], [0, 0], [0, 0]], 'and its open and overdue steps')
  t.ok(read < 60, `read ${read} rows and index entries, not the ${N} cases it takes part in`)
  const tax = await rowsRead(db, schema, (c) => listCases(c, { now, participant: 'TAX:231202', overdueOnly: false, limit: 5 }))
  t.same(tax.value.map((c) => c.caseId), [0, 1, 2, 3, 4].map((i) => caseAt(N / 2 - i)), 'a tax bureau in the older half: the five newest of those')
  t.ok(tax.read < 60, `read ${tax.read} rows and index entries, not the ${N / 2} cases it takes part in, nor the ${N / 2} newer ones`)
  const bank = await rowsRead(db, schema, (c) => listCases(c, { now, participant: 'BNK:231202', overdueOnly: false, limit: 5 }))
  t.same(bank.value.map((c) => c.caseId), [15, 10, 5].map(caseAt), 'a bank in three old cases: those, not the one it only asked to join')
  t.ok(bank.read < 40, `read ${bank.read} rows and index entries`)
})

t.test('the overdue cases', async (t) => {
  const all = await rowsRead(db, schema, (c) => listCases(c, { now, participant: undefined, overdueOnly: true, limit: 5 }))
  t.same(all.value.map((c) => [c.caseId, c.overdueSteps]), [[caseAt(N - 2), 1], [caseAt(10), 1]], 'an operator: both, newest first')
  t.ok(all.read < 40, `read ${all.read} rows and index entries, not the ${N} cases' steps`)
  const bank = await rowsRead(db, schema, (c) => listCases(c, { now, participant: 'BNK:231202', overdueOnly: true, limit: 5 }))
  t.same(bank.value.map((c) => c.caseId), [caseAt(10)], 'a bank: the one it takes part in')
  t.ok(bank.read < 40, `read ${bank.read} rows and index entries`)
  const early = await listCases(db, { now: new Date(now.getTime() - 7_200_000), participant: undefined, overdueOnly: true, limit: 5 })
  t.same(early, [], 'none two hours ago, before the deadlines')
})

t.test("a case's ledger entries (its evidence package)", async (t) => {
  const { value, read } = await rowsRead(db, schema, (c) => caseEntries(c, { caseId: CASE, exchangeIds: [X], deliveryIds: [D] }))
  t.same(value.map((e) => e.id), mine.slice(0, 4).map((e) => e.id), 'its acceptance, settlement, read and step closing, in the order of the tree')
  t.ok(read < 40, `read ${read} rows and index entries, not the ${N} entries of the ledger`)
})

t.test('the newest queries (an operator, the console)', async (t) => {
  const { value, read } = await rowsRead(db, schema, (c) => listQueries(c, undefined, 5))
  t.same(value.map((q) => q.askedAt.getTime()), [N, N - 1, N - 2, N - 3, N - 4].map((i) => newest(i).getTime()), 'the five newest')
  t.ok(read < 50, `read ${read} rows and index entries, not the ${N} queries`)
})

t.test("the ledger's latest checkpoints (the console)", async (t) => {
  const { value, read } = await rowsRead(db, schema, (c) => latestCheckpoints(c, 10))
  t.same(value.map((c) => c.treeSize), Array.from({ length: 10 }, (_, i) => N - i), 'the ten latest, newest first')
  t.ok(read < 50, `read ${read} rows and index entries, not the ${N} checkpoints`)
})

t.test('the newest delivered deliveries (an operator)', async (t) => {
  const { value, read } = await rowsRead(db, schema, (c) => listByStatus(c, 'delivered', 5))
  t.same(value.map((d) => d.deliveredAt?.getTime()), [N, N - 1, N - 2, N - 3, N - 4].map((i) => newest(i).getTime() + 1_000), 'the five newest, of every recipient')
  t.same(value.map((d) => d.recipient), [N, N - 1, N - 2, N - 3, N - 4].map((i) => `TAX:23120${i % 3}`), 'each with its recipient')
  t.ok(read < 100, `read ${read} rows and index entries, not the ${N} deliveries`)
})
