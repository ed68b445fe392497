import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ENV, loadConfig } from '../../src/config/index.ts'

// Issue 9: compose.yaml starts PostgreSQL, Redis (AOF on, noeviction), two gateways and a worker.
// No Docker engine runs here, so this checks what can be checked without one: the file parses
// (anchors and merges resolved as Compose does), the services and what they depend on exist,
// every TONGBAN_* variable it sets is one the gateway reads, and each process's environment is a
// configuration the gateway accepts, all of them on one database, schema, Redis and prefix.
const root = join(import.meta.dirname, '..', '..')
const doc = parse(readFileSync(join(root, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; image?: string; build?: string; environment?: Record<string, string>; depends_on?: Record<string, unknown>; volumes?: string[]; ports?: string[]; healthcheck?: unknown }>
  volumes: Record<string, unknown>
}
const s = doc.services

/** ${VAR:?message} and ${VAR} as Compose would substitute them, with a stand-in value. */
const substitute = (v: string): string => v.replace(/\$\{([A-Z_]+)(:\?[^}]*)?\}/g, 'stand-in')

t.test('the services: PostgreSQL, Redis, two gateways and a worker', async (t) => {
  t.same(Object.keys(s).sort(), ['gateway-1', 'gateway-2', 'postgres', 'redis', 'worker'])
  t.same(s['gateway-1']!.command, ['serve'])
  t.same(s['gateway-2']!.command, ['serve'])
  t.same(s.worker!.command, ['worker'])
  for (const name of ['gateway-1', 'gateway-2', 'worker']) {
    t.equal(s[name]!.build, '.', `${name} is built from this checkout`)
    t.ok(existsSync(join(root, 'Dockerfile')), 'whose Dockerfile exists')
    for (const dep of Object.keys(s[name]!.depends_on ?? {})) t.ok(s[dep], `${name} depends on ${dep}, a service of the file`)
    t.same(Object.keys(s[name]!.depends_on ?? {}).sort(), ['postgres', 'redis'])
  }
  for (const [name, svc] of Object.entries(s)) {
    for (const v of svc.volumes ?? []) {
      const source = v.split(':')[0]!
      if (!source.startsWith('.')) t.ok(source in doc.volumes, `${name}: the named volume ${source} is declared`)
    }
  }
  const hostPorts = Object.values(s).flatMap((x) => x.ports ?? []).map((p) => p.split(':').slice(0, -1).join(':'))
  t.equal(new Set(hostPorts).size, hostPorts.length, 'no host port published twice')
})

t.test('Redis: AOF on and no eviction, as BullMQ requires', async (t) => {
  const cmd = s.redis!.command!.join(' ')
  t.match(cmd, /--appendonly yes/)
  t.match(cmd, /--maxmemory-policy noeviction/)
})

t.test('every variable is one the gateway reads, and each process\'s environment is a valid configuration', async (t) => {
  const one = new Set<string>()
  for (const name of ['gateway-1', 'gateway-2', 'worker']) {
    const env = Object.fromEntries(Object.entries(s[name]!.environment ?? {}).map(([k, v]) => [k, substitute(String(v))]))
    for (const k of Object.keys(env)) t.ok(k in ENV, `${name}: ${k} is read by the gateway (docs/configuration.md)`)
    const config = loadConfig({ env, ...(name === 'worker' ? { overrides: { http: false } } : {}) })
    t.equal(config.keysDir, '/etc/tongban/keys')
    t.ok((s[name]!.volumes ?? []).some((v) => v.split(':')[1] === config.keysDir), `${name}: the keys are mounted where TONGBAN_KEYS_DIR says`)
    t.ok((s[name]!.volumes ?? []).some((v) => v.split(':')[1] === config.directoryFile), `${name}: the directory is mounted where TONGBAN_DIRECTORY says`)
    if (config.console.enabled) t.ok((s[name]!.volumes ?? []).some((v) => config.console.tlsCertFile?.startsWith(`${v.split(':')[1]}/`)), `${name}: the console's TLS files are mounted`)
    t.match(config.databaseUrl, /@postgres:5432\//, 'PostgreSQL by its service name')
    t.match(config.redisUrl, /^redis:\/\/redis:6379\//, 'Redis by its service name')
    if (name !== 'worker') t.equal(config.listen.port, Number((s[name]!.ports ?? [])[0]!.split(':').pop()), `${name} listens on the port it publishes`)
    one.add(JSON.stringify([config.databaseUrl, config.dbSchema, config.redisUrl, config.redisPrefix]))
  }
  t.equal(one.size, 1, 'all three on one database, schema, Redis and prefix: one gateway')
  t.equal(loadConfig({ env: Object.fromEntries(Object.entries(s['gateway-1']!.environment ?? {}).map(([k, v]) => [k, substitute(String(v))])) }).workers, false, 'the gateways leave delivery to the worker')
})
