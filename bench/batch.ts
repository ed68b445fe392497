/**
 * `npm run bench:batch` (issue 10 §7): a developer's batch of 500 filings (POST /v1/batches, one
 * request, one JWE) against the same kind of 500 filings sent one by one (POST /v1/messages), in
 * the same run, against the gateway running as its own process on this machine (API only: no
 * delivery workers competing for the CPU), real PostgreSQL and Redis, in the national suite (or
 * --suite international). The messages are built, signed and encrypted before the clock starts;
 * the singles go over 32 keep-alive connections, the batch is one request. Each side runs
 * --rounds times, alternating, each round on fresh units; the mean of each is compared. Prints a
 * table and, last, one JSON line.
 *
 *   --messages N   messages per side (default 500, at most 500: one batch)
 *   --rounds N     rounds per side (default 3)
 *   --suite S      national (default) or international
 */
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { World } from '../test/helpers/world.ts'
import { bodyOf, validFixture } from '../test/helpers/fixtures.ts'

const { values } = parseArgs({ options: { messages: { type: 'string' }, rounds: { type: 'string' }, suite: { type: 'string' } }, strict: true })
const N = Number(values.messages ?? 500)
const ROUNDS = Number(values.rounds ?? 3)
const SUITE = values.suite ?? 'national'
if (!Number.isInteger(N) || N < 10 || N > 500 || !Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 10) throw new Error('--messages 10..500, --rounds 1..10')
if (SUITE !== 'national' && SUITE !== 'international') throw new Error('--suite national|international')

const REG = 'REG:231202'
const DEV = 'ENTERPRISE:91231202MA1K0D0W06'
const TYPES = ['enterprise.preregistration.request']
const w = await World.start({
  label: 'benchbatch', subprocess: true,
  config: { workers: false, log: { level: 'warn' }, quotas: { messagesPerMinute: 10_000_000, queriesPerMinute: 120, queriesInFlight: 4 } },
  partners: [
    { id: REG, suite: SUITE, send: [], receive: TYPES, noServer: true },
    { id: DEV, suite: SUITE, send: TYPES, receive: [], noServer: true },
  ],
})

let unit = 0
/** The next unit's filing: a building of 9,999 flats numbered from 1. */
function filing(): { type: string; unitCode: string; body: Record<string, unknown> } {
  unit++
  const f = validFixture('enterprise.preregistration.request')
  const b = bodyOf(f) as { unit: Record<string, unknown> }
  const unitCode = `231202003004GB00101F${String(10000 + Math.floor(unit / 10_000)).slice(1)}${String(unit % 10_000).padStart(4, '0')}`
  return { type: f.envelope.type, unitCode, body: { ...b, unit: { ...b.unit, unitCode } } }
}

try {
  const dev = w.client(DEV)
  const token = await dev.token()
  const pool = new Pool(w.url, { connections: 32, pipelining: 1 })
  const headers = { 'content-type': 'application/jose', authorization: `Bearer ${token}` }

  const singles = async (): Promise<{ seconds: number; accepted: number }> => {
    const bodies: string[] = []
    for (let i = 0; i < N; i++) bodies.push(await dev.encrypt(await dev.sign(dev.envelope(filing()))))
    let next = 0
    let accepted = 0
    const started = performance.now()
    await Promise.all(Array.from({ length: 32 }, async () => {
      for (;;) {
        const i = next++
        if (i >= bodies.length) return
        const res = await pool.request({ method: 'POST', path: '/v1/messages', headers, body: bodies[i] })
        await res.body.dump()
        if (res.statusCode === 202) accepted++
      }
    }))
    return { seconds: (performance.now() - started) / 1000, accepted }
  }
  const batch = async (): Promise<{ seconds: number; accepted: number; bytes: number }> => {
    const prepared = await dev.prepareBatch(Array.from({ length: N }, () => filing()))
    const started = performance.now()
    const res = await pool.request({ method: 'POST', path: '/v1/batches', headers, body: prepared.body })
    const text = await res.body.text()
    const seconds = (performance.now() - started) / 1000
    if (res.statusCode !== 202) throw new Error(`the batch was refused: ${res.statusCode} ${text}`)
    const receipt = JSON.parse(Buffer.from(text.split('.')[1] as string, 'base64url').toString('utf8')) as { accepted: number }
    return { seconds, accepted: receipt.accepted, bytes: prepared.body.length }
  }

  // One warm-up of each (not counted), then the rounds, alternating.
  await singles()
  await batch()
  const s: Array<{ seconds: number; accepted: number }> = []
  const b: Array<{ seconds: number; accepted: number; bytes: number }> = []
  for (let r = 0; r < ROUNDS; r++) {
    s.push(await singles())
    b.push(await batch())
  }
  await pool.close()
  const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length
  const sMean = mean(s.map((x) => x.seconds))
  const bMean = mean(b.map((x) => x.seconds))
  console.log(`${SUITE} suite, ${N} filings a side, ${ROUNDS} rounds, gateway API-only as its own process, load generator on the same machine\n`)
  console.log(`${'side'.padEnd(34)}${'seconds (each round)'.padEnd(30)}${'mean s'.padStart(8)}${'msg/s'.padStart(8)}`)
  console.log(`${`${N} singles (32 in flight)`.padEnd(34)}${s.map((x) => x.seconds.toFixed(2)).join(' ').padEnd(30)}${sMean.toFixed(2).padStart(8)}${(N / sMean).toFixed(0).padStart(8)}`)
  console.log(`${`1 batch of ${N} (${(b[0]?.bytes ?? 0) >> 10} KiB)`.padEnd(34)}${b.map((x) => x.seconds.toFixed(2)).join(' ').padEnd(30)}${bMean.toFixed(2).padStart(8)}${(N / bMean).toFixed(0).padStart(8)}`)
  console.log(`\nbatch time ÷ singles time: ${(bMean / sMean).toFixed(2)}; gateway peak RSS ${w.gatewayPeakRssMb() ?? 0} MB`)
  const round3 = (v: number): number => Math.round(v * 1000) / 1000
  console.log(JSON.stringify({
    suite: SUITE, messages: N, rounds: ROUNDS, singlesSeconds: round3(sMean), batchSeconds: round3(bMean), batchOverSingles: round3(bMean / sMean),
    singlesAccepted: s.map((x) => x.accepted), batchAccepted: b.map((x) => x.accepted), gatewayPeakRssMb: w.gatewayPeakRssMb() ?? 0,
  }))
  const complete = s.every((x) => x.accepted === N) && b.every((x) => x.accepted === N)
  if (!complete) console.error('not every filing was accepted')
  process.exitCode = complete ? 0 : 1
} finally {
  await w.close()
}
