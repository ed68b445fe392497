import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// A benchmark interrupted by a signal ends the processes it started (test/helpers/children.ts);
// before, its gateways kept running and the next benchmarks measured the machine with them.
const helper = fileURLToPath(new URL('../helpers/children.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'tongban-children-'))
const program = join(dir, 'program.ts')
writeFileSync(program, `import { spawn } from 'node:child_process'
import { adopt } from ${JSON.stringify(helper)}
const child = adopt(spawn('sleep', ['60'], { stdio: 'ignore' }))
console.log(child.pid)
if (process.argv[2] === 'exit') setTimeout(() => process.exit(0), 100)
else setInterval(() => {}, 1_000)
`)

// Running or sleeping: a killed child whose parent is gone may stay a zombie until reaped (state Z).
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^\d+ \(.*\) [ZX]/.test(stat)
  } catch {
    return false
  }
}

async function run(mode: string, tap: boolean, signal?: NodeJS.Signals): Promise<{ code: number | null; sleeper: number }> {
  const env = { ...process.env }
  delete env.TAP
  if (tap) env.TAP = '1'
  const p = spawn(process.execPath, ['--import', 'tsx', program, mode], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const sleeper = await new Promise<number>((resolve, reject) => {
    p.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim())))
    p.once('exit', () => reject(new Error('the program ended before it started its child')))
  })
  const ended = new Promise<number | null>((r) => p.once('exit', (code) => r(code)))
  if (signal !== undefined) p.kill(signal)
  const code = await ended
  // SIGKILL is delivered at once; the child is reaped by init a moment later.
  for (let i = 0; i < 50 && alive(sleeper); i++) await new Promise((r) => setTimeout(r, 20))
  return { code, sleeper }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal}: the child goes, and the program ends as the signal would have`, async (t) => {
    const { code, sleeper } = await run('wait', false, signal)
    t.equal(code, signal === 'SIGTERM' ? 143 : 130)
    t.notOk(alive(sleeper), `the child ${sleeper} is gone`)
  })
}

t.test('a normal exit: the child goes', async (t) => {
  const { code, sleeper } = await run('exit', false)
  t.equal(code, 0)
  t.notOk(alive(sleeper), `the child ${sleeper} is gone`)
})

t.test("under tap a signal stays tap's: the program ends by it (the exit hook does not run)", async (t) => {
  const { code, sleeper } = await run('wait', true, 'SIGTERM')
  t.equal(code, null, 'ended by the signal')
  t.ok(alive(sleeper), 'its child outlives it, as any program without the hook')
  process.kill(sleeper, 'SIGKILL')
})
