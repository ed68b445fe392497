/**
 * Where a gateway process's CPU went: reads V8 CPU profiles (.cpuprofile, written by
 * `node --cpu-prof`, e.g. by `npm run bench:accept -- --profile DIR`) and sums the self time of
 * every sample by where its function lives — a dependency (node-postgres, BullMQ, ioredis,
 * Fastify, ajv, pino, undici…), the SM2 binding, the gateway's own rooms (src/<room>/), Node's
 * internals, garbage collection, or idle. Prints a table, largest first, and one JSON line.
 *
 *   node --import tsx bench/profile.ts DIR-or-FILE…
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

interface CallFrame { functionName: string; url: string }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** The bucket of a function, by where its code lives. */
export function bucket(frame: CallFrame): string {
  const { url, functionName } = frame
  if (url === '') {
    if (functionName === '(garbage collector)') return 'garbage collection'
    if (functionName === '(idle)') return 'idle'
    if (functionName === '(program)') return 'V8/native (program)'
    return `native: ${functionName || '(anonymous)'}`
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (pkg) {
    const name = pkg[1] as string
    if (name === 'pg' || name.startsWith('pg-')) return 'node-postgres (pg)'
    if (name === 'bullmq') return 'BullMQ'
    if (name === 'ioredis' || name === 'redis-parser' || name === '@ioredis/commands') return 'ioredis'
    if (name === 'fastify' || name.startsWith('@fastify/') || name.startsWith('find-my-way') || name === 'light-my-request' || name === 'avvio' || name === 'fast-json-stringify') return 'Fastify'
    if (name === 'ajv' || name === 'ajv-formats' || name === 'fast-uri') return 'ajv'
    if (name === 'pino' || name.startsWith('pino-') || name === 'sonic-boom' || name === 'thread-stream') return 'pino (logging)'
    return `dependency: ${name}`
  }
  const room = /\/(?:dist\/)?src\/([^/]+)\//.exec(url)
  if (room) {
    if (url.includes('/crypto/sm/')) return 'SM2/SM3/SM4 (binding and JS around it)'
    if (url.includes('/crypto/')) return 'src/crypto (JOSE, keys)'
    return `src/${room[1]}`
  }
  if (url.startsWith('node:')) {
    if (/node:(net|_http|http|stream|internal\/stream|internal\/streams)/.test(url)) return 'Node: network and streams'
    if (/crypto/.test(url)) return 'Node: crypto'
    return 'Node: other internals'
  }
  return `other: ${url.replace(/^.*\//, '')}`
}

/** Whether a bucket names code of our own or of a dependency (not Node's internals, native code or V8). */
const owned = (b: string): boolean => !/^(native: |Node: |other: |V8\/native)/.test(b)

/**
 * Milliseconds of CPU per bucket, over every profile given. A sample in Node's internals or native
 * code (a socket write, a hash) is charged to the nearest caller that is a dependency or the
 * gateway's own code — who asked for the work — so "node-postgres" includes the socket writes it
 * makes. Garbage collection, idle and V8's own work stay apart.
 */
export function summarize(profiles: readonly CpuProfile[]): Map<string, number> {
  const totals = new Map<string, number>()
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]))
    const parent = new Map<number, number>()
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    const owner = new Map<number, string>()
    const ownerOf = (id: number): string => {
      const known = owner.get(id)
      if (known !== undefined) return known
      const node = byId.get(id)!
      const own = bucket(node.callFrame)
      let b = own
      if (!owned(own) && !['garbage collection', 'idle', 'V8/native (program)'].includes(own)) {
        const up = parent.get(id)
        const above = up === undefined ? undefined : ownerOf(up)
        b = above !== undefined && owned(above) ? above : own
      }
      owner.set(id, b)
      return b
    }
    for (let i = 0; i < p.samples.length; i++) {
      const node = byId.get(p.samples[i] as number)
      if (node === undefined) continue
      const b = ownerOf(node.id)
      totals.set(b, (totals.get(b) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000)
    }
  }
  return totals
}

function files(paths: readonly string[]): string[] {
  return paths.flatMap((p) => statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p])
}

/** The table of a summary: busy time only (idle left out), largest first, with shares of busy time. */
export function report(totals: Map<string, number>): { lines: string[]; json: Record<string, number> } {
  const busy = [...totals].filter(([b]) => b !== 'idle')
  const sum = busy.reduce((n, [, ms]) => n + ms, 0)
  const rows = busy.sort((a, b) => b[1] - a[1])
  const lines = [`${'where'.padEnd(44)}${'ms'.padStart(10)}${'share'.padStart(8)}`]
  const json: Record<string, number> = {}
  for (const [b, ms] of rows) {
    if (ms / sum < 0.005) continue
    lines.push(`${b.padEnd(44)}${ms.toFixed(0).padStart(10)}${`${((100 * ms) / sum).toFixed(1)}%`.padStart(8)}`)
    json[b] = Math.round((1000 * ms) / sum) / 1000
  }
  lines.push(`${'busy (not idle), total'.padEnd(44)}${sum.toFixed(0).padStart(10)}`, `${'idle'.padEnd(44)}${(totals.get('idle') ?? 0).toFixed(0).padStart(10)}`)
  return { lines, json }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const paths = process.argv.slice(2)
  if (paths.length === 0) throw new Error('usage: node --import tsx bench/profile.ts DIR-or-FILE…')
  const profiles = files(paths).map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile)
  const { lines, json } = report(summarize(profiles))
  for (const l of lines) console.log(l)
  console.log(JSON.stringify(json))
}
