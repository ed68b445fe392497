/**
 * `npm run bench:accept`: the full accept path — TLS aside, everything POST /v1/messages does:
 * decrypt (JWE), verify (JWS), validate (envelope + body schema), route, durable write
 * (PostgreSQL transaction: exchange, delivery outbox, case, step, timeline), enqueue (BullMQ,
 * Redis), signed receipt — measured against the gateway running as its own process on this
 * machine, in both suites, side by side with `openssl speed sm2` in the same run.
 *
 * The gateway runs API-only (no delivery workers competing for the CPU); the messages are built,
 * signed and encrypted before the clock starts; they are sent over keep-alive connections on
 * loopback with a fixed concurrency. Each national message costs the gateway an SM2 decryption,
 * an SM2 verification and an SM2 signature (the receipt): the single-core crypto ceiling is
 * 1 / (2/sign + 1/verify) with OpenSSL's sign/s and verify/s (a decryption is one scalar
 * multiplication, like a signature). The national suite runs twice with the evidence ledger on
 * (every acceptance writes its entry in the same transaction; the integrator places entries and
 * signs checkpoints in the background) and twice with it off (ledger.enabled false), alternating,
 * and the ratio of the means is printed (issue 8: at least 0.9). Each run reports the gateway
 * process's peak resident memory (VmHWM; issue 9: at most 300 MB). Prints a table, the CPU per
 * message counted by the kernel (bench/cpu.ts) and, last, one JSON line. Each run first sends
 * warm-up messages (a fifth, at least 200, not counted) to the very gateway it measures.
 *
 *   --messages N   (or TONGBAN_BENCH_MESSAGES) messages per suite (default 6000: V8 compiles the
 *                  hot code on background threads for the first several thousand messages, so
 *                  1,500 measured mostly a gateway still compiling; docs/performance.md)
 *   --concurrency N  requests in flight (default 32)
 *   --rate R       open loop instead (issue 9): message i is due at start + i/R s, sent then whatever
 *                  is still in flight, and its latency counts from when it was due (so a slow
 *                  gateway cannot hide its queueing by slowing the sender down); prints the rate
 *                  reached and p50, p99 and p99.9 of the national suite (--suite to change it)
 *   --processes N  the gateway as N processes on one port (config `processes`, node:cluster); peak RSS is their sum
 *   --sm2-thread T the gateway's `crypto.sm2Thread`: auto (the default: for this API-only gateway, the event
 *                  loop), threadpool or event-loop
 *   --node-args="…"  Node options for the gateway process (with "=": they begin with a dash), e.g.
 *                  --node-args=--perf-basic-prof, so that a `perf record -a -g` run alongside
 *                  names its JavaScript (docs/performance.md, "The whole machine, sampled on-CPU"),
 *                  or --node-args=--inspect=127.0.0.1:9339 for `npm run bench:alloc`
 *   --profile DIR  one national run (closed loop, or open with --rate) with the gateway under
 *                  `node --cpu-prof` (profiles written to DIR), then where its CPU went, by
 *                  dependency and by room of src/ (bench/profile.ts), and its CPU time per message
 */
import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { World } from '../test/helpers/world.ts'
import { report, summarize } from './profile.ts'
import { validFixture } from '../test/helpers/fixtures.ts'
import { cpuSnapshot, cpuSpent, perMessage } from './cpu.ts'

