/**
 * `npm run bench:crypto`: SM2 sign / verify / encrypt / decrypt per second on each available
 * backend (native addon and JavaScript) and `openssl speed -seconds N sm2` on the same machine,
 * side by side. Prints a table and, last, one JSON line {"sm2SignRatio":…,"sm2VerifyRatio":…}
 * = native ÷ OpenSSL (the OpenSSL CLI's own sign/s and verify/s).
 *
 *   --seconds N   (or TONGBAN_BENCH_SECONDS) seconds per operation for `openssl speed` (default 2)
 *   --ms N        (or TONGBAN_BENCH_MS) milliseconds per operation and backend here (default 1500)
 *
 * Our sign and verify are the message-level operations the gateway runs (Z_A, e = SM3(Z_A ‖ M),
 * then the scalar work), on a 32-byte message, against OpenSSL's EVP_DigestSign/Verify of SM2.
 * The ratios compare single-threaded figures: our synchronous calls, one at a time.
 *
 * A second table shows the async operations the gateway's JOSE calls use (signAsync, verifyAsync,
 * encryptAsync, decryptAsync), with a number of calls in flight at all times: on the native
 * backend the scalar work runs on libuv's threadpool (UV_THREADPOOL_SIZE threads, 4 by default),
 * so they scale with the cores; "loop busy" is the share of that time the event loop was busy
 * (performance.eventLoopUtilization), i.e. what is left of the main thread for everything else.
 *
 *   --in-flight N (or TONGBAN_BENCH_IN_FLIGHT) async calls in flight (default 16)
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { Sm2PrivateKey, availableSmBackends, loadNative, smBackend, type SmBackend } from '../src/crypto/sm/index.ts'

const { values } = parseArgs({ options: { seconds: { type: 'string' }, ms: { type: 'string' }, 'in-flight': { type: 'string' } }, strict: true })
const seconds = Number(values.seconds ?? process.env.TONGBAN_BENCH_SECONDS ?? 2)
const ms = Number(values.ms ?? process.env.TONGBAN_BENCH_MS ?? 1500)
const inFlight = Number(values['in-flight'] ?? process.env.TONGBAN_BENCH_IN_FLIGHT ?? 16)
if (!Number.isInteger(seconds) || seconds < 1 || !(ms >= 100)) throw new Error('--seconds is a whole number ≥ 1, --ms a number ≥ 100')
if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 1024) throw new Error('--in-flight is a whole number in 1..1024')

type Op = 'sign' | 'verify' | 'encrypt' | 'decrypt'
const OPS: Op[] = ['sign', 'verify', 'encrypt', 'decrypt']

/** Operations per second of `fn` over about `budget` ms, after a short warm-up. */
function rate(fn: () => unknown, budget: number): number {
  const warm = performance.now() + Math.min(200, budget / 5)
  while (performance.now() < warm) fn()
  let n = 0
  const start = performance.now()
  const end = start + budget
  // Check the clock every few calls only: the JavaScript backend is slow enough, the native fast enough.
  while (performance.now() < end) for (let i = 0; i < 8; i++, n++) fn()
  return (n * 1000) / (performance.now() - start)
}

/** Completions per second of `fn` with `inFlight` calls outstanding throughout, and the event loop's busy share meanwhile. */
async function rateAsync(fn: () => Promise<unknown>, budget: number): Promise<{ perSecond: number; loopBusy: number }> {
  const run = async (until: number): Promise<number> => {
    let n = 0
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) {
        await fn()
        n++
      }
    }))
    return n
  }
  await run(performance.now() + Math.min(200, budget / 5))
  const elu = performance.eventLoopUtilization()
  const start = performance.now()
  const n = await run(start + budget)
  const elapsed = performance.now() - start
  return { perSecond: (n * 1000) / elapsed, loopBusy: performance.eventLoopUtilization(elu).utilization }
}

interface Subject {
  key: Sm2PrivateKey
  msg: Buffer
  sig: Buffer
  cek: Buffer
  ct: Buffer
  budget: number
}

function subject(b: SmBackend): Subject {
  const key = Sm2PrivateKey.generate()
  const msg = randomBytes(32)
  const cek = randomBytes(32) // what the JWE encrypts with SM2
  return { key, msg, sig: key.sign(msg, { backend: b }), cek, ct: key.publicKey.encrypt(cek, { backend: b }), budget: b.name === 'js' ? Math.min(ms, 1000) : ms }
}

function measure(b: SmBackend): Record<Op, number> {
  const { key, msg, sig, cek, ct, budget } = subject(b)
  return {
    sign: rate(() => key.sign(msg, { backend: b }), budget),
    verify: rate(() => key.publicKey.verify(msg, sig, { backend: b }), budget),
    encrypt: rate(() => key.publicKey.encrypt(cek, { backend: b }), budget),
    decrypt: rate(() => key.decrypt(ct, { backend: b }), budget),
  }
}

