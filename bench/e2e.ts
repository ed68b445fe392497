/**
 * `npm run bench:e2e`: accepted → delivered, end to end. The gateway runs as its own process
 * with its delivery workers on; a registration centre sends tax.assessment.request messages open
 * loop at a fixed rate (each due at start + i/R s, as bench:accept --rate does) and a real
 * partner endpoint (the tax bureau's, on loopback) receives them, opens each delivery with the
 * SDK (decrypts it, verifies the gateway's statement and the sender's signature) and answers 200.
 * Everything — PostgreSQL, Redis, the gateway, the sender and the partner — shares this machine.
 *
 * Prints the rate accepted and the rate delivered over the same span, their ratio (issue 9: at
 * least 0.8 at 500/s), the rate delivered while the sender was still sending and after it
 * stopped (acceptance and delivery share the machine's cores), the time from a message's receipt to its delivery at p50 and p99, and the
 * gateway's peak resident memory (VmHWM; the worker's too with --separate-worker), each message's
 * CPU from sending to delivery as the kernel counts it (bench/cpu.ts); then one JSON line. A fifth
 * of the messages (at least 2,000) go first, uncounted, and are delivered before the measured ones
 * are sent: the gateway and the worker are measured warm. (V8 goes on compiling their hot code in
 * the background for a few thousand messages; with 600 first, that compiling fell in the
 * measured part: docs/performance.md.)
 *
 *   --rate R          messages offered a second (default 200)
 *   --messages N      messages sent (default 2000)
 *   --concurrency N   deliveries in flight to the partner per gateway process (its directory
 *                     entry's delivery.concurrency; default: the gateway's, 4)
 *   --profile DIR     the gateway under node --cpu-prof (profiles in DIR; a separate worker's in
 *                     DIR/worker), and where each main thread's CPU went (bench/profile.ts)
 *   --separate-worker the gateway serves HTTP only (workers false) and a `tongban worker` process
 *                     of its own delivers: acceptance and delivery on two event loops
 *   --processes N     the gateway (and the separate worker, from the same file) as N processes
 *                     each (config `processes`, node:cluster); peak RSS is their sum
 *   --sm2-thread T    `crypto.sm2Thread` of the gateway and the worker: auto (the default: the
 *                     event loop for a gateway that only serves the API, the threadpool for a
 *                     process that delivers), threadpool or event-loop
 *   --suite S         the sender's and the partner's suite: international (RSA-OAEP, ES256; the
 *                     default, as every run before 2026-12-06 measured) or national (SM2)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { treePeakRssMb, World } from '../test/helpers/world.ts'
import { validFixture } from '../test/helpers/fixtures.ts'
import { tongbanCommand } from '../test/helpers/subprocess.ts'
import { report, summarize } from './profile.ts'
import { cpuSnapshot, cpuSpent, perMessage } from './cpu.ts'
import { adopt } from '../test/helpers/children.ts'

const { values } = parseArgs({ options: { rate: { type: 'string' }, messages: { type: 'string' }, concurrency: { type: 'string' }, profile: { type: 'string' }, 'separate-worker': { type: 'boolean' }, processes: { type: 'string' }, suite: { type: 'string' }, 'sm2-thread': { type: 'string' } }, strict: true })
const SUITE = values.suite ?? 'international'
if (SUITE !== 'national' && SUITE !== 'international') throw new Error('--suite national|international')
/** Gateway processes sharing the port (config `processes`; a separate worker reads the same file: as many). */
const PROCESSES = Number(values.processes ?? 1)
const SM2_THREAD = (values['sm2-thread'] ?? 'auto') as 'auto' | 'threadpool' | 'event-loop'
if (!['auto', 'threadpool', 'event-loop'].includes(SM2_THREAD)) throw new Error('--sm2-thread auto, threadpool or event-loop')
if (!(Number.isInteger(PROCESSES) && PROCESSES >= 1 && PROCESSES <= 64)) throw new Error('--processes 1..64')
const SEPARATE = values['separate-worker'] === true
const RATE = Number(values.rate ?? 200)
const N = Number(values.messages ?? 2000)
const CONCURRENCY = values.concurrency === undefined ? undefined : Number(values.concurrency)
if (!(RATE >= 1 && RATE <= 5_000) || !Number.isInteger(N) || N < 50 || N > 20_000) throw new Error('--rate 1..5000, --messages 50..20000')
if (CONCURRENCY !== undefined && !(Number.isInteger(CONCURRENCY) && CONCURRENCY >= 1 && CONCURRENCY <= 256)) throw new Error('--concurrency 1..256')

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0
const round = (v: number): number => Math.round(v * 1000) / 1000

const PROFILE = values.profile === undefined ? undefined : resolve(values.profile)
if (PROFILE !== undefined) {
  rmSync(PROFILE, { recursive: true, force: true })
  mkdirSync(PROFILE, { recursive: true })
}