const { values } = parseArgs({ options: { messages: { type: 'string' }, concurrency: { type: 'string' }, rate: { type: 'string' }, suite: { type: 'string' }, profile: { type: 'string' }, processes: { type: 'string' }, 'node-args': { type: 'string' }, 'sm2-thread': { type: 'string' } }, strict: true })
/** Node options for the gateway process (e.g. `--perf-basic-prof`, so that `perf` names its JavaScript). */
const NODE_ARGS = (values['node-args'] ?? '').split(' ').filter((a) => a !== '')
/** Gateway processes sharing the port (config `processes`): 2 lets both cores run the gateway. */
const PROCESSES = Number(values.processes ?? 1)
const SM2_THREAD = (values['sm2-thread'] ?? 'auto') as 'auto' | 'threadpool' | 'event-loop'
if (!['auto', 'threadpool', 'event-loop'].includes(SM2_THREAD)) throw new Error('--sm2-thread auto, threadpool or event-loop')
const N = Number(values.messages ?? process.env.TONGBAN_BENCH_MESSAGES ?? 6000)
const C = Number(values.concurrency ?? 32)
if (!Number.isInteger(N) || N < 50 || N > 20_000 || !Number.isInteger(C) || C < 1 || C > 256) throw new Error('--messages 50..20000, --concurrency 1..256')
const RATE = values.rate === undefined ? undefined : Number(values.rate)
if (RATE !== undefined && !(RATE >= 1 && RATE <= 5_000)) throw new Error('--rate 1..5000 messages a second')
const SUITE = values.suite ?? 'national'
if (SUITE !== 'national' && SUITE !== 'international') throw new Error('--suite national|international')

