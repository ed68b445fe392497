/**
 * `npm run bench:attachments` (issue 10 §2): the gateway's memory while a message with 100 MiB of
 * attachments goes through it — five files of 20 MiB (attachments.maxBytes) uploaded at once
 * (POST /v1/attachments), one message naming all five (attachments.maxMessageBytes), delivered, and
 * the recipient fetching all five at once (GET /v1/attachments/:id), each checked against the
 * signed envelope by the SDK. The gateway runs as its own process (`tongban serve`, workers on),
 * with real PostgreSQL and Redis. Its peak resident memory is reset (/proc/PID/clear_refs) after a
 * warm-up, and the growth is its peak during the run less its resident memory before it. Prints a
 * table and, last, one JSON line; the goal is a growth under 64 MiB.
 *
 *   --suite S    national (default) or international
 *   --files N    files of 20 MiB (default 5, 1..5)
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { World } from '../test/helpers/world.ts'
import { validFixture } from '../test/helpers/fixtures.ts'

const { values } = parseArgs({ options: { suite: { type: 'string' }, files: { type: 'string' } }, strict: true })
const SUITE = values.suite ?? 'national'
const FILES = Number(values.files ?? 5)
if (SUITE !== 'national' && SUITE !== 'international') throw new Error('--suite national|international')
if (!Number.isInteger(FILES) || FILES < 1 || FILES > 5) throw new Error('--files 1..5')
const MIB = 1_048_576
const FILE_BYTES = 20 * MIB

const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'benchatt', subprocess: true,
  config: { log: { level: 'warn' } },
  partners: [
    { id: REG, suite: SUITE, send: ['tax.assessment.request'], receive: [], noServer: true },
    { id: TAX, suite: SUITE, send: [], receive: ['tax.assessment.request'] },
  ],
})
const dir = mkdtempSync(join(tmpdir(), 'tongban-bench-att-'))

/** A /proc/PID/status field in MiB. */
const status = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error(`no ${field} for ${pid}`)
  return Number(m[1]) / 1024
}

try {
  const pid = w.gatewayPid()
  if (pid === undefined) throw new Error('the gateway runs in this process')
  // The files, written in 1 MiB pieces (this process does not hold them either).
  const paths: string[] = []
  for (let f = 0; f < FILES; f++) {
    const path = join(dir, `material-${f}.pdf`)
    const out = createWriteStream(path)
    for (let i = 0; i < FILE_BYTES / MIB; i++) if (!out.write(randomBytes(MIB))) await once(out, 'drain')
    out.end()
    await once(out, 'finish')
    paths.push(path)
  }
  const reg = w.client(REG)
  const tax = w.client(TAX)
  const request = validFixture('tax.assessment.request')

  // Warm-up: one small file through, so that code paths and pools are in place before the baseline.
  const warm = await reg.uploadAttachment(randomBytes(3 * MIB), 'application/pdf')
  for await (const _ of reg.downloadAttachment(warm)) void _

  writeFileSync(`/proc/${pid}/clear_refs`, '5')
  const baseline = status(pid, 'VmRSS')
  let sampledPeak = baseline
  const sampler = setInterval(() => { sampledPeak = Math.max(sampledPeak, status(pid, 'VmRSS')) }, 20)

  const t0 = performance.now()
  const refs = await Promise.all(paths.map((path) => reg.uploadAttachment({ path }, 'application/pdf')))
  const uploaded = performance.now()
  const sent = await reg.send({ ...request.envelope, attachments: refs })
  await w.partner(TAX).server.waitFor(1, 60_000)
  const delivered = w.partner(TAX).server.ofType('tax.assessment.request')[0]
  const named = delivered?.envelope.attachments ?? []
  const t1 = performance.now()
  const sizes = await Promise.all(named.map(async (ref) => {
    let n = 0
    for await (const piece of tax.downloadAttachment(ref)) n += piece.length
    return n
  }))
  const t2 = performance.now()
  clearInterval(sampler)
  const peak = status(pid, 'VmHWM')
  const total = sizes.reduce((a, b) => a + b, 0)
  if (total !== FILES * FILE_BYTES || named.length !== FILES) throw new Error(`received ${total} bytes in ${named.length} files`)

  const growth = peak - baseline
  const mbps = (bytes: number, ms: number): number => Math.round((bytes / MIB / (ms / 1000)) * 10) / 10
  const rows: Array<[string, string]> = [
    ['suite', SUITE],
    ['attachments', `${FILES} × 20 MiB = ${FILES * 20} MiB (exchange ${sent.exchangeId})`],
    ['gateway resident before', `${baseline.toFixed(1)} MiB`],
    ['gateway peak during', `${peak.toFixed(1)} MiB (sampled every 20 ms: ${sampledPeak.toFixed(1)} MiB)`],
    ['growth', `${growth.toFixed(1)} MiB (goal < 64 MiB)`],
    ['upload', `${((uploaded - t0) / 1000).toFixed(2)} s, ${mbps(FILES * FILE_BYTES, uploaded - t0)} MiB/s`],
    ['download', `${((t2 - t1) / 1000).toFixed(2)} s, ${mbps(total, t2 - t1)} MiB/s (each file checked against the signed envelope)`],
  ]
  for (const [k, v] of rows) console.log(`${k.padEnd(26)} ${v}`)
  console.log(JSON.stringify({
    bench: 'attachments', suite: SUITE, files: FILES, megabytes: FILES * 20, gatewayRssBeforeMiB: Math.round(baseline * 10) / 10, gatewayPeakMiB: Math.round(peak * 10) / 10,
    growthMiB: Math.round(growth * 10) / 10, under64MiB: growth < 64, uploadMiBps: mbps(FILES * FILE_BYTES, uploaded - t0), downloadMiBps: mbps(total, t2 - t1),
  }))
} finally {
  await w.close()
  rmSync(dir, { recursive: true, force: true })
}