const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'benche2e', subprocess: true, gatewayNodeArgs: PROFILE === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', PROFILE],
  config: {
    log: { level: 'warn' },
    workers: !SEPARATE, processes: PROCESSES, crypto: { sm2Thread: SM2_THREAD },
    quotas: { messagesPerMinute: 10_000_000, queriesPerMinute: 120, queriesInFlight: 4 },
    // Production-like delivery settings (the tests' are tuned for speed of failure, not throughput).
    delivery: { attempts: 12, backoffMs: 2_000, maxBackoffMs: 600_000, maxAgeSeconds: 259_200, sweepIntervalMs: 15_000, sweepGraceMs: 5_000, concurrency: 4, lockMs: 30_000 },
  },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'], noServer: true, suite: SUITE },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'], suite: SUITE },
  ],
})
let worker: ChildProcess | undefined
try {
  if (SEPARATE) {
    // The worker reads the gateway's own configuration file (`tongban worker` turns HTTP off and workers on).
    const [cmd, argv] = tongbanCommand(['worker', '--config', join(w.dir, 'config.json')], PROFILE === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(PROFILE, 'worker')])
    worker = adopt(spawn(cmd, argv, { stdio: 'ignore', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } }))
    // It logs at warn level here, so it says nothing when up: give it the time a start takes.
    await new Promise((r) => setTimeout(r, 5_000))
    if (worker.exitCode !== null) throw new Error(`the worker process exited (${worker.exitCode})`)
  }
  if (CONCURRENCY !== undefined) {
    // The partner's own setting, applied by a reload as an operator would.
    w.writeDirectory((doc) => { doc.participants.find((p) => p.id === TAX)!.delivery = { concurrency: CONCURRENCY } })
    const ops = w.operatorClient()
    const r = await ops.http('POST', '/v1/admin/directory/reload')
    await ops.close()
    if (r.status !== 200) throw new Error(`directory reload: ${r.status} ${r.text}`)
    // The worker process reloads on SIGHUP, as an operator would send it.
    if (worker !== undefined) {
      worker.kill('SIGHUP')
      await new Promise((r) => setTimeout(r, 1_000))
    }
  }
  const tax = w.partner(TAX).server
  const arrived = new Map<string, number>()
  tax.behave((_n, req) => {
    const id = String(req.headers['tongban-message-id'] ?? '')
    if (!arrived.has(id)) arrived.set(id, performance.now())
    return 200
  })

  const reg = w.client(REG)
  const token = await reg.token()
  const request = validFixture('tax.assessment.request')
  // The first messages (a fifth, at least 2,000) warm the gateway and the worker up, and are
  // delivered before the measured ones are sent: long-running processes are measured.
  const warm = Math.max(2000, Math.floor(N / 5))
  const messages: Array<{ id: string; body: string }> = []
  for (let i = 0; i < warm + N; i++) {
    const env = reg.envelope({ ...request.envelope, caseId: `231202-2026-6${String(i).padStart(6, '0')}` })
    messages.push({ id: env.id, body: await reg.encrypt(await reg.sign(env)) })
  }
  const pool = new Pool(w.url, { connections: 512, pipelining: 1 })
  let receipted = new Map<string, number>()
  let refused = 0
  const offer = async (from: number, to: number): Promise<number> => {
    const began = performance.now()
    const sent: Promise<void>[] = []
    for (let i = from; i < to; i++) {
      const due = began + ((i - from) * 1000) / RATE
      const wait = due - performance.now()
      if (wait > 1) await new Promise((r) => setTimeout(r, wait))
      const m = messages[i]!
      sent.push((async () => {
        const res = await pool.request({ method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/jose', authorization: `Bearer ${token}` }, body: m.body })
        await res.body.dump()
        if (res.statusCode === 202) receipted.set(m.id, performance.now())
        else refused++
      })())
    }
    await Promise.all(sent)
    return began
  }
  await offer(0, warm)
  await tax.waitFor(warm, 120_000).catch(() => {})
  const warmArrived = new Set(arrived.keys())
  receipted = new Map()
  refused = 0
  const cpu0 = cpuSnapshot(w.gatewayPid())
  const workerCpu0 = worker?.pid === undefined ? undefined : cpuSnapshot(worker.pid)
  const started = await offer(warm, warm + N)
  const acceptedAt = performance.now()
  const rss = (): { gateway: number; worker: number | undefined } => ({ gateway: w.gatewayPeakRssMb() ?? 0, worker: treePeakRssMb(worker?.pid) })
  await pool.close()
  // Delivery may lag: wait for every accepted message (bounded), then measure over what arrived.
  await tax.waitFor(warmArrived.size + receipted.size, 600_000).catch(() => {})
  const cpu = perMessage(cpuSpent(cpu0, cpuSnapshot(w.gatewayPid())), N)
  const workerCpu = worker?.pid === undefined || workerCpu0 === undefined ? undefined : perMessage(cpuSpent(workerCpu0, cpuSnapshot(worker.pid)), N).gatewayMs
  const peak = rss()
  for (const id of warmArrived) arrived.delete(id)
  const deliveredAt = Math.max(...[...arrived.values()])
  const lags = [...receipted].flatMap(([id, at]) => arrived.has(id) ? [arrived.get(id)! - at] : [])
  const acceptedPerSecond = receipted.size / ((acceptedAt - started) / 1000)
  const deliveredPerSecond = arrived.size / ((deliveredAt - started) / 1000)
  // Delivery while the sender still sends (the two share the machine), and after it stopped.
  const during = [...arrived.values()].filter((at) => at <= acceptedAt).length
  const deliveredWhileAcceptingPerSecond = during / ((acceptedAt - started) / 1000)
  const deliveredAfterPerSecond = deliveredAt > acceptedAt ? (arrived.size - during) / ((deliveredAt - acceptedAt) / 1000) : 0
  const twice = [...tax.accepted.values()].filter((n) => n > 1).length
  // How the deliveries got into their queues: at acceptance, or later by the sweeper (the log says).
  const log = w.logText()
  const enqueueFailed = log.split('\n').filter((l) => l.includes('enqueue failed')).length
  const swept = log.split('\n').filter((l) => l.includes('sweeper re-enqueued')).reduce((n, l) => n + (Number(/"requeued":(\d+)/.exec(l)?.[1]) || 0), 0)
  console.log(`${N} tax.assessment.request (${SUITE} suite) offered at ${RATE}/s open loop; ${SEPARATE ? 'the gateway (its own process, HTTP only) accepts and a worker process' : 'the gateway (its own process, delivery workers on)'} delivers, ${CONCURRENCY ?? 4} in flight${PROCESSES > 1 ? ` per process, ${PROCESSES} processes each (peak RSS summed)` : ''}, to a real partner endpoint; all on this machine\n`)
  console.log(`${'offered/s'.padStart(10)}${'accepted/s'.padStart(12)}${'delivered/s'.padStart(13)}${'ratio'.padStart(8)}${'lag p50 ms'.padStart(12)}${'lag p99 ms'.padStart(12)}${'delivered'.padStart(12)}${'peak RSS MB'.padStart(13)}`)
  console.log(`${String(RATE).padStart(10)}${acceptedPerSecond.toFixed(0).padStart(12)}${deliveredPerSecond.toFixed(0).padStart(13)}${(deliveredPerSecond / acceptedPerSecond).toFixed(2).padStart(8)}${percentile(lags, 50).toFixed(0).padStart(12)}${percentile(lags, 99).toFixed(0).padStart(12)}${`${arrived.size}/${receipted.size}`.padStart(12)}${`${peak.gateway.toFixed(0)}${peak.worker === undefined ? '' : `+${peak.worker.toFixed(0)}`}`.padStart(13)}`)
  console.log(`\ndelivered while the sender sent: ${deliveredWhileAcceptingPerSecond.toFixed(0)}/s; after it stopped: ${deliveredAfterPerSecond.toFixed(0)}/s`)
  console.log(`CPU per message, sent to delivered (ms, /proc): gateway process ${cpu.gatewayMs}${workerCpu === undefined ? '' : `, worker process ${workerCpu}`}, PostgreSQL ${cpu.postgresMs}, Redis ${cpu.redisMs}; the whole machine ${cpu.machineMs} (load generator and partner endpoint included)`)
  console.log(JSON.stringify({
    suite: SUITE, offeredPerSecond: RATE, acceptedPerSecond: round(acceptedPerSecond), deliveredPerSecond: round(deliveredPerSecond), deliveredToAcceptedRatio: round(deliveredPerSecond / acceptedPerSecond),
    deliveredWhileAcceptingPerSecond: round(deliveredWhileAcceptingPerSecond), deliveredAfterPerSecond: round(deliveredAfterPerSecond),
    lagP50Ms: round(percentile(lags, 50)), lagP99Ms: round(percentile(lags, 99)), accepted: receipted.size, delivered: arrived.size, refused, deliveredTwice: twice, concurrency: CONCURRENCY ?? 4, separateWorker: SEPARATE, processes: PROCESSES,
    enqueueFailedAtAcceptance: enqueueFailed, reEnqueuedBySweeper: swept,
    gatewayPeakRssMb: peak.gateway, ...(peak.worker !== undefined ? { workerPeakRssMb: peak.worker } : {}),
    cpuMsPerMessage: { ...cpu, ...(workerCpu !== undefined ? { workerMs: workerCpu } : {}) },
  }))
} finally {
  if (worker !== undefined && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r))
    worker.kill('SIGTERM')
    await exited
  }
  await w.close()
}
if (PROFILE !== undefined) {
  for (const [who, dir] of [['the gateway', PROFILE], ['the worker process', join(PROFILE, 'worker')]] as const) {
    if (!existsSync(dir)) continue
    const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
    console.log(`\nWhere ${who}'s main thread went:`)
    for (const l of report(summarize(profiles)).lines) console.log(l)
  }
}
