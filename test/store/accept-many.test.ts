import t from 'tap'
import { randomUUID } from 'node:crypto'
import { migrate, openDb, type Db } from '../../src/store/db.ts'
import { MAX_GROUP, storeAcceptance, storeAcceptances, type AcceptDoc } from '../../src/store/accept.ts'
import { ensureMonths } from '../../src/store/retention.ts'
import type { LedgerRecord } from '../../src/store/ledger.ts'
import { ALONE } from '../../src/store/group.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../helpers/services.ts'

// Acceptances in groups (migration 0024): what waits while an acceptance is being written goes
// together, in one statement and one commit, each item in its own subtransaction. Each item gets
// the outcome it would have got alone, and an item refused leaves nothing behind.
const schema = isolationName('acceptmany')
const db = openDb(DATABASE_URL, schema, 4)
t.teardown(async () => { await dropSchema(schema); await db.end() })
await migrate(db, schema)
const now = new Date()
await ensureMonths(db, [now])

const SENDER = 'REG:231202'
let n = 0
const doc = (over: { messageId?: string; caseId?: string; mayCreate?: boolean; attachments?: string[]; sender?: string } = {}): AcceptDoc => {
  n++
  const caseId = over.caseId
  return {
    exchange: {
      id: randomUUID(), sender: over.sender ?? SENDER, messageId: over.messageId ?? `m-${n}`, type: 'tax.assessment.request', v: 1,
      caseId: caseId ?? null, unitCode: caseId === undefined ? null : '231202001001GB00001F00010001', suite: 'national', requestDigest: `d-${n}`,
      messageSealed: Buffer.from(`sealed ${n}`).toString('base64'), receipt: `receipt ${n}`, receivedAt: now.toISOString(),
    },
    deliveries: [{ id: randomUUID(), recipient: 'TAX:231202' }],
    attachments: over.attachments ?? [],
    ...(caseId === undefined ? {} : {
      case: {
        caseId, unitCode: '231202001001GB00001F00010001', mayCreate: over.mayCreate ?? true, involvesRecipients: true, mayJoin: false,
        recipients: ['TAX:231202'], events: [{ event: 'message.accepted', actor: SENDER, detail: { n } }],
      },
    }),
  }
}
const entry = (d: AcceptDoc): LedgerRecord => ({
  id: randomUUID(), kind: 'message.accepted', entry: JSON.stringify({ exchangeId: d.exchange.id, note: '税 ✓' }),
  parties: [d.exchange.sender, 'TAX:231202'], at: new Date(now.getTime() + 1), caseId: d.case?.caseId ?? null,
})
const written = async (d: AcceptDoc): Promise<boolean> => (await db.query('SELECT 1 FROM exchanges WHERE id = $1', [d.exchange.id])).rowCount === 1
const entryOf = async (id: string): Promise<{ entry: string; parties: string[]; created_at: Date; case_id: string | null } | undefined> =>
  (await db.query<{ entry: string; parties: string[]; created_at: Date; case_id: string | null }>('SELECT entry, parties, created_at, case_id FROM ledger_entries WHERE id = $1', [id])).rows[0]
const attachment = async (): Promise<string> => {
  const id = randomUUID()
  await db.query(`INSERT INTO attachments (id, owner, status, media_type, digest_alg, digest, size, created_at) VALUES ($1, $2, 'complete', 'application/pdf', 'SM3', $3, 10, $4)`, [id, SENDER, '0'.repeat(64), now])
  return id
}

