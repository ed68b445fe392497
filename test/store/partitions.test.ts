import t from 'tap'
import { migrate, openDb } from '../../src/store/db.ts'
import { ensureMonths, listMonths } from '../../src/store/retention.ts'
import { TestClock } from '../helpers/clock.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'
import { until } from '../helpers/wait.ts'
import { retentionWorld } from '../helpers/retention-world.ts'

// Issue 9 (part 7): exchanges, deliveries and timeline rows are partitioned by month, so an old
// month drops whole. The migration moves existing rows into their months; rows of a month with no
// partition wait in the default one and move when it is made; a month with a pending delivery is
// never dropped; a message id stays unique across months.

const partitionOf = async (db: ReturnType<typeof openDb>, table: string, where: string, params: unknown[]): Promise<string[]> =>
  (await db.query<{ p: string }>(`SELECT tableoid::regclass::text AS p FROM ${table} WHERE ${where} ORDER BY 1`, params)).rows.map((r) => r.p.replace(/^.*\./, ''))

t.test('the migration moves existing rows into their months', async (t) => {
  const schema = isolationName('partmig')
  const db = openDb(DATABASE_URL, schema, 4)
  t.teardown(async () => { await dropSchema(schema); await db.end() })
  await migrate(db, schema, '0011')
  const at = new Date('2025-03-14T08:00:00Z')
  await db.query(`INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES ('231202-2025-000001', 'U', 'REG:231202', $1)`, [at])
  await db.query(`INSERT INTO exchanges (id, sender, message_id, type, v, case_id, suite, request_digest, message_sealed, receipt, received_at)
                  VALUES ('00000000-0000-7000-8000-000000000001', 'REG:231202', 'm-1', 'tax.assessment.request', 1, '231202-2025-000001', 'national', 'd', '\\x00', 'r', $1)`, [at])
  await db.query(`INSERT INTO deliveries (id, exchange_id, recipient, status, created_at, age_from, updated_at)
                  VALUES ('00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000001', 'TAX:231202', 'delivered', $1, $1, $1)`, [at])
  for (let i = 0; i < 3; i++) await db.query(`INSERT INTO case_events (case_id, at, event) VALUES ('231202-2025-000001', $1, 'message.accepted')`, [at])

  t.same((await migrate(db, schema)).slice(0, 2), ['0012_partitions.sql', '0013_partition_lock_order.sql'], 'the partitions come after 0011 (then what follows them)')
  t.same(await partitionOf(db, 'exchanges', 'true', []), ['exchanges_p2025_03'], 'the exchange is in its month')
  t.same(await partitionOf(db, 'deliveries', 'true', []), ['deliveries_p2025_03'], 'so is its delivery')
  t.same(await partitionOf(db, 'case_events', 'true', []), ['case_events_p2025_03', 'case_events_p2025_03', 'case_events_p2025_03'], 'and its timeline')
  const months = await listMonths(db)
  t.equal(months[0], '2025_03', 'months from the oldest row…')
  const now = new Date()
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1))
  t.equal(months.at(-1), `${next.getUTCFullYear()}_${String(next.getUTCMonth() + 1).padStart(2, '0')}`, '…to the month after next')
  t.same((await db.query('SELECT sender, message_id AS "messageId" FROM exchange_keys')).rows, [{ sender: 'REG:231202', messageId: 'm-1' }], 'its message id is kept unique')
  const id = await db.query<{ id: string }>(`INSERT INTO case_events (case_id, at, event) VALUES ('231202-2025-000001', now(), 'x') RETURNING id`)
  t.equal(Number(id.rows[0]?.id), 4, 'timeline ids go on from where they were')
  const repeat = await db.query(`INSERT INTO exchange_keys (sender, message_id, exchange_id, received_at) VALUES ('REG:231202', 'm-1', gen_random_uuid(), now())`).then(() => undefined, (err: { constraint?: string }) => err.constraint)
  t.equal(repeat, 'exchange_keys_pkey', 'the same id in another month is still a repeat')

  // A row for a month with no partition waits in the default partition, and moves when the month is made.
  const far = new Date('2031-05-20T00:00:00Z')
  await db.query(`INSERT INTO case_events (case_id, at, event) VALUES ('231202-2025-000001', $1, 'far')`, [far])
  t.same(await partitionOf(db, 'case_events', 'at = $1', [far]), ['case_events_default'])
  t.same(await ensureMonths(db, [far]), ['exchanges_p2031_05', 'deliveries_p2031_05', 'case_events_p2031_05'])
  t.same(await partitionOf(db, 'case_events', 'at = $1', [far]), ['case_events_p2031_05'], 'moved into its month')
  t.same(await ensureMonths(db, [far]), [], 'made once')

  // A month made while an acceptance holds its case: the acceptance locks the case, then writes
  // the timeline; making a timeline partition locks cases too (its foreign key). In that order
  // they wait for each other; the other way round PostgreSQL found a deadlock and one failed.
  const accept = await db.connect()
  try {
    await accept.query('BEGIN')
    await accept.query(`INSERT INTO cases (case_id, unit_code, opened_by, created_at) VALUES ('231202-2031-000002', 'U', 'REG:231202', now())`)
    const making = ensureMonths(db, [new Date('2031-08-01T00:00:00Z')])
    await until('the month\'s maker waits for the case', async () =>
      (await db.query(`SELECT 1 FROM pg_locks WHERE relation = 'cases'::regclass AND NOT granted`)).rowCount === 1)
    await accept.query(`INSERT INTO case_events (case_id, at, event) VALUES ('231202-2031-000002', '2031-08-02T00:00:00Z', 'message.accepted')`)
    await accept.query('COMMIT')
    t.same(await making, ['exchanges_p2031_08', 'deliveries_p2031_08', 'case_events_p2031_08'], 'both went through')
    t.same(await partitionOf(db, 'case_events', `case_id = '231202-2031-000002'`, []), ['case_events_p2031_08'], 'the timeline row moved into its new month')
  } finally {
    accept.release()
  }
})