async function measureAsync(b: SmBackend): Promise<Record<Op, { perSecond: number; loopBusy: number }>> {
  const { key, msg, sig, cek, ct, budget } = subject(b)
  return {
    sign: await rateAsync(() => key.signAsync(msg, { backend: b }), budget),
    verify: await rateAsync(() => key.publicKey.verifyAsync(msg, sig, { backend: b }), budget),
    encrypt: await rateAsync(() => key.publicKey.encryptAsync(cek, { backend: b }), budget),
    decrypt: await rateAsync(() => key.decryptAsync(ct, { backend: b }), budget),
  }
}

/** sign/s and verify/s from `openssl speed -seconds N sm2`. */
function opensslSpeed(): { sign: number; verify: number; version: string } {
  const version = spawnSync('openssl', ['version'], { encoding: 'utf8' })
  if (version.error || version.status !== 0) throw new Error(`the openssl CLI is required for the comparison: ${version.error?.message ?? version.stderr}`)
  const r = spawnSync('openssl', ['speed', '-seconds', String(seconds), 'sm2'], { encoding: 'utf8', timeout: (seconds * 4 + 30) * 1000 })
  if (r.status !== 0) throw new Error(`openssl speed failed: ${r.stderr}`)
  // "256 bits SM2 (CurveSM2)   0.0002s   0.0002s   4306.5   4457.0"
  const m = /SM2 \(CurveSM2\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(r.stdout)
  if (!m) throw new Error(`cannot read openssl speed output:\n${r.stdout}`)
  return { sign: Number(m[1]), verify: Number(m[2]), version: version.stdout.trim() }
}

const fmt = (v: number | undefined): string => (v === undefined ? '—' : v.toFixed(0)).padStart(10)

console.log(`node ${process.version} (OpenSSL ${process.versions.openssl}), ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`)
const native = loadNative()
console.log(`native addon: ${native.reason}`)
const ossl = opensslSpeed()
console.log(`${ossl.version}: openssl speed -seconds ${seconds} sm2`)
const results = new Map<string, Record<Op, number>>()
for (const name of availableSmBackends()) results.set(name, measure(smBackend(name)))

console.log(`\n${'SM2 op/s'.padEnd(10)}${'native'.padStart(10)}${'js'.padStart(10)}${'openssl'.padStart(10)}${'native÷openssl'.padStart(16)}`)
for (const op of OPS) {
  const n = results.get('native')?.[op]
  const o = op === 'sign' ? ossl.sign : op === 'verify' ? ossl.verify : undefined
  const ratio = n !== undefined && o !== undefined ? (n / o).toFixed(2) : '—'
  console.log(`${op.padEnd(10)}${fmt(n)}${fmt(results.get('js')?.[op])}${fmt(o)}${ratio.padStart(16)}`)
}
console.log('(openssl speed measures sign and verify only)\n')

// The async path, as the gateway's JOSE calls use it; not part of the ratios below (openssl speed is single-threaded).
const asyncResults = new Map<string, Record<Op, { perSecond: number; loopBusy: number }>>()
for (const name of availableSmBackends()) asyncResults.set(name, await measureAsync(smBackend(name)))
const pct = (v: number | undefined): string => (v === undefined ? '—' : `${(v * 100).toFixed(0)}%`).padStart(10)
console.log(`SM2 async op/s, ${inFlight} in flight (native: libuv threadpool of ${process.env.UV_THREADPOOL_SIZE ?? 4} threads on ${cpus().length} CPUs; js: on the event loop)`)
console.log(`${'async'.padEnd(10)}${'native'.padStart(10)}${'÷ sync'.padStart(10)}${'loop busy'.padStart(10)}${'js'.padStart(10)}${'loop busy'.padStart(10)}`)
for (const op of OPS) {
  const a = asyncResults.get('native')?.[op]
  const sync = results.get('native')?.[op]
  const j = asyncResults.get('js')?.[op]
  const speedup = a !== undefined && sync !== undefined ? (a.perSecond / sync).toFixed(2) : '—'
  console.log(`${op.padEnd(10)}${fmt(a?.perSecond)}${speedup.padStart(10)}${pct(a?.loopBusy)}${fmt(j?.perSecond)}${pct(j?.loopBusy)}`)
}
console.log('(loop busy: share of the time the event loop was not idle; the rest is free for the gateway)\n')

const n = results.get('native')
const round = (v: number): number => Math.round(v * 1000) / 1000
// Without the addon the ratios are those of the JavaScript backend, and say so.
const ours = n ?? (results.get('js') as Record<Op, number>)
console.log(JSON.stringify({ sm2SignRatio: round(ours.sign / ossl.sign), sm2VerifyRatio: round(ours.verify / ossl.verify), ...(n ? {} : { backend: 'js' }) }))
