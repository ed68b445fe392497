import t from 'tap'
import { randomUUID } from 'node:crypto'
import { migrate, openDb } from '../../src/store/db.ts'
import { storeOneAcceptance, type AcceptDoc } from '../../src/store/accept.ts'
import { markDelivered, markDeliveredMany, MAX_DELIVERY_GROUP, settleDelivered, type Settle } from '../../src/store/deliveries.ts'
import { ensureMonths } from '../../src/store/retention.ts'
import type { LedgerRecord } from '../../src/store/ledger.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'
import { acceptDocs, counting, holding } from '../helpers/groups.ts'

// Deliveries settled in groups (migration 0025): while a settlement is being written, the ones
// that arrive wait and are settled together, in one statement and one commit. Each settles as it
// would alone: pending → delivered with its ledger entry and timeline event, and a delivery no
// longer pending gets neither.
const schema = isolationName('settlemany')
const db = openDb(DATABASE_URL, schema, 4)
t.teardown(async () => { await dropSchema(schema); await db.end() })
await migrate(db, schema)
const now = new Date()
await ensureMonths(db, [now])
const { doc } = acceptDocs(now)

let c = 0
/** A message accepted on a case of its own, with its delivery pending. */
const accepted = async (): Promise<AcceptDoc> => {
  const d = doc({ caseId: `231202-2026-5${String(++c).padStart(5, '0')}` })
  const refused = await storeOneAcceptance(db, d)
  if (refused !== undefined) throw new Error(`the acceptance was refused: ${refused}`)
  return d
}
const deliveryOf = (d: AcceptDoc): string => (d.deliveries[0] as { id: string }).id
const at = new Date(now.getTime() + 5)
const settle = (d: AcceptDoc, over: Partial<Settle> = {}): Settle => {
  const entry: LedgerRecord = { id: randomUUID(), kind: 'delivery.settled', entry: JSON.stringify({ deliveryId: deliveryOf(d) }), parties: ['REG:231202', 'TAX:231202'], at, caseId: d.case?.caseId ?? null }
  return { entry, event: { caseId: d.case?.caseId as string, at, event: 'delivery.delivered', actor: null, exchangeId: d.exchange.id, deliveryId: deliveryOf(d), detail: { attempt: 1, ms: 3 } }, createdAt: now, ...over }
}
const state = async (d: AcceptDoc): Promise<{ status: string; deliveredAt: Date | null; entries: number; events: Array<{ event: string; detail: unknown; delivery_id: string | null }> }> => {
  const row = (await db.query<{ status: string; delivered_at: Date | null }>('SELECT status, delivered_at FROM deliveries WHERE id = $1', [deliveryOf(d)])).rows[0]
  const entries = (await db.query(`SELECT 1 FROM ledger_entries WHERE kind = 'delivery.settled' AND entry = $1`, [JSON.stringify({ deliveryId: deliveryOf(d) })])).rowCount ?? 0
  const events = (await db.query<{ event: string; detail: unknown; delivery_id: string | null }>(`SELECT event, detail, delivery_id FROM case_events WHERE case_id = $1 AND event = 'delivery.delivered'`, [d.case?.caseId])).rows
  return { status: row?.status ?? '', deliveredAt: row?.delivered_at ?? null, entries, events }
}

