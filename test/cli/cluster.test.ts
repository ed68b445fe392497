import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { freePort } from '../helpers/redis-server.ts'
import { until } from '../helpers/wait.ts'
import { World } from '../helpers/world.ts'

// Issue 9 (speed): `processes: 2` runs two whole gateways on one port (node:cluster), so both
// cores run JavaScript. Both serve requests; a process that dies is replaced; /metrics (served by
// the primary) sums both; SIGTERM stops them all.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const metricsPort = await freePort()
const w = await World.start({
  label: 'cluster',
  subprocess: true,
  config: { processes: 2, metrics: { enabled: true, host: '127.0.0.1', port: metricsPort }, log: { level: 'info' } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())
const reg = w.client(REG)
const request = validFixture('tax.assessment.request')
let n = 500
const send = async (): Promise<string> => (await reg.send({ ...request.envelope, caseId: `231202-2026-${String(n++).padStart(6, '0')}` })).exchangeId
const logLines = (): Array<{ proc?: number; msg?: string; req?: { url?: string } }> =>
  readFileSync(join(w.dir, 'gateway.log'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { proc?: number; msg?: string })
const metric = async (name: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
}

t.test('two processes, one port: both take requests, every message arrives once', async (t) => {
  t.equal(w.gatewayProcesses().length, 2, 'two gateway processes under the primary')
  const ids = await Promise.all(Array.from({ length: 24 }, () => send()))
  await w.partner(TAX).server.waitFor(24)
  t.equal(new Set(ids).size, 24)
  t.equal(w.partner(TAX).server.accepted.size, 24, 'each delivered')
  t.ok([...w.partner(TAX).server.accepted.values()].every((k) => k === 1), 'once')
  // The primary hands out connections in turn (a keep-alive client may use one): ten new ones.
  for (let i = 0; i < 10; i++) await fetch(`${w.url}/readyz?probe=${i}`, { headers: { connection: 'close' } })
  const served = new Set(logLines().filter((l) => l.msg === 'incoming request' && l.req?.url?.startsWith('/readyz?probe=') === true).map((l) => l.proc))
  t.same([...served].sort(), [1, 2], 'both processes answered requests')
  t.equal(await metric('tongban_messages_accepted_total{'), 24, '/metrics adds up both processes')
})

t.test('a process that dies is replaced, and the gateway goes on', async (t) => {
  const [victim] = w.gatewayProcesses()
  process.kill(victim as number, 'SIGKILL')
  await until('replaced', async () => { const now = w.gatewayProcesses(); return now.length === 2 && !now.includes(victim as number) }, 20_000)
  t.ok(logLines().some((l) => l.msg === 'a gateway process died: starting another'), 'the primary logged it')
  await until('the new process serves', async () => new Set(logLines().filter((l) => l.msg === 'Server listening at http://127.0.0.1:' + new URL(w.url).port).map((l) => l.proc)).size >= 3, 20_000)
  const more = await Promise.all(Array.from({ length: 10 }, () => send()))
  t.equal(new Set(more).size, 10, 'accepted after the restart')
  await w.partner(TAX).server.waitFor(34)
})

t.test('a state gauge is one value, not one per process', async (t) => {
  const tax = w.partner(TAX).server
  tax.behave(() => 503)
  await Promise.all(Array.from({ length: 3 }, () => send()))
  await until('three pending and attempted', async () => (await w.db.query(`SELECT 1 FROM deliveries WHERE status = 'pending' AND attempts > 0`)).rowCount === 3)
  t.equal(await metric('tongban_deliveries_pending '), 3, 'three pending deliveries, whichever process counted them')
  tax.behave(() => 200)
  await until('delivered', async () => (await w.db.query(`SELECT 1 FROM deliveries WHERE status = 'pending'`)).rowCount === 0, 30_000)
})

t.test('SIGTERM stops every process', async (t) => {
  const all = w.gatewayProcesses()
  w.signalGateway('SIGTERM')
  await until('all gone', async () => all.every((pid) => { try { process.kill(pid, 0); return false } catch { return true } }), 20_000)
  t.pass('both processes exited')
})
