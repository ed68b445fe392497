import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// bench/json.ts (npm run bench:json): the strict JSON reading against JSON.parse, measured in the
// same run on the compiled code. The strict reading does JSON.parse's work and a scan on top, so it
// can only be slower: a ratio of 1 or less would mean it measured something else.
const root = fileURLToPath(new URL('../..', import.meta.url))

t.test('prints µs per call and the ratio to JSON.parse for each input', async (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/json.ts', '--ms', '50'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  const last = JSON.parse(lines[lines.length - 1] as string) as Record<string, { bytes: number; strictUs: number; jsonParseUs: number; ratio: number }>
  t.same(Object.keys(last), ['envelope (tax.assessment.request)', 'JOSE protected header'])
  for (const [name, m] of Object.entries(last)) {
    t.ok(m.bytes > 0 && m.strictUs > 0 && m.jsonParseUs > 0, `${name}: measured`)
    t.ok(m.ratio > 1, `${name}: strict ÷ JSON.parse = ${m.ratio}`)
  }
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'bench/json.ts', '--ms', '1'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  t.not(bad.status, 0)
  t.match(bad.stderr, /--ms is a number ≥ 50/)
})