t.test('a group settles each pending delivery with its entry and event, and nothing for one no longer pending', async (t) => {
  const ds = await Promise.all([accepted(), accepted(), accepted(), accepted()])
  const done = ds[1] as AcceptDoc
  t.equal(await markDelivered(db, deliveryOf(done), at, settle(done)), true, 'one settled before, alone')
  await db.query(`UPDATE deliveries SET last_error = 'HTTP_5XX 503' WHERE id = $1`, [deliveryOf(ds[0] as AcceptDoc)])
  const items = ds.map((d, i) => ({ id: deliveryOf(d), at, settle: settle(d, i === 3 ? { createdAt: undefined } : {}) }))
  t.same(await markDeliveredMany(db, items), [true, false, true, true], 'whether each was pending, in order (the last with its month unknown)')
  const row = (await db.query<{ last_error: string | null; updated_at: Date }>('SELECT last_error, updated_at FROM deliveries WHERE id = $1', [deliveryOf(ds[0] as AcceptDoc)])).rows[0]
  t.equal(row?.last_error, null, 'an earlier failure is cleared, as alone')
  t.equal(row?.updated_at.toISOString(), at.toISOString(), 'and the row updated at the settlement')
  for (const [i, d] of ds.entries()) {
    const s = await state(d)
    t.equal(s.status, 'delivered', `delivery ${i} delivered`)
    t.equal(s.deliveredAt?.toISOString(), at.toISOString(), 'at its time')
    t.equal(s.entries, 1, 'one delivery.settled entry, not two')
    t.equal(s.events.length, 1, 'one timeline event, not two')
    t.same(s.events[0]?.detail, { attempt: 1, ms: 3 }, 'with its detail')
    t.equal(s.events[0]?.delivery_id, deliveryOf(d), 'and its delivery')
  }
  const other = await accepted()
  const wrongMonth = new Date(now.getTime() - 40 * 86_400_000)
  t.same(await markDeliveredMany(db, [{ id: deliveryOf(other), at, settle: settle(other, { createdAt: wrongMonth }) }]), [false], 'a time that is not its creation names no delivery')
  t.equal((await state(other)).status, 'pending')
  await t.rejects(markDeliveredMany(db, Array.from({ length: MAX_DELIVERY_GROUP + 1 }, () => ({ id: randomUUID(), at, settle: {} }))), RangeError)
})

t.test('settlements that wait while one is written go together; a group PostgreSQL refuses is settled one by one', async (t) => {
  const pool = openDb(DATABASE_URL, schema, 4)
  t.teardown(() => pool.end())
  const { calls, restore } = counting(pool)
  t.teardown(restore)
  const ds = await Promise.all(Array.from({ length: 6 }, accepted))
  t.same(await Promise.all(ds.map((d) => settleDelivered(pool, deliveryOf(d), at, settle(d)))), [true, true, true, true, true, true])
  t.equal(calls.filter((q) => q.includes('tongban_settle_many')).length, 1, 'the five that waited behind the first went as one group')
  t.equal(calls.length, 2, 'two statements for six settlements')
  for (const d of ds) t.equal((await state(d)).entries, 1)

  calls.length = 0
  const more = await Promise.all(Array.from({ length: 4 }, accepted))
  // An event on a case that does not exist: the group's statement fails whole (a foreign key), and each is settled alone.
  const bad = more[2] as AcceptDoc
  const badSettle = settle(bad, { event: { ...(settle(bad).event as NonNullable<Settle['event']>), caseId: 'no-such-case' } })
  const results = await Promise.allSettled(more.map((d) => settleDelivered(pool, deliveryOf(d), at, d === bad ? badSettle : settle(d))))
  t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
  t.equal(((results[2] as PromiseRejectedResult).reason as { code?: string }).code, '23503', 'the bad one gets its own error')
  t.ok(calls.some((q) => q.includes('tongban_settle_many')), 'a group was tried')
  t.same(await Promise.all(more.map(async (d) => (await state(d)).status)), ['delivered', 'delivered', 'pending', 'delivered'], 'the others are settled; the bad one is still pending, to be retried')
  t.equal((await state(bad)).entries, 0, 'and has no entry')
})

t.test('a group statement unanswered within its limit is dropped with its connection; written again alone, nothing is written twice', async (t) => {
  const pool = openDb(DATABASE_URL, schema, 4)
  t.teardown(() => pool.end())
  const ds = await Promise.all(Array.from({ length: 3 }, accepted))
  const settles = ds.map((d) => settle(d))
  // Another transaction holds the second delivery's row: the group's statement waits for it, unanswered.
  const { letGo } = await holding(db, t, 'SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE', [deliveryOf(ds[1] as AcceptDoc)])
  await pool.query('SELECT 1')
  t.equal(pool.totalCount, 1, 'the pool holds one connection')
  await t.rejects(markDeliveredMany(pool, ds.map((d, i) => ({ id: deliveryOf(d), at, settle: settles[i] as Settle })), 300), /Query read timeout/, 'refused after its limit')
  await new Promise((r) => setImmediate(r))
  t.equal(pool.totalCount, 0, 'its connection is dropped, not returned to the pool')
  await letGo()
  // Whether PostgreSQL went on to commit the group or not, each written again alone ends the same.
  for (const [i, d] of ds.entries()) await markDelivered(pool, deliveryOf(d), at, settles[i] as Settle)
  for (const d of ds) {
    const s = await state(d)
    t.equal(s.status, 'delivered')
    t.equal(s.entries, 1, 'one entry')
    t.equal(s.events.length, 1, 'one timeline event')
  }
})