t.test('old months drop whole, except one with a delivery still pending', async (t) => {
  const clock = new TestClock(new Date('2026-05-20T02:00:00Z'))
  const { w, reg, tax, send, delivery } = await retentionWorld('partitions', clock, { purgeAfterDays: 0, keepMonths: 2 }, 400)
  t.teardown(() => w.close())
  const retention = w.app.tb.retention
  const status = async (exchangeId: string): Promise<string> => (await delivery(exchangeId)).status

  await until('the gateway makes the months of its clock at start', async () => (await listMonths(w.db)).includes('2026_07'))
  t.ok((await listMonths(w.db)).includes('2026_05'), 'May, June and July are made')
  tax.behave(() => 200)
  const may = await send()
  await until('delivered', async () => (await status(may.exchangeId)) === 'delivered')
  clock.set(new Date('2026-06-10T02:00:00Z'))
  tax.behave(() => 503)
  const june = await send()
  await until('attempted', async () => (await w.db.query(`SELECT 1 FROM deliveries WHERE exchange_id = $1 AND attempts > 0`, [june.exchangeId])).rowCount === 1)
  t.same(await partitionOf(w.db, 'exchanges', 'id = ANY($1::uuid[])', [[may.exchangeId, june.exchangeId]]), ['exchanges_p2026_05', 'exchanges_p2026_06'])

  clock.set(new Date('2026-09-03T02:00:00Z'))
  const round = await retention.maintainPartitions()
  t.same(round.dropped, ['2026_05'], 'May (older than the two months kept, July and August) is dropped')
  t.same(round.keptPending, ['2026_06'], 'June is kept: its delivery is pending')
  t.same(round.made, ['exchanges_p2026_09', 'deliveries_p2026_09', 'case_events_p2026_09', 'exchanges_p2026_10', 'deliveries_p2026_10', 'case_events_p2026_10', 'exchanges_p2026_11', 'deliveries_p2026_11', 'case_events_p2026_11'], 'this month and the next two are made')
  t.notOk((await listMonths(w.db)).includes('2026_05'))
  t.equal((await w.db.query('SELECT 1 FROM exchanges WHERE id = $1', [may.exchangeId])).rowCount, 0, 'May\'s exchange is gone')
  t.equal((await w.db.query(`SELECT 1 FROM case_events WHERE case_id = $1`, [may.caseId])).rowCount, 0, 'and its timeline')

  const again = await reg.http('POST', '/v1/messages', may.body)
  t.equal(again.status, 400, 'May\'s bytes again are not accepted a second time: long out of the iat window')
  t.equal((again.json as { code: string }).code, 'TB_ERR_IAT_WINDOW')
  const c = await reg.getCase(may.caseId)
  t.ok(c.status === 200 || c.status === 404, `the dropped month's case view answers cleanly (${c.status})`)

  tax.behave(() => 200)
  await until('June delivered', async () => (await status(june.exchangeId)) === 'delivered', 30_000)
  t.equal(tax.accepted.size >= 2, true, 'the pending delivery of the kept month arrived')
  const later = await retention.maintainPartitions()
  t.same(later.dropped, ['2026_06'], 'once delivered, June drops too')
  t.same(later.keptPending, [])
  const after = await send()
  await until('delivered in September', async () => (await status(after.exchangeId)) === 'delivered')
  t.same(await partitionOf(w.db, 'exchanges', 'id = $1', [after.exchangeId]), ['exchanges_p2026_09'], 'new messages go on in their month')
})
