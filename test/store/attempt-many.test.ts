import t from 'tap'
import { migrate, openDb } from '../../src/store/db.ts'
import { storeOneAcceptance, type AcceptDoc } from '../../src/store/accept.ts'
import { beginAttempt, MAX_DELIVERY_GROUP, startAttempt, startAttempts, type Attempt } from '../../src/store/deliveries.ts'
import { ensureMonths } from '../../src/store/retention.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'
import { acceptDocs, counting, holding } from '../helpers/groups.ts'

// Attempts in groups (migration 0025): while an attempt's statement is out, the attempts that
// arrive wait and start together, in one statement and one commit. Each starts as it would alone
// (startAttempt, test/store/attempt.test.ts): counted on a delivery still pending and not expired,
// read with its exchange and sealed message; none for the others.
const schema = isolationName('attemptmany')
const db = openDb(DATABASE_URL, schema, 4)
t.teardown(async () => { await dropSchema(schema); await db.end() })
await migrate(db, schema)
const now = new Date()
await ensureMonths(db, [now])
const { doc } = acceptDocs(now)

const accepted = async (): Promise<AcceptDoc> => {
  const d = doc()
  const refused = await storeOneAcceptance(db, d)
  if (refused !== undefined) throw new Error(`the acceptance was refused: ${refused}`)
  return d
}
const deliveryOf = (d: AcceptDoc): string => (d.deliveries[0] as { id: string }).id
const attemptsOf = async (d: AcceptDoc): Promise<number> => (await db.query<{ n: number }>('SELECT attempts AS n FROM deliveries WHERE id = $1', [deliveryOf(d)])).rows[0]?.n ?? -1
const later = new Date(now.getTime() + 1_000)
const longAgo = new Date(now.getTime() - 86_400_000)
/** What a test compares of an attempt: the same whether it started alone or in a group. */
const seen = (a: Attempt | undefined): unknown => a === undefined ? undefined : {
  id: a.delivery.id, attempts: a.delivery.attempts, status: a.delivery.status, updatedAt: a.delivery.updatedAt.toISOString(),
  exchange: a.exchange?.id, messageId: a.exchange?.messageId, receivedAt: a.exchange?.receivedAt.toISOString(), sealed: a.sealed?.toString('utf8'),
}

t.test('a group starts each attempt as it would start alone, in the items\' order', async (t) => {
  const ds = await Promise.all(Array.from({ length: 6 }, accepted))
  await db.query(`UPDATE deliveries SET status = 'delivered' WHERE id = $1`, [deliveryOf(ds[4] as AcceptDoc)])
  const items = ds.map((d, i) => ({
    id: deliveryOf(d), now: later,
    ageFrom: i === 2 ? later : longAgo,                                    // 2: expired
    createdAt: i === 1 ? undefined : i === 3 ? new Date(now.getTime() - 40 * 86_400_000) : now, // 1: month unknown; 3: another month
  }))
  const got = await startAttempts(db, items)
  t.same(got.map((a) => a !== undefined), [true, true, false, false, false, true], 'started: the pending ones of their month, not expired')
  for (const i of [0, 1, 5]) {
    const a = got[i]
    const d = ds[i] as AcceptDoc
    t.same(seen(a), { id: deliveryOf(d), attempts: 1, status: 'pending', updatedAt: later.toISOString(), exchange: d.exchange.id, messageId: d.exchange.messageId, receivedAt: now.toISOString(), sealed: `sealed ${d.exchange.messageId.slice(2)}` }, `item ${i}: its delivery, exchange and sealed message`)
  }
  t.same(await Promise.all(ds.map(attemptsOf)), [1, 1, 0, 0, 0, 1], 'only those were counted')
  // The same items alone, on the same rows: the same answers (a second attempt each).
  const alone = await Promise.all(items.map((x) => startAttempt(db, x.id, x.now, x.ageFrom, x.createdAt)))
  const again = await startAttempts(db, items)
  t.same(alone.map((a) => a?.delivery.attempts), [2, 2, undefined, undefined, undefined, 2], 'alone: the same deliveries start')
  t.same(again.map(seen), alone.map((a) => (a === undefined ? undefined : { ...(seen(a) as object), attempts: 3 })), 'a group again: the same answers, one attempt later')
  await t.rejects(startAttempts(db, Array.from({ length: MAX_DELIVERY_GROUP + 1 }, () => items[0] as (typeof items)[number])), RangeError)
})

t.test('a group leaves its connection committing synchronously', async (t) => {
  const one = openDb(DATABASE_URL, schema, 1)
  t.teardown(() => one.end())
  const d = await accepted()
  const got = await startAttempts(one, [{ id: deliveryOf(d), now: later, ageFrom: longAgo, createdAt: now }])
  t.equal(got[0]?.delivery.attempts, 1)
  t.equal((await one.query<{ s: string }>(`SELECT current_setting('synchronous_commit') AS s`)).rows[0]?.s, 'on', 'the next statement on the connection commits synchronously')
})

t.test('attempts that wait while one is out start together', async (t) => {
  const pool = openDb(DATABASE_URL, schema, 4)
  t.teardown(() => pool.end())
  const ds = await Promise.all(Array.from({ length: 6 }, accepted))
  const { calls, restore } = counting(pool)
  t.teardown(restore)
  const got = await Promise.all(ds.map((d) => beginAttempt(pool, deliveryOf(d), later, longAgo, now)))
  t.same(got.map((a) => a?.delivery.id), ds.map(deliveryOf), 'each caller gets its own delivery')
  t.same(got.map((a) => a?.exchange?.id), ds.map((d) => d.exchange.id), 'and its exchange')
  t.equal(calls.filter((q) => q.includes('tongban_start_attempts')).length, 1, 'the five that waited behind the first went as one group')
  t.equal(calls.length, 2, 'two statements for six attempts')
  t.same(await Promise.all(ds.map(attemptsOf)), [1, 1, 1, 1, 1, 1], 'each counted once')
})

t.test('a group unanswered within its limit is dropped with its connection; each attempt then starts alone', async (t) => {
  const pool = openDb(DATABASE_URL, schema, 4)
  t.teardown(() => pool.end())
  const ds = await Promise.all(Array.from({ length: 3 }, accepted))
  const { letGo } = await holding(db, t, 'SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE', [deliveryOf(ds[1] as AcceptDoc)])
  await pool.query('SELECT 1')
  t.equal(pool.totalCount, 1, 'the pool holds one connection')
  const items = ds.map((d) => ({ id: deliveryOf(d), now: later, ageFrom: longAgo, createdAt: now }))
  await t.rejects(startAttempts(pool, items, 300), /Query read timeout/, 'refused after its limit')
  await new Promise((r) => setImmediate(r))
  t.equal(pool.totalCount, 0, 'its connection is dropped, not returned to the pool')
  await letGo()
  const alone = await Promise.all(items.map((x) => startAttempt(pool, x.id, x.now, x.ageFrom, x.createdAt)))
  t.ok(alone.every((a) => a !== undefined), 'each starts alone')
  for (const [i, a] of alone.entries()) t.ok(a !== undefined && a.delivery.attempts >= 1 && a.delivery.attempts <= 2, `attempt ${i} counted once or, had the group gone on to commit, twice: never lost`)
})
