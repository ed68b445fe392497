import t from 'tap'
import { randomUUID } from 'node:crypto'
import { migrate, openDb } from '../../src/store/db.ts'
import { purgeAttachments, purgeAttachmentsIn, queueUnnamed } from '../../src/store/attachments.ts'
import { dropMonth, ensureMonths } from '../../src/store/retention.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'
import { rowsRead } from '../helpers/reads.ts'

// The hourly attachment purge (migration 0023): an attachment is examined once as it comes of
// age, and again once a message stops naming it, never every old one still named. 20,000 old
// attachments that messages name lie beside the few that go; after the first purge has passed
// them, a purge reads about as many rows as it has to examine.
const schema = isolationName('attpurge')
const db = openDb(DATABASE_URL, schema, 2)
t.teardown(async () => { await dropSchema(schema); await db.end() })
await migrate(db, schema)

const N = 20_000
const HOUR = 3_600_000
const now = new Date('2026-11-30T12:00:00Z')
const ago = (hours: number): Date => new Date(now.getTime() - hours * HOUR)
const attach = async (at: Date, status = 'complete'): Promise<string> => {
  const id = randomUUID()
  await db.query(`INSERT INTO attachments (id, owner, status, media_type, digest_alg, digest, size, created_at) VALUES ($1, 'REG:231202', $2, 'application/pdf', 'SM3', $3, 10, $4)`, [id, status, '0'.repeat(64), at])
  return id
}
const name = async (id: string): Promise<void> => { await db.query('INSERT INTO exchange_attachments (exchange_id, attachment_id, received_at) VALUES ($1, $2, $3)', [randomUUID(), id, now]) }
// As the body purge and a dropped month do it (store/retention.ts): the names go, the attachments are queued.
const unname = async (id: string): Promise<void> => {
  await db.query(`WITH unlinked AS (DELETE FROM exchange_attachments WHERE attachment_id = $1 RETURNING attachment_id) ${queueUnnamed('unlinked', '$2')}`, [id, now])
}
const exists = async (id: string): Promise<boolean> => (await db.query('SELECT 1 FROM attachments WHERE id = $1', [id])).rowCount === 1
const purge = async (before: Date): Promise<number> => {
  let total = 0
  for (;;) {
    const { purged, more } = await purgeAttachments(db, before, 1_000)
    total += purged
    if (!more) return total
  }
}

await db.query(`INSERT INTO attachments (id, owner, status, media_type, digest_alg, digest, size, created_at)
  SELECT gen_random_uuid(), 'REG:231202', 'complete', 'application/pdf', 'SM3', repeat('0', 64), 10, $1::timestamptz - i * interval '1 minute'
    FROM generate_series(1, $2::int) i`, [ago(48), N])
await db.query(`INSERT INTO exchange_attachments (exchange_id, attachment_id, received_at) SELECT gen_random_uuid(), id, created_at FROM attachments`)
const neverNamed = await attach(ago(30))
const cutOff = await attach(ago(30), 'uploading')
const named = await attach(ago(30))
await name(named)
const young = await attach(ago(1))
const youngNamed = await attach(ago(2))
await name(youngNamed)
await db.query('ANALYZE')
const before = ago(24)

t.test('the first purge examines every attachment come of age, once', async (t) => {
  t.equal(await purge(before), 2, 'the one never named and the unfinished upload')
  t.notOk(await exists(neverNamed))
  t.notOk(await exists(cutOff))
  t.ok(await exists(named), 'a named one stays')
  t.ok(await exists(young), 'a young one stays')
})

t.test('the next purge reads none of the named ones again', async (t) => {
  const { value, read } = await rowsRead(db, schema, (c) => purgeAttachmentsIn(c, before, 1_000))
  t.same(value, { purged: 0, more: false })
  t.ok(read < 20, `read ${read} rows and index entries, not the ${N} named attachments`)
})

t.test('one a message stops naming goes at the next purge', async (t) => {
  await unname(named)
  const { value, read } = await rowsRead(db, schema, (c) => purgeAttachmentsIn(c, before, 1_000))
  t.same(value, { purged: 1, more: false }, 'the one unnamed')
  t.ok(read < 30, `read ${read} rows and index entries`)
  t.equal(await purge(before), 1)
  t.notOk(await exists(named))
  t.equal((await db.query('SELECT count(*)::int AS n FROM attachments_unnamed')).rows[0].n, 0, 'and leaves nothing queued')
})

t.test('one named again before the purge stays', async (t) => {
  const [again] = (await db.query<{ id: string }>('SELECT attachment_id AS id FROM exchange_attachments LIMIT 1')).rows
  if (again === undefined) throw new Error('no named attachment')
  await unname(again.id)
  await name(again.id)
  t.equal(await purge(before), 0)
  t.ok(await exists(again.id))
})

t.test('a young one unnamed waits until it comes of age', async (t) => {
  await unname(youngNamed)
  t.equal(await purge(before), 0, 'not yet: younger than keepUnreferencedHours')
  t.ok(await exists(youngNamed))
  t.equal(await purge(now), 2, 'of age: it and the young one never named')
  t.notOk(await exists(youngNamed))
  t.notOk(await exists(young))
})

t.test("one named by a dropped month's message goes at the next purge", async (t) => {
  const october = new Date('2026-10-15T00:00:00Z')
  await ensureMonths(db, [october])
  const old = await attach(ago(40 * 24))
  await db.query('INSERT INTO exchange_attachments (exchange_id, attachment_id, received_at) VALUES ($1, $2, $3)', [randomUUID(), old, october])
  t.equal(await purge(before), 0, 'named: it stays')
  t.equal(await dropMonth(db, '2026_10'), 'dropped')
  t.equal(await purge(before), 1, 'its name gone with the month: it goes')
  t.notOk(await exists(old))
})

t.test('two purges at once examine each attachment once', async (t) => {
  const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => attach(new Date(now.getTime() + i * 1_000))))
  const later = new Date(now.getTime() + HOUR)
  const [a, b] = await Promise.all([purgeAttachments(db, later, 20), purgeAttachments(db, later, 20)])
  t.equal((a?.purged ?? 0) + (b?.purged ?? 0), 40, 'forty between them, none twice')
  t.equal(await purge(later), 10, 'the last ten next')
  t.same((await Promise.all(ids.map(exists))).filter((x) => x), [], 'all fifty gone')
  t.equal(await purge(later), 0)
})
