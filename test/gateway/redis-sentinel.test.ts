import t from 'tap'
import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { loadConfig } from '../../src/config/index.ts'
import { redisOptions, redisWhere } from '../../src/gateway/redis-options.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { freePort } from '../helpers/redis-server.ts'
import { until } from '../helpers/wait.ts'
import { World } from '../helpers/world.ts'

// Issue 9: Redis Sentinel is a configuration option. A Redis master, a replica and a Sentinel of
// the test's own: the gateway is given only the Sentinel (its redisUrl points at a port where
// nothing listens), accepts and delivers through the master the Sentinel names, and after the
// master is killed and the Sentinel promotes the replica, it accepts and delivers again.
const dir = mkdtempSync(join(tmpdir(), 'tongban-sentinel-'))
const procs: ChildProcess[] = []
const start = (args: string[]): ChildProcess => {
  const p = spawn('redis-server', args, { stdio: 'ignore' })
  procs.push(p)
  return p
}
const ping = async (port: number): Promise<boolean> => {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  c.on('error', () => {})
  try {
    await c.connect()
    return (await c.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    c.disconnect()
  }
}

const [masterPort, replicaPort, sentinelPort, nobody] = [await freePort(), await freePort(), await freePort(), await freePort()]
const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
const master = start(['--port', String(masterPort), ...base])
start(['--port', String(replicaPort), ...base, '--replicaof', '127.0.0.1', String(masterPort)])
await until('master and replica up', async () => (await ping(masterPort)) && (await ping(replicaPort)))
const conf = join(dir, 'sentinel.conf')
writeFileSync(conf, [
  `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`,
  `sentinel monitor tongban-test 127.0.0.1 ${masterPort} 1`,
  'sentinel down-after-milliseconds tongban-test 1000',
  'sentinel failover-timeout tongban-test 5000',
].join('\n') + '\n')
start([conf, '--sentinel'])
await until('sentinel up', () => ping(sentinelPort))

const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'sentinel',
  // The World cleans up through the replica: the master is gone by then.
  redisUrl: `redis://127.0.0.1:${replicaPort}/0`,
  config: { redisUrl: `redis://127.0.0.1:${nobody}/0`, redisSentinels: [`127.0.0.1:${sentinelPort}`], redisSentinelName: 'tongban-test' },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(async () => {
  await w.close()
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

const request = validFixture('tax.assessment.request')
let n = 0
const sendAndDeliver = async (t: Test): Promise<void> => {
  const before = w.partner(TAX).server.accepted.size
  const r = await w.client(REG).send({ ...request.envelope, caseId: `231202-2026-5${String(n++).padStart(6, '0')}` })
  t.equal(r.status, 202, 'accepted (the nonce claimed in Redis)')
  await w.partner(TAX).server.waitFor(before + 1, 30_000)
  t.pass('delivered (through the BullMQ queue in Redis)')
}

t.test('the configuration: the Sentinels name the master; the URL gives the database', async (t) => {
  const c = loadConfig({ env: { TONGBAN_REDIS_URL: 'redis://:secret@ignored:1/3', TONGBAN_REDIS_SENTINELS: 'a.example:26379,b.example:26380', TONGBAN_REDIS_SENTINEL_NAME: 'gw' }, overrides: { keysDir: dir, directoryFile: join(dir, 'none.json') } })
  const o = redisOptions(c)
  t.same(o.sentinels, [{ host: 'a.example', port: 26379 }, { host: 'b.example', port: 26380 }])
  t.match(o, { name: 'gw', db: 3, password: 'secret' })
  t.notOk('host' in o, 'no host of its own')
  t.equal(redisWhere(c), 'Sentinel master gw (a.example:26379, b.example:26380)', 'said without the password')
  t.throws(() => loadConfig({ env: { TONGBAN_REDIS_SENTINELS: 'no-port' }, overrides: { keysDir: dir, directoryFile: join(dir, 'none.json') } }), /redisSentinels/)
})

t.test('through the Sentinel: accepted and delivered', async (t) => {
  await sendAndDeliver(t)
  const direct = new Redis({ port: masterPort, host: '127.0.0.1' })
  const keys = await direct.keys(`${w.prefix}:*`).finally(() => direct.disconnect())
  t.ok(keys.length > 0, 'the gateway\'s keys are on the master the Sentinel named')
})

t.test('the master dies, the Sentinel promotes the replica: the gateway follows', async (t) => {
  const sentinel = new Redis({ port: sentinelPort, host: '127.0.0.1' })
  t.teardown(() => sentinel.disconnect())
  // A Sentinel learns of the replicas from the master's INFO (every 10 s): it can promote only
  // one it knows, linked to the master. Killed before, the master would have no successor.
  await until('the Sentinel to know the replica, in sync', async () => {
    const replicas = await sentinel.call('SENTINEL', 'replicas', 'tongban-test') as string[][]
    return replicas.some((flat) => {
      const r = new Map(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1] ?? '']] : [])))
      return r.get('port') === String(replicaPort) && r.get('master-link-status') === 'ok' && !/s_down|o_down|disconnected/.test(r.get('flags') ?? '')
    })
  }, 30_000)
  master.kill('SIGKILL')
  await until('the Sentinel to promote the replica', async () => {
    const addr = await sentinel.call('SENTINEL', 'get-master-addr-by-name', 'tongban-test') as string[]
    return addr[1] === String(replicaPort)
  }, 60_000)
  // Accepting needs Redis (the nonce): retried while the gateway reconnects (503 meanwhile).
  let status = 0
  await until('a message accepted after the failover', async () => {
    // A refusal (the 503) rejects the send: it is recorded, and the next try comes.
    status = await w.client(REG).send({ ...request.envelope, caseId: `231202-2026-5${String(n++).padStart(6, '0')}` })
      .then((r) => r.status, (e: { status?: number }) => e.status ?? 0)
    return status === 202
  }, 30_000)
  t.equal(status, 202)
  await sendAndDeliver(t)
})
