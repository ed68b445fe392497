/**
 * `npm run chaos`: many instances, one truth (issue 9). Two `tongban serve` processes and one
 * `tongban worker` share a PostgreSQL cluster and a redis-server of this run's own (so both can
 * be broken without touching anyone else's). A registration centre sends tax.assessment.request
 * messages open loop, spread over both instances. The tax bureau's endpoint (on loopback) opens
 * each delivery with the SDK, and answers 503 at random and late at random. Faults come as the
 * run progresses:
 *
 *   10%  SIGKILL serve-1, restarted a second later
 *   20%  FLUSHALL on Redis (every queue, nonce, limit and circuit gone)
 *   30%  SIGKILL the worker, restarted a second later
 *   40%  PostgreSQL stopped the way a crash stops it, restarted 3 s later (503 meanwhile)
 *   55%  the partner down for --outage seconds: every connection to it reset
 *   80%  SIGKILL serve-2, restarted a second later
 *
 * The sender does what the protocol tells a client to do: it repeats the same bytes after a 503,
 * a 5xx or a network error, on either instance, until it has a receipt. At the end it waits for
 * every receipted message to arrive, then counts:
 * - lost: receipted, never delivered;
 * - doubleEffects: one message that became two exchanges (two exchange ids at the partner, in
 *   the receipts or in PostgreSQL);
 * - duplicatesDelivered: one exchange delivered more than once (allowed: partners drop repeats
 *   by exchange id; counted to see how often).
 * During the partner's outage it counts the connections the partner refused. The delivery
 * circuit bounds them by its probe rate, not by the number of deliveries waiting.
 *
 * Prints progress to stderr and one JSON line to stdout; exits 1 if anything was lost or doubled.
 *
 *   --messages N   messages sent (default 10000)
 *   --rate R       messages offered a second (default 100)
 *   --outage S     the partner's outage in seconds (default 30)
 *   --no-circuit   the delivery circuit off (delivery.circuitFailures 0), for comparison
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { Pool } from 'undici'
import { PartnerInbox } from '../src/client/index.ts'
import { validFixture } from '../test/helpers/fixtures.ts'
import { OwnPostgres } from '../test/helpers/own-postgres.ts'
import { OwnRedis, freePort } from '../test/helpers/redis-server.ts'
import { tongbanCommand } from '../test/helpers/subprocess.ts'
import { World } from '../test/helpers/world.ts'
import { adopt } from '../test/helpers/children.ts'

const { values } = parseArgs({ options: { messages: { type: 'string' }, rate: { type: 'string' }, outage: { type: 'string' }, 'no-circuit': { type: 'boolean' } }, strict: true })
const N = Number(values.messages ?? 10_000)
const RATE = Number(values.rate ?? 100)
const OUTAGE_S = Number(values.outage ?? 30)
if (!Number.isInteger(N) || N < 100 || N > 100_000) throw new Error('--messages 100..100000')
if (!(RATE >= 1 && RATE <= 2_000)) throw new Error('--rate 1..2000')
if (!(OUTAGE_S >= 1 && OUTAGE_S <= 600)) throw new Error('--outage 1..600 seconds')

const started = performance.now()
const since = (): string => `${((performance.now() - started) / 1000).toFixed(1)}s`
const say = (line: string): void => { process.stderr.write(`[chaos ${since()}] ${line}\n`) }
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Starts a process as a supervisor would (systemd, Compose's restart policy): a gateway that
 * cannot start (PostgreSQL down at that moment: it exits) is started again a second later.
 */
async function supervised(name: string, start: () => Promise<void>): Promise<number> {
  const end = Date.now() + 120_000
  for (let tries = 1; ; tries++) {
    try {
      await start()
      return tries
    } catch (err) {
      if (Date.now() > end) throw err
      say(`${name} did not start (${(err as Error).message.split('\n')[0]}): again in 1 s`)
      await sleep(1_000)
    }
  }
}

// A seeded generator: the partner's random faults are the same in every run of the same size.
let seed = 0x2026_1206
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fff_ffff
  return seed / 0x8000_0000
}