function opensslSpeed(): { sign: number; verify: number } {
  const r = spawnSync('openssl', ['speed', '-seconds', '2', 'sm2'], { encoding: 'utf8', timeout: 60_000 })
  const m = /SM2 \(CurveSM2\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(r.stdout ?? '')
  if (r.status !== 0 || !m) throw new Error(`openssl speed sm2 failed: ${r.stderr ?? r.error?.message}`)
  return { sign: Number(m[1]), verify: Number(m[2]) }
}

const percentile = (xs: number[], p: number): number => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0

interface RunResult { perSecond: number; p50: number; p99: number; p999: number; accepted: number; refused: number; seconds: number; peakRssMb: number; cpu: ReturnType<typeof perMessage>; warmed: number }

async function run(suite: 'national' | 'international', ledger = true, n = N, rate?: number, nodeArgs: readonly string[] = NODE_ARGS): Promise<RunResult> {
  const REG = 'REG:231202'
  const w = await World.start({
    label: `bench${suite.slice(0, 3)}${ledger ? '' : 'noledger'}`, subprocess: true, gatewayNodeArgs: nodeArgs,
    // One sender at full speed: its per-participant quota (600 a minute by default) raised out of the way.
    config: {
      workers: false, processes: PROCESSES, log: { level: 'warn' }, crypto: { sm2Thread: SM2_THREAD }, quotas: { messagesPerMinute: 10_000_000, queriesPerMinute: 120, queriesInFlight: 4 },
      ledger: { enabled: ledger, hash: 'SM3', integrateMs: 1_000, checkpointMs: 5_000, batch: 5_000 },
    },
    partners: [
      { id: REG, suite, send: ['tax.assessment.request'], receive: ['tax.payment.completed'], noServer: true },
      { id: 'TAX:231202', suite, send: ['tax.payment.completed'], receive: ['tax.assessment.request'], noServer: true },
    ],
  })
  try {
    const reg = w.client(REG)
    const token = await reg.token()
    const request = validFixture('tax.assessment.request')
    // The first messages warm this very gateway process up (its JIT, its pools, PostgreSQL's caches)
    // and are not counted: a long-running gateway is measured, not one still compiling its code.
    const warm = Math.max(200, Math.floor(n / 5))
    const bodies: string[] = []
    for (let i = 0; i < warm + n; i++) {
      const env = reg.envelope({ ...request.envelope, caseId: `231202-2026-9${String(i).padStart(6, '0')}` })
      bodies.push(await reg.encrypt(await reg.sign(env)))
    }
    // Open loop: enough connections that the sender never waits for one (a request due while all
    // are busy would queue in the pool, and its wait still counts: latency runs from when it was due).
    const pool = new Pool(w.url, { connections: rate === undefined ? C : 512, pipelining: 1 })
    const phase = async (from: number, to: number): Promise<{ latencies: number[]; accepted: number; refused: number; seconds: number }> => {
      const latencies: number[] = []
      let accepted = 0
      let refused = 0
      const send = async (i: number, due: number): Promise<void> => {
        const res = await pool.request({ method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/jose', authorization: `Bearer ${token}` }, body: bodies[i] })
        await res.body.dump()
        latencies.push(performance.now() - due)
        if (res.statusCode === 202) accepted++
        else refused++
      }
      const started = performance.now()
      if (rate !== undefined) {
        const sent: Promise<void>[] = []
        for (let i = from; i < to; i++) {
          const due = started + ((i - from) * 1000) / rate
          const wait = due - performance.now()
          if (wait > 1) await new Promise((r) => setTimeout(r, wait))
          sent.push(send(i, due))
        }
        await Promise.all(sent)
      } else {
        let next = from
        await Promise.all(Array.from({ length: C }, async () => {
          for (;;) {
            const i = next++
            if (i >= to) return
            await send(i, performance.now())
          }
        }))
      }
      return { latencies, accepted, refused, seconds: (performance.now() - started) / 1000 }
    }
    await phase(0, warm)
    const before = cpuSnapshot(w.gatewayPid())
    const r = await phase(warm, warm + n)
    const cpu = perMessage(cpuSpent(before, cpuSnapshot(w.gatewayPid())), r.accepted + r.refused)
    await pool.close()
    const { latencies } = r
    return { perSecond: r.accepted / r.seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), p999: percentile(latencies, 99.9), accepted: r.accepted, refused: r.refused, seconds: r.seconds, peakRssMb: w.gatewayPeakRssMb() ?? 0, cpu, warmed: warm }
  } finally {
    await w.close()
  }
}

const round = (v: number): number => Math.round(v * 1000) / 1000
/** CPU per message over the measured messages, counted by the kernel (bench/cpu.ts). */
const cpuLine = (r: RunResult): string =>
  `CPU per message (ms, /proc): gateway main thread ${r.cpu.mainMs}, whole gateway process ${r.cpu.gatewayMs}, PostgreSQL ${r.cpu.postgresMs}, Redis ${r.cpu.redisMs}; the whole machine ${r.cpu.machineMs} (load generator included)`

if (values.profile !== undefined) {
  const dir = resolve(values.profile)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  console.log(`${SUITE} suite, ${N} messages${RATE === undefined ? `, ${C} in flight` : ` offered at ${RATE}/s`}, gateway API-only under node --cpu-prof (profiles in ${dir})\n`)
  const r = await run(SUITE, true, N, RATE, [...NODE_ARGS, '--cpu-prof', '--cpu-prof-dir', dir])
  const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
  if (profiles.length === 0) throw new Error(`no CPU profile was written to ${dir}`)
  const totals = summarize(profiles)
  const { lines, json } = report(totals)
  for (const l of lines) console.log(l)
  const busy = [...totals].filter(([b]) => b !== 'idle').reduce((n, [, ms]) => n + ms, 0)
  console.log(`\n${r.accepted} accepted at ${r.perSecond.toFixed(0)}/s (p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms); the gateway process's main thread over the whole run (start and stop included): ${busy.toFixed(0)} ms busy, ${(busy / (r.accepted + r.warmed)).toFixed(2)} ms per message (${r.warmed} warm-up messages included)`)
  console.log(JSON.stringify({ suite: SUITE, accepted: r.accepted, perSecond: round(r.perSecond), mainThreadMsPerMessage: round(busy / (r.accepted + r.warmed)), shares: json }))
  process.exit(0)
}

if (RATE !== undefined) {
  // Open loop at a fixed offered rate: warm-up messages first (not counted), then the measured ones.
  console.log(`${SUITE} suite, ${N} messages offered at ${RATE}/s (open loop), gateway API-only as its own process (tongban serve${PROCESSES > 1 ? ` --processes ${PROCESSES}: peak RSS is their sum` : ''}), load generator on the same machine\n`)
  const r = await run(SUITE, true, N, RATE)
  console.log(`${'offered/s'.padStart(10)}${'reached/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'p99.9 ms'.padStart(10)}${'accepted'.padStart(12)}${'peak RSS MB'.padStart(13)}`)
  console.log(`${String(RATE).padStart(10)}${r.perSecond.toFixed(0).padStart(10)}${r.p50.toFixed(1).padStart(10)}${r.p99.toFixed(1).padStart(10)}${r.p999.toFixed(1).padStart(10)}${`${r.accepted}/${r.accepted + r.refused}`.padStart(12)}${r.peakRssMb.toFixed(0).padStart(13)}`)
  console.log(`\n${cpuLine(r)}`)
  console.log(JSON.stringify({ suite: SUITE, processes: PROCESSES, offeredPerSecond: RATE, reachedPerSecond: round(r.perSecond), p50Ms: round(r.p50), p99Ms: round(r.p99), p999Ms: round(r.p999), accepted: r.accepted, refused: r.refused, seconds: round(r.seconds), gatewayPeakRssMb: r.peakRssMb, cpuMsPerMessage: r.cpu }))
  process.exit(r.refused === 0 ? 0 : 1)
}

const ossl = opensslSpeed()
const ceiling = 1 / (2 / ossl.sign + 1 / ossl.verify)
console.log(`openssl speed sm2 (this machine, now): ${ossl.sign.toFixed(0)} sign/s, ${ossl.verify.toFixed(0)} verify/s → national crypto ceiling ${ceiling.toFixed(0)} messages/s on one core`)
console.log(`${N} messages per suite, ${C} in flight, gateway API-only as its own process (tongban serve${PROCESSES > 1 ? ` --processes ${PROCESSES}: peak RSS is their sum` : ''})\n`)
const on1 = await run('national', true)
const off1 = await run('national', false)
const on2 = await run('national', true)
const off2 = await run('national', false)
const national = on1.perSecond >= on2.perSecond ? on1 : on2
const international = await run('international')
const mean = (a: { perSecond: number }, b: { perSecond: number }): number => (a.perSecond + b.perSecond) / 2
const row = (name: string, r: Awaited<ReturnType<typeof run>>): string =>
  `${name.padEnd(15)}${r.perSecond.toFixed(0).padStart(10)}${r.p50.toFixed(1).padStart(10)}${r.p99.toFixed(1).padStart(10)}${`${r.accepted}/${r.accepted + r.refused}`.padStart(12)}${r.peakRssMb.toFixed(0).padStart(13)}`
console.log(`${'suite'.padEnd(15)}${'msg/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'accepted'.padStart(12)}${'peak RSS MB'.padStart(13)}`)
console.log(row('national', on1))
console.log(row('  ledger off', off1))
console.log(row('national', on2))
console.log(row('  ledger off', off2))
console.log(row('international', international))
console.log(`\nnational, ${cpuLine(national)}`)
const ledgerRatio = mean(on1, on2) / mean(off1, off2)
console.log(`\nevidence ledger: national accept rate with it on ÷ off (means of two runs each): ${ledgerRatio.toFixed(2)} (${mean(on1, on2).toFixed(0)} / ${mean(off1, off2).toFixed(0)} msg/s)`)
const XROAD = 110 // messages/s an X-Road user reported on 32-core servers (DESIGN §7)
console.log(`\nnational accept path ÷ crypto ceiling: ${(national.perSecond / ceiling).toFixed(2)}; ÷ the published X-Road figure (${XROAD}/s on 32 cores): ${(national.perSecond / XROAD).toFixed(1)}`)
console.log(JSON.stringify({
  processes: PROCESSES, acceptNationalPerSecond: round(national.perSecond), acceptInternationalPerSecond: round(international.perSecond),
  nationalCryptoCeiling: round(ceiling), acceptToCeilingRatio: round(national.perSecond / ceiling),
  p99NationalMs: round(national.p99), refused: [on1, off1, on2, off2, international].reduce((n, r) => n + r.refused, 0),
  ledgerOnPerSecond: round(mean(on1, on2)), ledgerOffPerSecond: round(mean(off1, off2)), ledgerOnToOffRatio: round(ledgerRatio),
  gatewayPeakRssMb: Math.max(...[on1, off1, on2, off2, international].map((r) => r.peakRssMb)),
  nationalCpuMsPerMessage: national.cpu,
}))
