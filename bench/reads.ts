/**
 * `npm run bench:reads -- [--rows N]`: the reads migrations 0021-0023 changed, at scale, before
 * and after, in one run (docs/performance.md, "The last reads that grew with the data"):
 *   - a participant's newest cases (`GET /v1/cases` by a tax bureau in the older half of the cases);
 *   - the overdue cases (`?overdue=true`), for an operator and for that tax bureau;
 *   - a case's ledger entries (its evidence package);
 *   - one batch of the hourly attachment purge, beside N attachments messages still name.
 * On a schema of its own: N cases (participants: the centre in each, the tax bureau in the older
 * half), one completed step each and an overdue open step in one in 100,000, N ledger entries, N
 * attachments (all named), migrated through 0020. "Before" runs the statements as they were
 * then (kept here as the reference), "after" those of src/store once the schema is upgraded; the
 * upgrade's migrations are timed too. Each read: the median of 5, in ms. Then one JSON line.
 * Loading a million rows of each takes about 80 s, the whole run about 3 minutes.
 */
import { parseArgs } from 'node:util'
import { migrate, openDb } from '../src/store/db.ts'
import { listCases } from '../src/store/cases.ts'
import { caseEntries } from '../src/store/ledger.ts'
import { purgeAttachmentsIn } from '../src/store/attachments.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../test/helpers/services.ts'

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } })
const N = Number(values.rows)
if (!Number.isInteger(N) || N < 200_000 || N % 100_000 !== 0) throw new Error('--rows: a multiple of 100,000, at least 200,000')
const schema = isolationName('bench_reads')
const CASES = N
const ENTRIES = N
const ATT = N
await dropSchema(schema)
const db = openDb(DATABASE_URL, schema, 2)
await migrate(db, schema, '0020')
const now = new Date()
const t0 = Date.now()
await db.query(`INSERT INTO cases (case_id, unit_code, opened_by, created_at)
  SELECT '231202-2026-' || lpad(i::text, 7, '0'), '231202003004GB00099F' || lpad(i::text, 8, '0'), 'REG:231202', $1::timestamptz - interval '30 days' + i * interval '2 seconds'
    FROM generate_series(1, $2::int) i`, [now, CASES])
