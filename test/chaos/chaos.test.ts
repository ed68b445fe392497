import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { plainEnv } from '../helpers/subprocess.ts'

// Issue 9, must-show 3 (the CI version): `npm run chaos` with 1,000 messages. Two serve
// instances and a worker (processes of their own) on a PostgreSQL cluster and a redis-server of
// the run's own; SIGKILL of each process, Redis FLUSHALL, a PostgreSQL crash and restart, the
// partner down for 8 s, random partner 503s and delays. Nothing receipted may be lost, no message
// may take effect twice, and while the partner is down the failed attempts are bounded by the
// delivery circuit's probe rate. The full run (10,000 messages, 30 s outage) is `npm run chaos`.
const root = fileURLToPath(new URL('../../', import.meta.url))

t.test('1,000 messages through the faults: none lost, none doubled', async (t) => {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    // Outside the runner's coverage (env -u NODE_OPTIONS, as tongbanCommand does): the run loads the
    // sources through tsx, whose coverage cannot be merged with the tests' own.
    execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, '--import', 'tsx', 'bench/chaos.ts', '--messages', '1000', '--rate', '25', '--outage', '8'], {
      cwd: root, env: plainEnv(), timeout: 220_000, maxBuffer: 16 * 1024 * 1024,
    }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr }))
  })
  const line = stdout.trim().split('\n').pop() ?? ''
  t.comment(stderr.trim().split('\n').slice(-12).join('\n'))
  t.equal(code, 0, 'the run says nothing was lost or doubled (exit 0)')
  const r = JSON.parse(line) as Record<string, unknown> & { outage: { seconds: number; failedConnections: number; probeBound: number }; faults: string[]; faultsFailed: string[] }
  t.match(r, { sent: 1000, accepted: 1000, delivered: 1000, lost: 0, doubleEffects: 0, storedExchanges: 1000, deliveries: { delivered: 1000 }, gaveUp: 0, partnerUnreadable: 0 })
  t.same(r.refused, {}, 'no message refused')
  t.equal(r.faults.length, 6, `every fault happened: ${r.faults.join(', ')}`)
  t.same(r.faultsFailed, [])
  t.ok(r.outage.seconds >= 8, 'the partner was down 8 s')
  t.ok(r.outage.failedConnections <= r.outage.probeBound, `${r.outage.failedConnections} failed connections during the outage, within the probe bound ${r.outage.probeBound}`)
  for (const k of ['sent', 'accepted', 'delivered', 'lost', 'doubleEffects', 'duplicatesDelivered', 'drainSeconds']) t.type(r[k], 'number', `the line has ${k}`)
})
