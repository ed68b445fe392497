import t from 'tap'
import { migrate, openDb } from '../../src/store/db.ts'
import { startAttempt } from '../../src/store/deliveries.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'

// A delivery attempt is one statement: it counts the attempt on a pending delivery that has not
// expired and reads its exchange and sealed message. Its commit does not wait for the disk, and
// that setting must stay with its own transaction: a pooled connection that kept it would commit
// the next acceptance without waiting for the disk too.
const schema = isolationName('attempt')
// One connection: every statement below runs on the connection the attempt used.
const db = openDb(DATABASE_URL, schema, 1)
t.teardown(async () => { await dropSchema(schema); await db.end() })
await migrate(db, schema)

const at = new Date('2026-11-20T08:00:00.123Z')
const EXCHANGE = '00000000-0000-7000-8000-0000000000e1'
const DELIVERY = '00000000-0000-7000-8000-0000000000d1'
await db.query(`INSERT INTO exchanges (id, sender, message_id, type, v, suite, request_digest, message_sealed, receipt, received_at)
                VALUES ($1, 'REG:231202', 'm-1', 'tax.assessment.request', 1, 'national', 'd', '\\x0102', 'r', $2)`, [EXCHANGE, at])
await db.query(`INSERT INTO deliveries (id, exchange_id, recipient, status, created_at, age_from, updated_at) VALUES ($1, $2, 'TAX:231202', 'pending', $3, $3, $3)`, [DELIVERY, EXCHANGE, at])
const syncCommit = async (): Promise<string> => (await db.query<{ s: string }>(`SELECT current_setting('synchronous_commit') AS s`)).rows[0]?.s ?? ''
const attempts = async (): Promise<number> => (await db.query<{ n: number }>(`SELECT attempts AS n FROM deliveries WHERE id = $1`, [DELIVERY])).rows[0]?.n ?? -1

t.test('an attempt counts, reads its exchange and message, and leaves the connection as it found it', async (t) => {
  t.equal(await syncCommit(), 'on', 'the connection commits synchronously to begin with')
  const now = new Date('2026-11-21T08:00:00Z')
  for (const [i, createdAt] of [at, undefined].entries()) {
    const a = await startAttempt(db, DELIVERY, now, new Date('2026-11-01T00:00:00Z'), createdAt)
    t.equal(a?.delivery.attempts, i + 1, `attempt ${i + 1} counted (${createdAt === undefined ? 'month unknown' : 'month known'})`)
    t.equal(a?.exchange?.id, EXCHANGE, 'with its exchange')
    t.equal(a?.exchange?.receivedAt.toISOString(), at.toISOString(), 'read whole')
    t.same(a?.sealed, Buffer.from([1, 2]), 'and its sealed message')
    t.equal(await syncCommit(), 'on', 'the next statement on the connection commits synchronously again')
  }
  t.equal(await attempts(), 2, 'both attempts are stored')
})

t.test('no attempt on an expired delivery, one of another month, or one not pending', async (t) => {
  const now = new Date('2026-11-21T08:00:00Z')
  t.equal(await startAttempt(db, DELIVERY, now, new Date(at.getTime() + 1)), undefined, 'its age counts from before the limit: expired')
  t.equal(await startAttempt(db, DELIVERY, now, new Date(0), new Date(at.getTime() + 1)), undefined, 'a time a millisecond off names no delivery')
  t.equal(await startAttempt(db, DELIVERY, now, new Date(0), new Date(at.getTime() - 40 * 86_400_000)), undefined, 'nor does another month')
  await db.query(`UPDATE deliveries SET status = 'delivered' WHERE id = $1`, [DELIVERY])
  t.equal(await startAttempt(db, DELIVERY, now, new Date(0), at), undefined, 'a delivered one is not attempted')
  t.equal(await attempts(), 2, 'nothing more was counted')
  t.equal(await syncCommit(), 'on', 'and the connection still commits synchronously')
})

