import { spawn, spawnSync } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// bench/alloc.ts (npm run bench:alloc) samples a running process's allocations through its
// inspector and names the sites. Here against a small program that allocates in a function of
// known name, started with the inspector on a free port.
const root = fileURLToPath(new URL('../..', import.meta.url))

t.test('samples a process through its inspector and names where it allocates', async (t) => {
  const program = 'function makeGarbage() { return Array.from({ length: 2000 }, (_, i) => ({ i, s: "x" + i })) } setInterval(() => { globalThis.kept = makeGarbage() }, 2)'
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', program], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const port = await new Promise<number>((resolve, reject) => {
    let text = ''
    child.stderr.on('data', (b: Buffer) => {
      text += b.toString()
      const m = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(text)
      if (m) resolve(Number(m[1]))
    })
    child.on('exit', () => reject(new Error(`the program ended: ${text}`)))
  })
  const r = spawnSync(process.execPath, ['--experimental-websocket', '--import', 'tsx', 'bench/alloc.ts', '--port', String(port), '--seconds', '1', '--messages', '100'], { cwd: root, encoding: 'utf8', timeout: 30_000 })
  t.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  const last = JSON.parse(lines[lines.length - 1] as string) as { seconds: number; messages: number; allocatedMb: number; kbPerMessage: number }
  t.equal(last.seconds, 1)
  t.equal(last.messages, 100)
  t.ok(last.allocatedMb > 1, `${last.allocatedMb} MB sampled in a second`)
  // (allocatedMb is rounded to 0.1 MB, kbPerMessage to 0.1 KB: 100 messages differ by at most 0.5 KB.)
  t.ok(Math.abs(last.kbPerMessage - (last.allocatedMb * 1000) / 100) <= 0.51, `per message: the total over the messages given (${last.kbPerMessage} KB)`)
  // The program's own code allocates nearly all of it (its function may be inlined into the
  // timer's closure by the optimiser, so the site is named by its script, [eval]).
  const sites = lines.filter((l) => /^\s+[\d.]+\s{2}/.test(l))
  const ours = sites.filter((l) => l.includes('[eval]')).map((l) => Number(l.trim().split(/\s+/)[0]))
  t.ok(ours.length > 0, 'the allocating code is named')
  t.ok(Math.max(...ours) > last.kbPerMessage / 2, `most of it is the program's own (${Math.max(...ours)} of ${last.kbPerMessage} KB per message)`)
})

t.test('refuses a missing port, and says why when nothing listens', async (t) => {
  const missing = spawnSync(process.execPath, ['--experimental-websocket', '--import', 'tsx', 'bench/alloc.ts'], { cwd: root, encoding: 'utf8', timeout: 30_000 })
  t.not(missing.status, 0)
  t.match(missing.stderr, /--port is the gateway's inspector port/)
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const free = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  const nothing = spawnSync(process.execPath, ['--experimental-websocket', '--import', 'tsx', 'bench/alloc.ts', '--port', String(free), '--seconds', '1'], { cwd: root, encoding: 'utf8', timeout: 30_000 })
  t.not(nothing.status, 0)
  t.match(nothing.stderr, new RegExp(`no inspector answers on 127\\.0\\.0\\.1:${free}`))
})