t.test('a group: each item gets its own outcome, and a refused item leaves nothing', async (t) => {
  const first = doc({ messageId: 'repeated' })
  t.same(await storeAcceptances(db, [{ doc: first }]), [undefined], 'a group of one is written')
  t.ok(await written(first))
  const att = await attachment()
  const items = [
    doc({ caseId: '231202-2026-000001' }),                              // opens its case
    doc({ messageId: 'repeated' }),                                       // a repeat of a committed message
    doc({ caseId: '231202-2026-000002', mayCreate: false }),              // no such case for this sender
    doc({ attachments: [randomUUID()] }),                                 // names an attachment that does not exist
    doc({ messageId: 'twice' }),
    doc({ messageId: 'twice' }),                                          // the same message twice in one group
    doc({ attachments: [att] }),
  ]
  const entries = items.map(entry)
  const outcomes = await storeAcceptances(db, items.map((d, i) => ({ doc: d, entry: entries[i] })))
  t.same(outcomes, [undefined, 'repeat', 'not-a-participant', 'attachment-gone', undefined, 'repeat', undefined], 'in the items\' order')
  const stored = await Promise.all(items.map(written))
  t.same(stored, [true, false, false, false, true, false, true], 'only the accepted items\' exchanges are stored')
  const ledger = await Promise.all(entries.map((e) => entryOf(e.id)))
  t.same(ledger.map((e) => e !== undefined), stored, 'and their ledger entries, no others')
  const e0 = ledger[0]
  t.equal(e0?.entry, entries[0]?.entry, 'an entry\'s bytes as given')
  t.same(e0?.parties, entries[0]?.parties, 'its parties')
  t.equal(e0?.created_at.toISOString(), entries[0]?.at.toISOString(), 'its time, to the millisecond')
  t.equal(e0?.case_id, '231202-2026-000001', 'its case')
  t.equal((await db.query('SELECT 1 FROM cases WHERE case_id = $1', ['231202-2026-000001'])).rowCount, 1, 'the case was opened')
  t.equal((await db.query('SELECT 1 FROM cases WHERE case_id = $1', ['231202-2026-000002'])).rowCount, 0, 'a refused item opened nothing')
  t.equal((await db.query('SELECT 1 FROM exchange_attachments WHERE attachment_id = $1', [att])).rowCount, 1, 'the attachment named is linked')
  t.equal((await db.query('SELECT count(*)::int AS n FROM deliveries WHERE exchange_id = ANY($1::uuid[])', [items.map((d) => d.exchange.id)])).rows[0]?.n, 3, 'one delivery per accepted item')
  await t.rejects(storeAcceptances(db, Array.from({ length: MAX_GROUP + 1 }, () => ({ doc: doc() }))), RangeError, `at most ${MAX_GROUP} in a group`)
})

/** The pool's statements, counted by their text (the pool is real; only its calls are counted). */
const counting = (pool: Db): { calls: string[]; restore: () => void } => {
  const calls: string[] = []
  const query = pool.query.bind(pool)
  const spy = ((q: unknown, ...rest: unknown[]) => {
    calls.push(typeof q === 'string' ? q : String((q as { text?: string }).text))
    return (query as (...a: unknown[]) => unknown)(q, ...rest)
  }) as typeof pool.query
  pool.query = spy
  return { calls, restore: () => { pool.query = query } }
}

t.test('acceptances that wait while one is written go together, and each resolves to its own outcome', async (t) => {
  const pool = openDb(DATABASE_URL, schema, 4)
  t.teardown(() => pool.end())
  const { calls, restore } = counting(pool)
  t.teardown(restore)
  const docs = Array.from({ length: 6 }, (_, i) => doc(i === 3 ? { caseId: '231202-2026-000009', mayCreate: false } : {}))
  const outcomes = await Promise.all(docs.map((d) => storeAcceptance(pool, d, entry(d))))
  t.same(outcomes, [undefined, undefined, undefined, 'not-a-participant', undefined, undefined])
  const groups = calls.filter((c) => c.includes('tongban_accept_many')).length
  t.equal(groups, 1, 'the five that waited behind the first went as one group')
  t.equal(calls.length, 2, 'two statements for six acceptances')
  t.same(await Promise.all(docs.map(written)), [true, true, true, false, true, true])
})

t.test('a group PostgreSQL refuses whole is written item by item: the others are accepted, the bad one gets its own error', async (t) => {
  const pool = openDb(DATABASE_URL, schema, 4)
  t.teardown(() => pool.end())
  const { calls, restore } = counting(pool)
  t.teardown(restore)
  const docs = Array.from({ length: 4 }, () => doc())
  // A NUL that jsonb cannot hold: the group's parameter is refused as a whole (22P05).
  const bad = { ...docs[2] as AcceptDoc, exchange: { ...(docs[2] as AcceptDoc).exchange, receipt: 'nul \u0000' } }
  docs[2] = bad
  const results = await Promise.allSettled(docs.map((d) => storeAcceptance(pool, d)))
  t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
  t.equal(((results[2] as PromiseRejectedResult).reason as { code?: string }).code, '22P05', 'the bad item\'s own error')
  t.same(await Promise.all(docs.map(written)), [true, true, false, true])
  t.ok(calls.some((c) => c.includes('tongban_accept_many')), 'a group was tried')
})

t.test('an item refused in a group for a reason that is not a conflict is written alone, where its error is raised', async (t) => {
  const pool = openDb(DATABASE_URL, schema, 4)
  t.teardown(() => pool.end())
  const docs = Array.from({ length: 4 }, () => doc())
  const broken = { ...docs[1] as AcceptDoc, deliveries: [{ id: 'not-a-uuid', recipient: 'TAX:231202' }] }
  docs[1] = broken
  const outcomes = await storeAcceptances(db, docs.slice(1).map((d) => ({ doc: d })))
  t.same(outcomes, [ALONE, undefined, undefined], 'in a group: to be written alone')
  const results = await Promise.allSettled([doc(), broken, doc()].map((d) => storeAcceptance(pool, d)))
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.equal(((results[1] as PromiseRejectedResult).reason as { code?: string }).code, '22P02', 'alone, its own error')
  t.notOk(await written(broken))
})
