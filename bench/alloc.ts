/**
 * `npm run bench:alloc -- --port P [--seconds S] [--messages N]`: what a running gateway
 * allocates, and where. It connects to the gateway's inspector (start the gateway with
 * `--inspect=127.0.0.1:P`, e.g. `npm run bench:accept -- --rate 360 --messages 8000
 * --node-args=--inspect=127.0.0.1:9339`, then run this a few seconds into the measured phase),
 * samples V8's allocations for S seconds (every 32 KiB on average, objects collected since
 * included: the allocation rate, not what stays), and prints the bytes allocated per site,
 * largest first: by the nearest function of the gateway's own code (dist/src/…), then by the
 * allocating function. With N (the messages the gateway handled in those seconds, e.g. the offered
 * rate × S), also per message.
 *
 * V8's sampling is statistical: compare sites within a run, and runs by their totals.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { port: { type: 'string' }, seconds: { type: 'string' }, messages: { type: 'string' }, out: { type: 'string' } }, strict: true })
const PORT = Number(values.port)
const SECONDS = Number(values.seconds ?? 10)
const MESSAGES = values.messages === undefined ? undefined : Number(values.messages)
if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) throw new Error('--port is the gateway\'s inspector port (node --inspect=127.0.0.1:PORT)')
if (!(SECONDS > 0)) throw new Error('--seconds is a number > 0')
if (MESSAGES !== undefined && !(MESSAGES > 0)) throw new Error('--messages is a number > 0')
const WS = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket
if (WS === undefined) throw new Error('no WebSocket in this Node.js: run it with node --experimental-websocket (npm run bench:alloc does)')

interface WebSocketLike {
  onopen: (() => void) | null
  onmessage: ((e: { data: string }) => void) | null
  onerror: ((e: unknown) => void) | null
  send(data: string): void
  close(): void
}
interface CallFrame { functionName: string; url: string; lineNumber: number }
interface SamplingNode { callFrame: CallFrame; selfSize: number; children?: SamplingNode[] }

const listing = await fetch(`http://127.0.0.1:${PORT}/json/list`).catch(() => undefined)
if (listing === undefined) throw new Error(`no inspector answers on 127.0.0.1:${PORT}: start the gateway with --inspect=127.0.0.1:${PORT}`)
const targets = (await listing.json()) as Array<{ webSocketDebuggerUrl: string }>
const url = targets[0]?.webSocketDebuggerUrl
if (url === undefined) throw new Error(`no inspector target on port ${PORT}`)
const ws = new WS(url)
const pending = new Map<number, (result: unknown) => void>()
let next = 0
ws.onmessage = (e) => {
  const m = JSON.parse(e.data) as { id?: number; result?: unknown; error?: { message: string } }
  if (m.id === undefined) return
  const done = pending.get(m.id)
  pending.delete(m.id)
  if (m.error !== undefined) throw new Error(`inspector: ${m.error.message}`)
  done?.(m.result)
}
await new Promise<void>((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject })
const call = (method: string, params: object = {}): Promise<unknown> => new Promise((resolve) => {
  const id = ++next
  pending.set(id, resolve)
  ws.send(JSON.stringify({ id, method, params }))
})

await call('HeapProfiler.enable')
await call('HeapProfiler.startSampling', { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
await new Promise((r) => setTimeout(r, SECONDS * 1000))
const { profile } = (await call('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } }
ws.close()
if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(profile))

const where = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`
const own = (f: CallFrame): boolean => /\/dist\/src\//.test(f.url)
const byOwn = new Map<string, number>()
const bySelf = new Map<string, number>()
let total = 0
const walk = (n: SamplingNode, nearestOwn: CallFrame | undefined): void => {
  const mine = own(n.callFrame) ? n.callFrame : nearestOwn
  if (n.selfSize > 0) {
    total += n.selfSize
    const self = where(n.callFrame)
    bySelf.set(self, (bySelf.get(self) ?? 0) + n.selfSize)
    const k = mine === undefined ? `(no gateway frame) ${self}` : where(mine)
    byOwn.set(k, (byOwn.get(k) ?? 0) + n.selfSize)
  }
  for (const c of n.children ?? []) walk(c, mine)
}
walk(profile.head, undefined)

const unit = MESSAGES === undefined ? 'MB' : 'KB/message'
const show = (bytes: number): string => (MESSAGES === undefined ? bytes / 1e6 : bytes / MESSAGES / 1e3).toFixed(2)
console.log(`allocated in ${SECONDS} s: ${(total / 1e6).toFixed(1)} MB${MESSAGES === undefined ? '' : `, ${show(total)} KB per message (${MESSAGES} messages)`}\n`)
for (const [title, map] of [['by the nearest function of the gateway\'s own code', byOwn], ['by the allocating function', bySelf]] as const) {
  console.log(`${title} (${unit}):`)
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${show(v).padStart(9)}  ${k}`)
  console.log('')
}
console.log(JSON.stringify({ seconds: SECONDS, messages: MESSAGES ?? null, allocatedMb: Math.round(total / 1e5) / 10, ...(MESSAGES === undefined ? {} : { kbPerMessage: Math.round(total / MESSAGES / 100) / 10 }) }))
