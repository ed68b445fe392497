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
