/**
 * `npm run bench:pg`: PostgreSQL's own CPU per statement of a message's life, one statement at a
 * time, counted by the kernel for the very server processes that ran them (/proc/<pid>/stat of
 * each backend). The machine-wide benchmarks (bench:accept, bench:e2e) swing by a tenth or more
 * from run to run on this machine; one backend working alone, its ticks read before and after,
 * does not share its count with anything else, so a change to one statement shows.
 *
 * What runs (national suite, evidence ledger on, delivery workers off):
 *   - the acceptance: N messages sent one after another to the gateway (its own process); what
 *     its PostgreSQL backends spent (the acceptance statement, and the ledger's integrator placing
 *     the acceptances' entries), per message;
 *   - the attempt and the settlement of each of the N deliveries, as a delivery worker runs them
 *     (store/deliveries.ts startAttempt, markDelivered with its ledger entry and timeline event),
 *     on one connection of this process, one after another;
 *   - the gateway's integrator placing the settlements' entries meanwhile, per delivery;
 *   - in the same run, as references: a one-row INSERT committed synchronously (the cheapest
 *     durable write) and `SELECT 1` (a round trip), on the same connection;
 *   - the acceptance statement alone (store/accept.ts storeAcceptance, as the gateway writes a
 *     tax.assessment.request that opens a case, with its ledger entry), N times on one connection
 *     of a schema of its own: with its commit waiting for the disk, without (its execution
 *     alone), and without the ledger entry. `--variant FILE` runs an SQL file in that schema
 *     after the migrations first (a candidate tongban_accept, an index dropped…): run the
 *     benchmark with and without it to compare (docs/performance.md has one candidate's command).
 * Each cost is printed in ms and as a ratio to the one-row INSERT, then one JSON line.
 *
 *   --messages N   (default 1000) messages, so N deliveries
 *   --variant FILE SQL run in the acceptance statement's own schema before it is measured
 *
 * /proc counts in ticks of 10 ms: with N = 1000 a statement of 0.2 ms spends 20 ticks, so a
 * figure is good to about a tenth. Backends of other sessions on the same database are left
 * out (those that existed before the gateway started); run it on an otherwise idle machine.
 */