/** The tax bureau's endpoint: opens every delivery with the SDK; random 503s and delays; down on demand. */
class ChaosPartner {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  inbox: PartnerInbox | undefined
  url = ''
  down = false
  /** Connections reset while down: each is one failed delivery attempt. */
  refusedWhileDown = 0
  /** Message id → the exchange ids it arrived as. */
  readonly exchangesOf = new Map<string, Set<string>>()
  /** Exchange id → how many times it was answered 200. */
  readonly answered = new Map<string, number>()
  readonly firstArrival = new Map<string, number>()
  unreadable = 0
  inFlight = 0
  mostInFlight = 0

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        void (async () => {
          this.inFlight++
          this.mostInFlight = Math.max(this.mostInFlight, this.inFlight)
          try {
            const r = random()
            if (r < 0.01) await sleep(1_000)
            else await sleep(Math.floor(r * 30))
            if (random() < 0.03) return void res.writeHead(503).end()
            let exchangeId: string
            let messageId: string
            try {
              const d = await this.inbox!.open(Buffer.concat(chunks).toString('latin1'), String(req.headers['tongban-delivery'] ?? ''))
              exchangeId = d.statement.exchangeId ?? ''
              messageId = d.envelope.id
            } catch {
              // Never a 4xx: that would be final (a dead letter), and this is the partner's fault.
              this.unreadable++
              return void res.writeHead(503).end()
            }
            let set = this.exchangesOf.get(messageId)
            if (set === undefined) this.exchangesOf.set(messageId, set = new Set())
            set.add(exchangeId)
            this.answered.set(exchangeId, (this.answered.get(exchangeId) ?? 0) + 1)
            if (!this.firstArrival.has(messageId)) this.firstArrival.set(messageId, performance.now())
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
          } finally {
            this.inFlight--
          }
        })()
      })
    })
    this.#server.on('connection', (socket) => {
      if (this.down) {
        this.refusedWhileDown++
        socket.destroy()
        return
      }
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
    })
  }

  /** Down: every open connection is cut, every new one reset. Up: connections accepted again. */
  setDown(down: boolean): void {
    this.down = down
    if (!down) return
    // The attempts cut in the middle failed too.
    this.refusedWhileDown += this.inFlight
    for (const s of this.#sockets) s.destroy()
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/tongban/inbox`
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((r) => this.#server.close(() => r()))
  }
}

/** A `tongban` process of the run's own (serve-2, the worker), killable and restartable. */
class Proc {
  readonly name: string
  readonly #args: string[]
  readonly #port: number | undefined
  #child: ChildProcess | undefined
  #stderr = ''

  constructor(name: string, args: string[], port?: number) {
    this.name = name
    this.#args = args
    this.#port = port
  }

  async start(): Promise<void> {
    const [cmd, argv] = tongbanCommand(this.#args)
    this.#stderr = ''
    const child = adopt(spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } }))
    child.stderr?.on('data', (c: Buffer) => { this.#stderr += c.toString() })
    this.#child = child
    const end = Date.now() + 60_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited (${child.exitCode}): ${this.#stderr}`)
      if (this.#port === undefined) {
        // A worker has no API to ask: alive after the time a start takes is enough.
        await sleep(2_000)
        if (child.exitCode === null) return
      } else if (await fetch(`http://127.0.0.1:${this.#port}/readyz`).then((r) => r.status === 200, () => false)) {
        return
      }
      if (Date.now() > end) throw new Error(`${this.name} did not become ready: ${this.#stderr}`)
      await sleep(100)
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.#child
    this.#child = undefined
    if (c === undefined || c.exitCode !== null) return
    await new Promise<void>((r) => { c.once('exit', () => r()); c.kill(signal) })
  }
}

const REG = 'REG:231202'
const TAX = 'TAX:231202'
// --no-circuit: the delivery circuit off, to see what it saves during the outage.
const CIRCUIT = { circuitFailures: values['no-circuit'] === true ? 0 : 5, circuitOpenMs: 5_000 }
const CONCURRENCY = 8

const postgres = await OwnPostgres.start()
const redis = await OwnRedis.start()
const partner = new ChaosPartner()
await partner.start()
say(`PostgreSQL (own cluster) on ${postgres.port}, Redis (own server) on ${redis.port}, the partner on ${partner.url}`)

// Nothing of this run's own outlives it, even when the gateway cannot start.
const w = await World.start({
  label: 'chaos', subprocess: true, redisUrl: redis.url,
  config: {
    databaseUrl: postgres.url,
    log: { level: 'info' },
    quotas: { messagesPerMinute: 10_000_000, queriesPerMinute: 120, queriesInFlight: 4 },
    // Retries come fast and many (faults are many and short); the sweeper finds what Redis lost within seconds.
    delivery: { attempts: 200, backoffMs: 500, maxBackoffMs: 5_000, maxAgeSeconds: 86_400, sweepIntervalMs: 2_000, sweepGraceMs: 3_000, concurrency: CONCURRENCY, lockMs: 5_000, ...CIRCUIT },
  },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'], noServer: true },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'], endpoint: partner.url },
  ],
}).catch(async (err: unknown) => {
  await partner.stop()
  await redis.down()
  await postgres.destroy()
  throw err
})
const published = await w.client(TAX).directory()
partner.inbox = new PartnerInbox(w.partner(TAX).encryptionKey, async () => published, TAX)
const configFile = join(w.dir, 'config.json')
const port2 = await freePort()
const serve2 = new Proc('serve-2', ['serve', '--config', configFile, '--port', String(port2)], port2)
const worker = new Proc('worker', ['worker', '--config', configFile])
const db = new pg.Pool({ connectionString: postgres.url, max: 2, options: `-c search_path=${w.schema}` })
db.on('error', () => {})

