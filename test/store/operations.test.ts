import t from 'tap'
import { migrate, openDb, type Db } from '../../src/store/db.ts'
import { casesOnUnit, deliveryCounts, lastDeliveries, perMinute } from '../../src/store/operations.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'
import { rowsRead } from '../helpers/reads.ts'

// The operator console's reads (the overview's chart and counts, the partners page, a search by unit code)
// must not grow with the data: a gateway keeps a month or more of messages, millions of rows, and
// each of these used to read all of them (migration 0019; docs/performance.md). Here 20,000 old
// messages and cases lie beside a few recent ones; each read must give the right answer and read
// about as many rows as it returns, not the 20,000.
const schema = isolationName('operations')
const db = openDb(DATABASE_URL, schema, 1)
t.teardown(async () => { await dropSchema(schema); await db.end() })
await migrate(db, schema)

const OLD = 20_000
const now = new Date()
const minute = (ms: number): number => Math.floor(ms / 60_000) * 60_000
const ago = (ms: number): Date => new Date(now.getTime() - ms)
const UNIT = '231202003004GB00012F00010001'

// Old: 20,000 exchanges 10 to 20 days ago, each delivered a second later to one of three recipients; 20,000 cases on other units.
await db.query(`INSERT INTO exchanges (id, sender, message_id, type, v, suite, request_digest, message_sealed, receipt, received_at)
  SELECT ('00000000-0000-7000-8000-' || lpad(i::text, 12, '0'))::uuid, 'REG:231202', 'old-' || i, 'tax.assessment.request', 1, 'national', 'd', '\\x01', 'r',
         $2::timestamptz - interval '10 days' - (i * interval '40 seconds') FROM generate_series(1, $1::int) i`, [OLD, now])
await db.query(`INSERT INTO exchange_keys (sender, message_id, exchange_id, received_at) SELECT sender, message_id, id, received_at FROM exchanges`)
await db.query(`INSERT INTO deliveries (id, exchange_id, recipient, status, attempts, created_at, age_from, updated_at, delivered_at)
  SELECT gen_random_uuid(), id, (ARRAY['TAX:231202', 'HOU:231202', 'BNK:231202'])[1 + (substr(message_id, 5)::int % 3)], 'delivered', 1,
         received_at, received_at, received_at + interval '1 second', received_at + interval '1 second' FROM exchanges`)
await db.query(`INSERT INTO cases (case_id, unit_code, opened_by, created_at)
  SELECT '231202-2026-' || lpad(i::text, 7, '0'), '231202003004GB00099F' || lpad(i::text, 8, '0'), 'REG:231202', $2::timestamptz - interval '10 days'
    FROM generate_series(1, $1::int) i`, [OLD, now])

// Recent: five exchanges in the last hour; three delivered to the tax bureau, one pending to the
// housing bureau (attempted since), one dead for the bank; two cases on one unit.
const recent = [50, 40, 30, 20, 10].map((m) => ago(m * 60_000))
for (const [i, at] of recent.entries()) {
  const id = `00000000-0000-7000-8000-1000000000${String(i).padStart(2, '0')}`
  await db.query(`INSERT INTO exchanges (id, sender, message_id, type, v, suite, request_digest, message_sealed, receipt, received_at)
                  VALUES ($1, 'REG:231202', $2, 'tax.assessment.request', 1, 'national', 'd', '\\x01', 'r', $3)`, [id, `new-${i}`, at])
  await db.query(`INSERT INTO exchange_keys (sender, message_id, exchange_id, received_at) VALUES ('REG:231202', $1, $2, $3)`, [`new-${i}`, id, at])
  const [recipient, status] = i < 3 ? ['TAX:231202', 'delivered'] : i === 3 ? ['HOU:231202', 'pending'] : ['BNK:231202', 'dead']
  const settled = new Date(at.getTime() + 2_000)
  await db.query(`INSERT INTO deliveries (id, exchange_id, recipient, status, attempts, last_error, created_at, age_from, updated_at, delivered_at, dead_at)
                  VALUES (gen_random_uuid(), $1, $2, $3, 1, $4, $5, $5, $6, $7, $8)`,
  [id, recipient, status, status === 'delivered' ? null : 'PARTNER_5XX 503', at, settled, status === 'delivered' ? settled : null, status === 'dead' ? settled : null])
}
for (const [i, days] of [3, 1].entries()) {
  await db.query(`INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES ($1, $2, 'REG:231202', $3)`, [`231202-2026-900000${i}`, UNIT, ago(days * 86_400_000)])
}
await db.query('ANALYZE')

const reading = <T>(read: (db: Db) => Promise<T>): ReturnType<typeof rowsRead<T>> => rowsRead(db, schema, read)

t.test("the overview's chart reads the last hour's messages, not the month's", async (t) => {
  const { value, read } = await reading((c) => perMinute(c, ago(3_600_000)))
  t.same([...value.accepted].sort(), recent.map((at) => [minute(at.getTime()), 1]).sort(), 'one accepted in each of the five minutes')
  t.same([...value.delivered].sort(), recent.slice(0, 3).map((at) => [minute(at.getTime() + 2_000), 1]).sort(), 'three delivered, each in its minute')
  t.ok(read < 200, `it read ${read} rows and index entries (the old reads: more than ${OLD})`)
})

t.test("the overview's counts of pending and dead deliveries read those deliveries only", async (t) => {
  const { value, read } = await reading((c) => deliveryCounts(c))
  t.same(value, { pending: 1, dead: 1 }, 'one pending, one dead')
  t.ok(read < 20, `it read ${read} rows and index entries (the old read: more than ${OLD})`)
})

t.test("the partners page reads each recipient's latest delivery, not every delivery", async (t) => {
  const { value, read } = await reading((c) => lastDeliveries(c))
  t.same(Object.fromEntries([...value].map(([r, l]) => [r, [l.status, l.lastError, l.at.toISOString()]])), {
    'TAX:231202': ['delivered', null, new Date(recent[2]!.getTime() + 2_000).toISOString()],
    'HOU:231202': ['pending', 'PARTNER_5XX 503', new Date(recent[3]!.getTime() + 2_000).toISOString()],
    'BNK:231202': ['dead', 'PARTNER_5XX 503', new Date(recent[4]!.getTime() + 2_000).toISOString()],
  }, 'each recipient with the delivery it last changed')
  t.ok(read < 200, `it read ${read} rows and index entries (the old read: more than ${OLD})`)
  // A recipient whose latest is an old delivery is found all the same.
  await db.query(`DELETE FROM deliveries WHERE recipient = 'BNK:231202' AND status = 'dead'`)
  const again = await reading((c) => lastDeliveries(c))
  t.equal(again.value.get('BNK:231202')?.status, 'delivered', "the bank's latest is now one of the old deliveries")
  t.ok((again.value.get('BNK:231202')?.at.getTime() ?? 0) < ago(9 * 86_400_000).getTime(), 'from ten days ago or more')
  t.ok(again.read < 200, `still read ${again.read}`)
})

t.test('a search by unit code reads that unit\'s cases', async (t) => {
  const { value, read } = await reading((c) => casesOnUnit(c, UNIT, 50))
  t.same(value.map((c) => c.caseId), ['231202-2026-9000001', '231202-2026-9000000'], 'the two cases on the unit, newest first')
  t.ok(read < 20, `it read ${read} rows and index entries (the old read: more than ${OLD})`)
})