t.test('with its month known, the attempt is a function planned once per connection, and its commit still does not wait', async (t) => {
  // (Migration 0017: sent as it was, the statement was planned again on every execution.)
  const config = (await db.query<{ c: string[] | null }>(`SELECT proconfig AS c FROM pg_proc WHERE proname = 'tongban_start_attempt' AND pronamespace = $1::regnamespace`, [schema])).rows[0]?.c
  t.same(config, ['plan_cache_mode=force_generic_plan'], 'its plan is generic: made once per connection, pruned to the month when it runs')
  const other = '00000000-0000-7000-8000-0000000000d2'
  await db.query(`INSERT INTO deliveries (id, exchange_id, recipient, status, created_at, age_from, updated_at) VALUES ($1, $2, 'HOU:231202', 'pending', $3, $3, $3)`, [other, EXCHANGE, at])
  const now = new Date('2026-11-21T08:00:00Z')
  const client = await db.connect()
  try {
    await client.query('BEGIN')
    const a = await startAttempt(client as unknown as typeof db, other, now, new Date(0), at)
    t.equal(a?.delivery.recipient, 'HOU:231202', 'the delivery asked for')
    t.equal(a?.delivery.attempts, 1, 'counted')
    t.same(a?.sealed, Buffer.from([1, 2]), 'with its sealed message')
    t.equal((await client.query<{ s: string }>(`SELECT current_setting('synchronous_commit') AS s`)).rows[0]?.s, 'off', 'its transaction commits without waiting for the disk (set after the function returned, so it lasts until the commit)')
    await client.query('ROLLBACK')
  } finally {
    client.release()
  }
  t.equal(await syncCommit(), 'on', 'and the connection commits synchronously again after it')
  for (let i = 1; i <= 8; i++) t.equal((await startAttempt(db, other, now, new Date(0), at))?.delivery.attempts, i, `attempt ${i} on the same connection, through the function's cached plan`)
})

t.test("an attempt reads its own exchange by key, however many the month holds and whatever the cached plan saw", async (t) => {
  // The attempt's plan is made once per connection, often when the tables are nearly empty (a
  // gateway's first deliveries). Joined to the updated delivery, the exchange was then read by a
  // scan of the month's exchanges (by received_at only, or sequentially) for every attempt after:
  // a cost growing with the month, found by sampling PostgreSQL in bench:e2e (docs/performance.md).
  const client = await db.connect()
  try {
    const one = '00000000-0000-7000-8000-0000000000d3'
    await client.query(`INSERT INTO deliveries (id, exchange_id, recipient, status, created_at, age_from, updated_at) VALUES ($1, $2, 'BNK:231202', 'pending', $3, $3, $3)`, [one, EXCHANGE, at])
    t.equal((await startAttempt(client as unknown as typeof db, one, at, new Date(0), at))?.exchange?.id, EXCHANGE, 'an attempt while the month holds one exchange (its plan cached now)')
    await client.query(`INSERT INTO exchanges (id, sender, message_id, type, v, suite, request_digest, message_sealed, receipt, received_at)
                        SELECT gen_random_uuid(), 'REG:231202', 'bulk-' || i, 'tax.assessment.request', 1, 'national', 'd', '\\x0102', 'r', $1::timestamptz - (i || ' ms')::interval
                          FROM generate_series(1, 3000) i`, [at])
    // Rows a scan returned from the exchanges' partitions, and entries from their indexes, so far in
    // this transaction (the counts are the backend's own until it reports them: read before and after).
    const returned = async (): Promise<number> => Number((await client.query<{ n: string }>(
      `SELECT sum(pg_stat_get_xact_tuples_returned(oid)) AS n FROM pg_class WHERE relname LIKE 'exchanges%' AND relnamespace = $1::regnamespace`, [schema])).rows[0]?.n)
    await client.query('BEGIN')
    const before = await returned()
    const a = await startAttempt(client as unknown as typeof db, one, at, new Date(0), at)
    const read = (await returned()) - before
    t.equal(a?.exchange?.id, EXCHANGE, 'the attempt after 3,000 more exchanges in the month reads its own')
    t.ok(read >= 1 && read <= 2, `it read ${read} exchange rows or index entries (its own, not the month's)`)
    await client.query('ROLLBACK')
  } finally {
    client.release()
  }
})