const result = await (async () => {
  try {
    await serve2.start()
    await worker.start()
    const urls = [w.url, `http://127.0.0.1:${port2}`]
    say(`serve-1 ${urls[0]}, serve-2 ${urls[1]}, a worker; ${N} messages at ${RATE}/s`)

    // Tokens: renewed by the SDK before they expire, and at once after a 401 (Redis lost the token's record).
    let token = await w.client(REG).token()
    const renew = async (): Promise<void> => {
      const r = await w.client(REG).http('POST', '/v1/token', await w.client(REG).tokenRequest(), { auth: false }).catch(() => undefined)
      const t = (r?.json as { access_token?: string } | undefined)?.access_token
      if (r?.status === 200 && t !== undefined) token = t
    }
    const renewer = setInterval(() => { void renew() }, 60_000)

    const pools = urls.map((u) => new Pool(u, { connections: 128, headersTimeout: 15_000, bodyTimeout: 15_000 }))
    const receipts = new Map<string, Set<string>>()
    const acceptedAt = new Map<string, number>()
    const refused = new Map<string, number>()
    let gaveUp = 0
    let repeats = 0
    const sendOne = async (i: number, id: string, body: string): Promise<void> => {
      const deadline = Date.now() + 180_000
      for (let attempt = 0; ; attempt++) {
        const pool = pools[(i + attempt) % pools.length]!
        let status = 0
        let exchangeId = ''
        let code = ''
        try {
          const res = await pool.request({ method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/jose', authorization: `Bearer ${token}` }, body })
          status = res.statusCode
          exchangeId = String(res.headers['tongban-exchange-id'] ?? '')
          const text = await res.body.text()
          if (status >= 400) code = (/"code":"([A-Z_]+)"/.exec(text)?.[1]) ?? String(status)
        } catch {
          status = 0
        }
        if (status === 202 || status === 200) {
          let set = receipts.get(id)
          if (set === undefined) receipts.set(id, set = new Set())
          set.add(exchangeId)
          if (!acceptedAt.has(id)) acceptedAt.set(id, performance.now())
          if (attempt > 0) repeats++
          return
        }
        if (status === 401) await renew()
        else if (status !== 0 && status !== 429 && status < 500) {
          refused.set(code, (refused.get(code) ?? 0) + 1)
          return
        }
        if (Date.now() > deadline) {
          gaveUp++
          return
        }
        await sleep(Math.min(2_000, 200 * (attempt + 1)))
      }
    }

    let outage = { from: 0, to: 0, refused: 0, fromWall: new Date(0), toWall: new Date(0) }
    const restartServe1 = async (): Promise<void> => {
      await w.killGateway()
      await sleep(1_000)
      await supervised('serve-1', () => w.spawn())
    }
    const faults: Array<{ at: number; name: string; run: () => Promise<void> }> = [
      { at: 0.1, name: 'SIGKILL serve-1', run: restartServe1 },
      { at: 0.2, name: 'Redis FLUSHALL', run: () => redis.flushAll() },
      { at: 0.3, name: 'SIGKILL worker', run: async () => { await worker.kill(); await sleep(1_000); await supervised('worker', () => worker.start()) } },
      { at: 0.4, name: 'PostgreSQL crash and restart', run: async () => { await postgres.crash(); await sleep(3_000); await postgres.up() } },
      {
        at: 0.55, name: `partner down ${OUTAGE_S} s`, run: async () => {
          const before = partner.refusedWhileDown
          partner.setDown(true)
          const from = performance.now()
          const fromWall = new Date()
          await sleep(OUTAGE_S * 1_000)
          partner.setDown(false)
          outage = { from, to: performance.now(), refused: partner.refusedWhileDown - before, fromWall, toWall: new Date() }
        },
      },
      { at: 0.8, name: 'SIGKILL serve-2', run: async () => { await serve2.kill(); await sleep(1_000); await supervised('serve-2', () => serve2.start()) } },
    ]
    const faultRuns: Array<Promise<void>> = []
    const faultLog: string[] = []
    const faultFailures: string[] = []

    const request = validFixture('tax.assessment.request')
    const sends: Array<Promise<void>> = []
    const sendStart = performance.now()
    for (let i = 0; i < N; i++) {
      const due = sendStart + (i * 1000) / RATE
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      for (const f of faults) {
        if (i === Math.floor(f.at * N)) {
          say(`${i} sent: ${f.name}`)
          faultLog.push(f.name)
          faultRuns.push(f.run().then(() => say(`${f.name}: over`), (err) => {
            say(`${f.name} failed: ${(err as Error).message}`)
            faultFailures.push(f.name)
          }))
        }
      }
      const reg = w.client(REG)
      const env = reg.envelope({ ...request.envelope, caseId: `231202-2026-7${String(i).padStart(6, '0')}` })
      const body = await reg.encrypt(await reg.sign(env))
      sends.push(sendOne(i, env.id, body))
    }
    await Promise.all(sends)
    const sentAll = performance.now()
    say(`all ${N} sent; ${acceptedAt.size} receipted; waiting for the faults to end and the deliveries to drain`)
    await Promise.all(faultRuns)
    clearInterval(renewer)
    await Promise.all(pools.map((p) => p.close()))

    const drainDeadline = Date.now() + Math.max(300_000, N * 30)
    while ([...acceptedAt.keys()].some((id) => !partner.firstArrival.has(id)) && Date.now() < drainDeadline) await sleep(500)
    const lastAccept = Math.max(...acceptedAt.values())
    const lastArrival = Math.max(0, ...partner.firstArrival.values())
    const lost = [...acceptedAt.keys()].filter((id) => !partner.firstArrival.has(id))
    // Let late repeats (a killed worker's attempt taken over) arrive before counting doubles.
    await sleep(2_000)
    const stored = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM exchanges`)
    const storedTwice = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM exchanges GROUP BY sender, message_id HAVING count(*) > 1) d`)
    const statuses = Object.fromEntries((await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`)).rows.map((r) => [r.status, r.n]))
    const doubleEffects = storedTwice.rows[0]!.n
      + [...partner.exchangesOf.values()].filter((s) => s.size > 1).length
      + [...receipts.values()].filter((s) => s.size > 1).length
    // The gateway's own record of the attempts that failed while the partner was down (each failed
    // attempt of a delivery on a case is a delivery.failed or delivery.dead event in its timeline).
    const failedAttempts = (await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM case_events WHERE event IN ('delivery.failed', 'delivery.dead') AND at >= $1 AND at <= $2`,
      [outage.fromWall, new Date(outage.toWall.getTime() + 1_000)],
    )).rows[0]!.n
    const probeBound = CIRCUIT.circuitFailures + 3 * CONCURRENCY + Math.ceil((OUTAGE_S * 1000) / CIRCUIT.circuitOpenMs) + 1
    say(`lost ${lost.length}${lost.length > 0 ? ` (e.g. ${lost.slice(0, 3).join(', ')})` : ''}; deliveries ${JSON.stringify(statuses)}; stored exchanges ${stored.rows[0]!.n}`)
    return {
      sent: N,
      accepted: acceptedAt.size,
      delivered: [...acceptedAt.keys()].filter((id) => partner.firstArrival.has(id)).length,
      lost: lost.length,
      doubleEffects,
      duplicatesDelivered: [...partner.answered.values()].filter((n) => n > 1).length,
      drainSeconds: Math.round(Math.max(0, lastArrival - Math.max(lastAccept, sentAll)) / 100) / 10,
      refused: Object.fromEntries(refused),
      gaveUp,
      repeatsAnsweredWithReceipt: repeats,
      storedExchanges: stored.rows[0]!.n,
      deliveries: statuses,
      partnerUnreadable: partner.unreadable,
      outage: {
        seconds: Math.round((outage.to - outage.from) / 100) / 10,
        failedConnections: outage.refused,
        failedAttempts,
        probeBound,
        circuit: CIRCUIT,
      },
      faults: faultLog,
      faultsFailed: faultFailures,
      instances: { serve: 2, worker: 1 },
      rate: RATE,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    }
  } finally {
    await serve2.kill('SIGTERM').catch(() => {})
    await worker.kill('SIGTERM').catch(() => {})
    await w.close().catch(() => {})
    await db.end().catch(() => {})
    await partner.stop()
    await redis.down()
    await postgres.destroy()
  }
})()

console.log(JSON.stringify(result))
process.exitCode = result.lost === 0 && result.doubleEffects === 0 && result.faultsFailed.length === 0 ? 0 : 1
