import t from 'tap'
import { randomBytes } from 'node:crypto'
import { TestClock } from '../helpers/clock.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { until } from '../helpers/wait.ts'
import { retentionWorld, TAX } from '../helpers/retention-world.ts'

// Issue 10 §2 with issue 9 §7: an attachment lives as long as the body of a message naming it;
// one no message names (any more) and an upload never finished go attachments.keepUnreferencedHours
// after the upload began. Nothing a pending delivery's recipient still has to fetch is deleted.
const HOUR = 3_600_000
const DAY = 24 * HOUR
const clock = new TestClock(new Date('2026-11-02T02:00:00Z'))
const { w, reg, tax, delivery } = await retentionWorld('attretain', clock, { purgeAfterDays: 30, keepMonths: 0 }, 500)
t.teardown(() => w.close())
const retention = w.app.tb.retention
const request = validFixture('tax.assessment.request')
const exists = async (id: string): Promise<boolean> => (await w.db.query('SELECT 1 FROM attachments WHERE id = $1', [id])).rowCount === 1
const fetchAs = async (id: string): Promise<number> => (await w.client(TAX).http('GET', `/v1/attachments/${id}`)).status

let n = 900
const sendWith = async (ref: Awaited<ReturnType<typeof reg.uploadAttachment>>) =>
  reg.send({ ...request.envelope, caseId: `231202-2026-000${n++}`, attachments: [ref] })

tax.behave(() => 200)
const delivered = await reg.uploadAttachment(randomBytes(1000), 'application/pdf')
const deliveredSent = await sendWith(delivered)
await until('delivered', async () => (await delivery(deliveredSent.exchangeId)).status === 'delivered')
tax.behave(() => 503)
const pending = await reg.uploadAttachment(randomBytes(1000), 'image/jpeg')
const pendingSent = await sendWith(pending)
await until('attempted', async () => (await delivery(pendingSent.exchangeId)).attempts >= 1)
const unnamed = await reg.uploadAttachment(randomBytes(1000), 'image/png')
// An upload cut off half-way: its row stays 'uploading' (as after a crash of the gateway).
const cutOff = crypto.randomUUID()
await w.db.query(`INSERT INTO attachments (id, owner, status, media_type, digest_alg, digest, size, created_at) VALUES ($1, 'REG:231202', 'uploading', 'application/pdf', 'SM3', $2, 10, $3)`, [cutOff, '0'.repeat(64), clock.now()])

t.test('within keepUnreferencedHours, nothing goes', async (t) => {
  clock.advance(23 * HOUR)
  t.equal(await retention.purgeAttachments(), 0)
})

t.test('after it, the upload no message names and the unfinished one go; the named ones stay', async (t) => {
  clock.advance(2 * HOUR)
  t.equal(await retention.purgeAttachments(), 2)
  t.notOk(await exists(unnamed.id), 'the upload never named is gone')
  t.notOk(await exists(cutOff), 'the unfinished upload is gone')
  t.equal((await w.db.query('SELECT count(*)::int AS n FROM attachment_records WHERE attachment_id = $1', [unnamed.id])).rows[0].n, 0, 'its records with it')
  t.ok(await exists(delivered.id))
  t.equal(await fetchAs(pending.id), 200, 'the recipient of the pending delivery can still fetch its file')
})

t.test('once the message\'s body is purged, its attachment goes; a pending one\'s stays', async (t) => {
  clock.advance(31 * DAY)
  const round = await retention.maintain()
  t.equal(round.purged, 1, 'the delivered message\'s body')
  t.equal(round.attachmentsPurged, 1, 'and then its attachment')
  t.notOk(await exists(delivered.id))
  t.equal(await fetchAs(delivered.id), 404)
  t.ok(await exists(pending.id), 'the pending delivery\'s attachment is kept, however old')
  tax.behave(() => 200)
  await until('the pending one delivered', async () => (await delivery(pendingSent.exchangeId)).status === 'delivered', 30_000)
  const parts: Buffer[] = []
  for await (const p of w.client(TAX).downloadAttachment(pending)) parts.push(p)
  t.equal(Buffer.concat(parts).length, 1000, 'and it is still whole when the partner comes back')
})
