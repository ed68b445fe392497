import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// The gateway process is killed with SIGKILL in the middle of a run (deliveries pending and in
// flight, requests arriving); after a restart every message that got a receipt is delivered.
// A client whose request was cut off retries with the same bytes, as the protocol intends.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'crash',
  subprocess: true,
  config: { delivery: { attempts: 50, backoffMs: 100, maxBackoffMs: 500, maxAgeSeconds: 3600, sweepIntervalMs: 500, sweepGraceMs: 1_000, concurrency: 4, lockMs: 1_500 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())

t.test('SIGKILL mid-run loses no accepted message', async (t) => {
  const tax = w.partner(TAX).server
  // Half the deliveries are slow, and the partner refuses some: work is pending and in flight.
  tax.behave((k) => (k % 3 === 0 ? 503 : { status: 200, delayMs: 150 }))
  const reg = w.client(REG)
  const request = validFixture('tax.assessment.request')
  const accepted = new Set<string>()
  const bodies: Array<{ id: string; body: string }> = []
  for (let i = 0; i < 40; i++) {
    const env = reg.envelope({ ...request.envelope, caseId: `231202-2026-${String(400 + i).padStart(6, '0')}` })
    bodies.push({ id: env.id, body: await reg.encrypt(await reg.sign(env)) })
  }

  const cut: string[] = []
  // The kill is triggered by progress, not by a timer: when the 26th message has its receipt,
  // with more requests in flight behind it.
  let killer: Promise<void> | undefined
  const sendOne = async ({ id, body }: { id: string; body: string }): Promise<void> => {
    try {
      await reg.sendRaw(body, id)
      accepted.add(id)
      if (accepted.size === 26) killer = w.killGateway()
    } catch {
      cut.push(id)
    }
  }

  // Twenty at once, then the rest four at a time: the gateway dies among them.
  await Promise.all(bodies.slice(0, 20).map(sendOne))
  const rest = bodies.slice(20)
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let b = rest.shift(); b !== undefined; b = rest.shift()) await sendOne(b)
  }))
  await killer
  t.ok(killer !== undefined, 'the gateway was killed mid-run')
  t.ok(accepted.size >= 26 && accepted.size < 40, `accepted before the kill: ${accepted.size} of 40`)
  t.ok(cut.length > 0, `requests cut off by the kill: ${cut.length}`)
  t.ok(tax.accepted.size < accepted.size, 'the kill came before everything was delivered')

  await w.spawn()
  // Retry, with the same bytes, what the kill cut off: an original receipt or a first one.
  for (const id of cut) {
    const b = bodies.find((x) => x.id === id)
    if (b === undefined) continue
    const r = await w.client(REG).sendRaw(b.body, id)
    t.ok(r.status === 200 || r.status === 202, `retry of a cut-off request: ${r.status}`)
    accepted.add(id)
  }
  t.equal(accepted.size, 40, 'every message ends up accepted')
  tax.behave(() => 200)
  await tax.waitFor(accepted.size, 30_000)
  t.same([...tax.accepted.keys()].sort(), [...accepted].sort(), 'every accepted message was delivered')
  t.same(await w.deliveryStatus(), [{ status: 'delivered', n: 40 }], 'one delivery row per message, all delivered')
  const dup = [...tax.accepted.values()].filter((n) => n > 1).length
  t.comment(`messages the partner saw more than once (deduplicated by Tongban-Message-Id): ${dup}`)
})

// Issue 8: the ledger after the kill. Each entry is written in the statement of its fact: no
// acceptance or settlement without its entry, no entry without its fact; and every entry
// written, before or after the kill, ends up in the tree at one index.
t.test('after SIGKILL: every fact has its entry and every entry its fact; none left out of the tree', async (t) => {
  const rows = async (sql: string): Promise<string[]> => (await w.db.query<{ id: string }>(sql)).rows.map((r) => r.id).sort()
  t.same(await rows(`SELECT (entry::jsonb ->> 'exchangeId') AS id FROM ledger_entries WHERE kind = 'message.accepted'`), await rows('SELECT id::text AS id FROM exchanges'), 'one message.accepted entry per accepted exchange, and no other')
  t.same(await rows(`SELECT (entry::jsonb ->> 'deliveryId') AS id FROM ledger_entries WHERE kind = 'delivery.settled'`), await rows(`SELECT id::text AS id FROM deliveries WHERE status = 'delivered'`), 'one delivery.settled per delivered delivery, and no other')
  const end = Date.now() + 15_000
  while ((await w.db.query(`SELECT 1 FROM ledger_entries WHERE leaf_index IS NULL`)).rowCount !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
  const idx = (await w.db.query<{ n: number; lo: number; hi: number; waiting: number }>(`SELECT count(*)::int AS n, min(leaf_index)::int AS lo, max(leaf_index)::int AS hi, count(*) FILTER (WHERE leaf_index IS NULL)::int AS waiting FROM ledger_entries`)).rows[0]
  t.same(idx, { n: idx?.n, lo: 0, hi: (idx?.n ?? 0) - 1, waiting: 0 }, `all ${idx?.n ?? 0} entries placed, at indices 0…n-1`)
})

t.test('the gateway logged no personal data', async (t) => w.checkLogs(t))