import { readFileSync } from 'node:fs'
import { randomBytes, randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { Pool } from 'undici'
import { World } from '../test/helpers/world.ts'
import { validFixture } from '../test/helpers/fixtures.ts'
import { DATABASE_URL, dropSchema, isolationName } from '../test/helpers/services.ts'
import { markDelivered, startAttempt, type Settle } from '../src/store/deliveries.ts'
import { migrate, openDb, type Db } from '../src/store/db.ts'
import { storeAcceptance, type AcceptDoc } from '../src/store/accept.ts'
import type { LedgerRecord } from '../src/store/ledger.ts'
import { processCpuMs as cpuMs } from './cpu.ts'

const { values } = parseArgs({ options: { messages: { type: 'string' }, variant: { type: 'string' } }, strict: true })
const N = Number(values.messages ?? 1000)
if (!Number.isInteger(N) || N < 100 || N > 20_000) throw new Error('--messages 100..20000')

const REG = 'REG:231202'
const TAX = 'TAX:231202'

/**
 * The acceptance statement alone, `n` times on one connection of a schema of its own (after `warm`
 * uncounted): PostgreSQL's CPU per acceptance, with the commit waiting for the disk or not, with
 * the ledger entry or not. The document is what the gateway writes for a tax.assessment.request
 * that opens a case (a sealed message of 2,822 bytes, one delivery, two timeline events, a step).
 */
async function acceptanceAlone(n: number, variant: string | undefined): Promise<{ syncMs: number; asyncMs: number; asyncNoEntryMs: number }> {
  const schema = isolationName('benchpgstmt')
  const db = openDb(DATABASE_URL, schema, 1)
  try {
    await migrate(db, schema)
    if (variant !== undefined) await db.query(readFileSync(variant, 'utf8'))
    const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    const start = Date.parse('2026-12-07T00:00:00Z')
    let i = 0
    const doc = (): AcceptDoc => {
      i++
      const at = new Date(start + i).toISOString()
      const caseId = `231202-2026-9${String(i).padStart(6, '0')}`
      const messageId = randomUUID()
      return {
        exchange: {
          id: randomUUID(), sender: REG, messageId, type: 'tax.assessment.request', v: 1, caseId, unitCode: '231202003004GB00012F00010001', suite: 'national',
          requestDigest: randomBytes(32).toString('hex'), messageSealed: randomBytes(2822).toString('base64'), receipt: randomBytes(424).toString('base64url'), receivedAt: at,
        },
        deliveries: [{ id: randomUUID(), recipient: TAX }],
        attachments: [],
        case: {
          caseId, unitCode: '231202003004GB00012F00010001', recipients: [TAX], mayCreate: true, mayJoin: false, involvesRecipients: true,
          events: [
            { event: 'message.accepted', actor: REG, detail: { type: 'tax.assessment.request', messageId, recipients: [TAX] } },
            { event: 'step.opened', actor: REG, detail: { kind: 'tax', responder: TAX } },
          ],
          openStep: { id: randomUUID(), kind: 'tax', requester: REG, responder: TAX, dueAt: new Date(start + 7 * 86_400_000).toISOString() },
          linkContract: { unitCode: '231202003004GB00012F00010001', contractNumber: 'CL2312022026004567', filingNumber: 'BA2312022026004567', housing: null },
        },
      }
    }
    const entry = (d: AcceptDoc): LedgerRecord => ({
      id: randomUUID(), kind: 'message.accepted', parties: [REG, TAX], at: new Date(d.exchange.receivedAt),
      entry: JSON.stringify({ exchangeId: d.exchange.id, messageId: d.exchange.messageId, type: d.exchange.type, sender: REG, recipients: [TAX], receiptDigest: randomBytes(32).toString('hex'), caseId: d.exchange.caseId }),
      caseId: d.exchange.caseId,
    })
    const run = async (count: number, withEntry: boolean): Promise<number> => {
      const docs = Array.from({ length: count }, doc)
      const entries = docs.map((d) => (withEntry ? entry(d) : undefined))
      const before = cpuMs(pid)
      for (let k = 0; k < count; k++) {
        const conflict = await storeAcceptance(db, docs[k]!, entries[k])
        if (conflict !== undefined) throw new Error(`acceptance refused: ${conflict}`)
      }
      return (cpuMs(pid) - before) / count
    }
    await run(200, true)
    const syncMs = await run(n, true)
    await db.query('SET synchronous_commit = off')
    const asyncMs = await run(n, true)
    const asyncNoEntryMs = await run(n, false)
    return { syncMs, asyncMs, asyncNoEntryMs }
  } finally {
    await db.end().catch(() => {})
    await dropSchema(schema)
  }
}

const admin = new pg.Client({ connectionString: DATABASE_URL })
await admin.connect()
const backends = async (): Promise<number[]> =>
  (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`)).rows.map((r) => r.pid)
const others = new Set(await backends())

const w = await World.start({
  label: 'benchpg', subprocess: true,
  config: { log: { level: 'warn' }, workers: false, quotas: { messagesPerMinute: 10_000_000 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'], noServer: true, suite: 'national' },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'], suite: 'national' },
  ],
})
const c = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${w.schema}` })
try {
  await c.connect()
  const me = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  others.add(me)
  const gateway = async (): Promise<Map<number, number>> => new Map((await backends()).filter((p) => !others.has(p)).map((p) => [p, cpuMs(p)]))
  const spentSince = (before: Map<number, number>, after: Map<number, number>): number => {
    let ms = 0
    for (const [p, t] of after) ms += t - (before.get(p) ?? 0)
    return ms
  }
  const settleWait = (): Promise<void> => new Promise((r) => setTimeout(r, 2_500)) // two integrator rounds (ledger.integrateMs 1 s)

  // The messages, built before anything is counted.
  const reg = w.client(REG)
  const token = await reg.token()
  const request = validFixture('tax.assessment.request')
  const bodies: string[] = []
  for (let i = 0; i < N + 100; i++) {
    const env = reg.envelope({ ...request.envelope, caseId: `231202-2026-7${String(i).padStart(6, '0')}` })
    bodies.push(await reg.encrypt(await reg.sign(env)))
  }
  const http = new Pool(w.url, { connections: 1 })
  const send = async (body: string): Promise<void> => {
    const res = await http.request({ method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/jose', authorization: `Bearer ${token}` }, body })
    await res.body.dump()
    if (res.statusCode !== 202) throw new Error(`POST /v1/messages: ${res.statusCode}`)
  }
  // 100 uncounted first: every connection of the gateway's pool has planned its statements.
  for (const body of bodies.slice(0, 100)) await send(body)
  await settleWait()
  const accept0 = await gateway()
  const acceptStarted = Date.now()
  for (const body of bodies.slice(100)) await send(body)
  const sendSeconds = (Date.now() - acceptStarted) / 1000
  await settleWait()
  // (The window counted: the sending and the integrator's last rounds.)
  const acceptSeconds = (Date.now() - acceptStarted) / 1000
  const acceptMs = spentSince(accept0, await gateway()) / N
  await http.close()
  // The gateway's PostgreSQL work with no message coming (its periodic tasks: the ledger's
  // integrator and checkpoints, deadlines, retention), per second: part of the acceptance's
  // figure above is this, spread over the messages of those seconds.
  const idle0 = await gateway()
  await new Promise((r) => setTimeout(r, 5_000))
  const idleMsPerSecond = spentSince(idle0, await gateway()) / 5

  // The deliveries, as a worker runs them.
  const deliveries = (await c.query<{ id: string; createdAt: Date; exchangeId: string; caseId: string }>(
    `SELECT d.id, d.created_at AS "createdAt", d.exchange_id AS "exchangeId", e.case_id AS "caseId"
       FROM deliveries d JOIN exchanges e ON e.id = d.exchange_id AND e.received_at = d.created_at WHERE d.status = 'pending' ORDER BY d.created_at`,
  )).rows
  const db = c as unknown as Db
  const ageFrom = new Date(Date.now() - 86_400_000)
  const warm = deliveries.slice(0, 100)
  const counted = deliveries.slice(100)
  const settle = (d: (typeof deliveries)[number]): Settle => ({
    createdAt: d.createdAt,
    entry: { id: randomUUID(), kind: 'delivery.settled', entry: JSON.stringify({ deliveryId: d.id, exchangeId: d.exchangeId, sender: REG, recipient: TAX, outcome: 'delivered', attempt: 1 }), parties: [REG, TAX], at: new Date(), caseId: d.caseId },
    event: { caseId: d.caseId, at: new Date(), event: 'delivery.delivered', exchangeId: d.exchangeId, deliveryId: d.id, detail: { attempt: 1, ms: 1 } },
  })
  for (const d of warm) {
    await startAttempt(db, d.id, new Date(), ageFrom, d.createdAt)
    await markDelivered(db, d.id, new Date(), settle(d))
  }
  await settleWait()
  const integrate0 = await gateway()
  let t = cpuMs(me)
  for (const d of counted) if ((await startAttempt(db, d.id, new Date(), ageFrom, d.createdAt)) === undefined) throw new Error(`no attempt for ${d.id}`)
  const attemptMs = (cpuMs(me) - t) / counted.length
  t = cpuMs(me)
  for (const d of counted) if (!(await markDelivered(db, d.id, new Date(), settle(d)))) throw new Error(`not settled: ${d.id}`)
  const settleMs = (cpuMs(me) - t) / counted.length
  await settleWait()
  const integrateMs = spentSince(integrate0, await gateway()) / counted.length

  // References, on the same connection.
  await c.query('CREATE TABLE bench_reference (id bigserial PRIMARY KEY, v text NOT NULL)')
  t = cpuMs(me)
  for (let i = 0; i < N; i++) await c.query({ name: 'bench-ref-insert', text: 'INSERT INTO bench_reference (v) VALUES ($1)', values: ['x'] })
  const insertMs = (cpuMs(me) - t) / N
  t = cpuMs(me)
  for (let i = 0; i < N; i++) await c.query({ name: 'bench-ref-select', text: 'SELECT 1' })
  const selectMs = (cpuMs(me) - t) / N
  const alone = await acceptanceAlone(N, values.variant)

  const rows: Array<[string, number]> = [
    ['acceptance (statement, with its entry placed by the integrator)', acceptMs],
    [`  of which the gateway's periodic work (${idleMsPerSecond.toFixed(1)} ms/s idle, ${(N / sendSeconds).toFixed(0)} messages/s sent)`, (idleMsPerSecond * acceptSeconds) / N],
    ['attempt (count it, read exchange and sealed message)', attemptMs],
    ['settlement (delivered, ledger entry, timeline event)', settleMs],
    ["the integrator placing the settlement's entry", integrateMs],
    [`acceptance statement alone${values.variant === undefined ? '' : ' (with --variant)'}, one connection`, alone.syncMs],
    ['  the same, its commit not waited for (execution)', alone.asyncMs],
    ['  the same, without the ledger entry', alone.asyncNoEntryMs],
    ['reference: one-row INSERT, synchronous commit', insertMs],
    ['reference: SELECT 1', selectMs],
  ]
  console.log(`PostgreSQL CPU per statement (national suite, ${N} messages one after another, ledger on; /proc ticks of the backends that ran them)\n`)
  console.log(`${'statement'.padEnd(66)} ${'ms'.padStart(6)} ${'× INSERT'.padStart(9)}`)
  for (const [what, ms] of rows) console.log(`${what.padEnd(66)} ${ms.toFixed(3).padStart(6)} ${(ms / insertMs).toFixed(1).padStart(9)}`)
  const perMessage = acceptMs + attemptMs + settleMs + integrateMs
  console.log(`\na message from acceptance to delivery: ${perMessage.toFixed(2)} ms of PostgreSQL CPU (${(perMessage / insertMs).toFixed(1)} one-row INSERTs)`)
  const r3 = (x: number): number => Math.round(x * 1000) / 1000
  console.log(JSON.stringify({ messages: N, acceptMs: r3(acceptMs), idleMsPerSecond: r3(idleMsPerSecond), attemptMs: r3(attemptMs), settleMs: r3(settleMs), integrateSettledMs: r3(integrateMs), acceptAloneMs: r3(alone.syncMs), acceptAloneAsyncMs: r3(alone.asyncMs), acceptAloneAsyncNoEntryMs: r3(alone.asyncNoEntryMs), ...(values.variant === undefined ? {} : { variant: values.variant }), insertMs: r3(insertMs), selectMs: r3(selectMs), perMessageMs: r3(perMessage), perMessageInInserts: Math.round((perMessage / insertMs) * 10) / 10 }))
} finally {
  await c.end().catch(() => {})
  await admin.end().catch(() => {})
  await w.close()
}