await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) SELECT case_id, 'REG:231202', true FROM cases`)
await db.query(`INSERT INTO case_participants (case_id, participant, confirmed) SELECT case_id, 'TAX:231202', true FROM cases WHERE case_id <= $1`, ['231202-2026-' + String(CASES / 2).padStart(7, '0')])
await db.query(`INSERT INTO case_steps (id, case_id, kind, status, requester, responder, opened_by_exchange, opened_at, due_at)
  SELECT gen_random_uuid(), case_id, 'tax', 'completed', 'REG:231202', 'TAX:231202', gen_random_uuid(), created_at, created_at + interval '7 days' FROM cases`)
await db.query(`INSERT INTO case_steps (id, case_id, kind, status, requester, responder, opened_by_exchange, opened_at, due_at)
  SELECT gen_random_uuid(), case_id, 'mortgage', 'open', 'REG:231202', 'BNK:231202', gen_random_uuid(), created_at, $1::timestamptz - interval '1 hour' FROM cases WHERE case_id LIKE '%00000'`, [now])
const CASE = '231202-2026-' + String(CASES / 4).padStart(7, '0')
await db.query(`INSERT INTO ledger_entries (id, kind, entry, parties, created_at, leaf_index)
  SELECT gen_random_uuid(), 'message.accepted', json_build_object('kind', 'message.accepted', 'exchangeId', gen_random_uuid(), 'caseId', '231202-2026-' || lpad((i % $2::int + 1)::text, 7, '0'), 'sender', 'REG:231202', 'recipients', json_build_array('TAX:231202'), 'requestDigest', 'SM3:' || repeat('0', 64), 'messageDigest', 'SM3:' || repeat('0', 64), 'receiptDigest', 'SM3:' || repeat('0', 64))::text,
         '{REG:231202,TAX:231202}', now(), i - 1 FROM generate_series(1, $1::int) i`, [ENTRIES, CASES])
const xs = (await db.query<{ x: string }>(`SELECT entry::jsonb ->> 'exchangeId' AS x FROM ledger_entries WHERE entry::jsonb ->> 'caseId' = $1`, [CASE])).rows.map((r) => r.x)
await db.query(`INSERT INTO attachments (id, owner, status, media_type, digest_alg, digest, size, created_at)
  SELECT gen_random_uuid(), 'REG:231202', 'complete', 'application/pdf', 'SM3', repeat('0', 64), 10, $1::timestamptz - interval '3 days' + i * interval '100 ms'
    FROM generate_series(1, $2::int) i`, [now, ATT])
await db.query(`INSERT INTO exchange_attachments (exchange_id, attachment_id, received_at) SELECT gen_random_uuid(), id, created_at FROM attachments`)
await db.query('VACUUM ANALYZE')
console.log(`loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${CASES} cases, ${ENTRIES} entries, ${ATT} attachments; case ${CASE} has ${xs.length} exchanges`)

const results: Record<string, number> = {}
const median = async (label: string, fn: () => Promise<unknown>, key?: string): Promise<void> => {
  const ms: number[] = []
  let out: unknown
  for (let i = 0; i < 5; i++) { const s = process.hrtime.bigint(); out = await fn(); ms.push(Number(process.hrtime.bigint() - s) / 1e6) }
  ms.sort((a, b) => a - b)
  if (key !== undefined) results[key] = Number(ms[2]?.toFixed(2))
  console.log(`${label}: ${ms[2]?.toFixed(1)} ms (${JSON.stringify(out).slice(0, 60)})`)
}
const before = new Date(now.getTime() - 86_400_000)
const rolledBack = async (sql: string, params: unknown[]): Promise<number> => {
  const c = await db.connect()
  try { await c.query('BEGIN'); const r = await c.query(sql, params); await c.query('ROLLBACK'); return r.rowCount ?? 0 } finally { c.release() }
}
const OLD_LIST = (participant: boolean, overdue: boolean): string => `SELECT * FROM (
       SELECT c.case_id AS "caseId", c.created_at AS "createdAt",
              (SELECT count(*)::int FROM case_steps s WHERE s.case_id = c.case_id AND s.status = 'open' AND s.due_at < $1) AS "overdueSteps",
              (SELECT count(*)::int FROM case_steps s WHERE s.case_id = c.case_id AND s.status = 'open') AS "openSteps"
         FROM cases c ${participant ? "JOIN case_participants p ON p.case_id = c.case_id AND p.participant = 'TAX:231202' AND p.confirmed" : ''}) x
      ${overdue ? 'WHERE x."overdueSteps" > 0' : ''} ORDER BY x."createdAt" DESC, x."caseId" LIMIT $2`
const OLD_ENTRIES = `SELECT id FROM ledger_entries WHERE leaf_index IS NOT NULL AND (
       (kind = 'message.accepted' AND (entry::jsonb ->> 'exchangeId') = ANY($1::text[]))
       OR (kind = 'delivery.settled' AND (entry::jsonb ->> 'deliveryId') = ANY($2::text[]))
       OR (kind = 'case.read' AND (entry::jsonb ->> 'ref') = $3 AND (entry::jsonb ->> 'what') IN ('case', 'evidence'))
       OR (kind = 'operator.action' AND (entry::jsonb ->> 'action') = 'step.close' AND (entry::jsonb ->> 'target') LIKE $3 || '/%'))
     ORDER BY leaf_index`
const OLD_PURGE = `DELETE FROM attachments WHERE id IN (
       SELECT a.id FROM attachments a
        WHERE a.created_at < $1 AND NOT EXISTS (SELECT 1 FROM exchange_attachments x WHERE x.attachment_id = a.id)
        ORDER BY a.created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       AND NOT EXISTS (SELECT 1 FROM exchange_attachments x WHERE x.attachment_id = attachments.id)`

console.log('--- before (through 0020)')
await median('a tax bureau in the older half: newest 50', async () => (await db.query(OLD_LIST(true, false), [now, 50])).rowCount, 'participantBefore')
await median('overdue, operator: 50', async () => (await db.query(OLD_LIST(false, true), [now, 50])).rowCount, 'overdueBefore')
await median('overdue, the tax bureau: 50', async () => (await db.query(OLD_LIST(true, true), [now, 50])).rowCount, 'overdueParticipantBefore')
await median("a case's ledger entries", async () => (await db.query(OLD_ENTRIES, [xs, [], CASE])).rowCount, 'entriesBefore')
await median('the attachment purge, one batch of 1,000 (rolled back)', () => rolledBack(OLD_PURGE, [before, 1000]), 'purgeBefore')

for (const m of ['0021', '0022', '0023']) {
  const s = Date.now()
  await migrate(db, schema, m)
  results[`migration${m}S`] = Number(((Date.now() - s) / 1000).toFixed(1))
  console.log(`migration ${m}: ${((Date.now() - s) / 1000).toFixed(1)} s`)
}
await db.query('VACUUM ANALYZE')
console.log('--- after')
await median('a tax bureau in the older half: newest 50', async () => (await listCases(db, { now, participant: 'TAX:231202', overdueOnly: false, limit: 50 })).length, 'participantAfter')
await median('overdue, operator: 50', async () => (await listCases(db, { now, participant: undefined, overdueOnly: true, limit: 50 })).length, 'overdueAfter')
await median('overdue, the tax bureau: 50', async () => (await listCases(db, { now, participant: 'TAX:231202', overdueOnly: true, limit: 50 })).length, 'overdueParticipantAfter')
await median("a case's ledger entries", async () => (await caseEntries(db, { caseId: CASE, exchangeIds: xs, deliveryIds: [] })).length, 'entriesAfter')
// The first purge after the upgrade examines every attachment come of age once; then an hour's.
const c = await db.connect()
let first = 0
const s = Date.now()
for (;;) { await c.query('BEGIN'); const r = await purgeAttachmentsIn(c, before, 1000); await c.query('COMMIT'); first++; if (!r.more) break }
results.firstPurgeS = Number(((Date.now() - s) / 1000).toFixed(1))
console.log(`the first purge after the upgrade: ${first} batches, ${results.firstPurgeS} s`)
c.release()
await median('the attachment purge, one batch (an hour later, rolled back)', async () => {
  const k = await db.connect()
  try { await k.query('BEGIN'); const r = await purgeAttachmentsIn(k, new Date(before.getTime() + 3_600_000), 1000); await k.query('ROLLBACK'); return r } finally { k.release() }
}, 'purgeAfter')
await db.end()
await dropSchema(schema)
console.log(JSON.stringify({ rows: N, ...results }))