t.test('items without an entry or an event settle with none, in a group as alone', async (t) => {
  const ds = await Promise.all([accepted(), accepted()])
  t.same(await markDeliveredMany(db, ds.map((d) => ({ id: deliveryOf(d), at, settle: { createdAt: now } }))), [true, true])
  for (const d of ds) {
    const s = await state(d)
    t.equal(s.status, 'delivered')
    t.equal(s.entries, 0, 'no entry')
    t.equal(s.events.length, 0, 'no event')
  }
})

t.test('a group that waits too long for a row lock is refused whole, and its settlements go one by one', async (t) => {
  const pool = openDb(DATABASE_URL, schema, 4)
  t.teardown(() => pool.end())
  const config = async (fn: string): Promise<string[] | null | undefined> =>
    (await db.query<{ c: string[] | null }>(`SELECT proconfig AS c FROM pg_proc WHERE proname = $1 AND pronamespace = $2::regnamespace`, [fn, schema])).rows[0]?.c
  for (const fn of ['tongban_settle_many', 'tongban_start_attempts']) {
    t.same(await config(fn), ['plan_cache_mode=force_generic_plan', 'lock_timeout=20s'], `${fn} waits at most 20 s for a lock, with a generic plan`)
  }
  // (Shortened here, for this schema.)
  await db.query(`ALTER FUNCTION tongban_settle_many(jsonb) SET lock_timeout = '200ms'`)
  t.teardown(() => db.query(`ALTER FUNCTION tongban_settle_many(jsonb) SET lock_timeout = '20s'`))
  const ds = await Promise.all(Array.from({ length: 4 }, accepted))
  const { letGo } = await holding(db, t, 'SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE', [deliveryOf(ds[3] as AcceptDoc)])
  const { calls, restore } = counting(pool)
  t.teardown(restore)
  // The first goes alone at once; the three behind it wait, then go as a group that meets the held row.
  const settled = Promise.all(ds.map((d) => settleDelivered(pool, deliveryOf(d), at, settle(d))))
  await new Promise((r) => setTimeout(r, 600))
  t.equal(calls.filter((q) => q.includes('tongban_settle_many')).length, 1, 'a group was tried')
  t.same(await Promise.all(ds.slice(1, 3).map(async (d) => (await state(d)).entries)), [1, 1], 'its other items were settled alone meanwhile, once each')
  t.equal((await state(ds[3] as AcceptDoc)).status, 'pending', 'the held one waits for its row')
  await letGo()
  t.same(await settled, [true, true, true, true], 'then it is settled too')
  for (const d of ds) t.equal((await state(d)).entries, 1, 'one entry each: the refused group wrote nothing')
})

t.test('a group locks its cases in the order acceptances do: no deadlock with a message holding one of them', async (t) => {
  const first = await accepted()
  const second = await accepted()
  const [c1, c2] = [first.case?.caseId as string, second.case?.caseId as string]
  t.ok(c1 < c2, 'two cases, in order')
  // As an acceptance would: the first case locked, then the second wanted.
  const { lock, letGo } = await holding(db, t, 'SELECT 1 FROM cases WHERE case_id = $1 FOR UPDATE', [c1])
  // The group's items in the order that names the second case first.
  const group = markDeliveredMany(db, [second, first].map((d) => ({ id: deliveryOf(d), at, settle: settle(d) })))
  await new Promise((r) => setTimeout(r, 300))
  await t.resolves(lock('SELECT 1 FROM cases WHERE case_id = $1 FOR UPDATE', [c2]), 'the message gets the second case: the group did not take it before the first')
  await letGo()
  t.same(await group, [true, true], 'and the group settles both after it')
})
