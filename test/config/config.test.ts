import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, DEFAULTS, loadConfig, sm2ThreadOf, type LoadOptions } from '../../src/config/index.ts'

// Configuration enters once: defaults < file < environment < overrides, validated against
// schemas/config.v1.json and frozen; an unknown or misspelt key fails with a hint.
const dir = mkdtempSync(join(tmpdir(), 'tongban-config-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, doc: unknown): string => {
  const p = join(dir, name)
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc))
  return p
}
// The two settings without a default, given in the environment (a file's would be overridden).
const FILES = { TONGBAN_KEYS_DIR: '/etc/tongban/keys', TONGBAN_DIRECTORY: '/etc/tongban/directory.json' }
const load = (o: LoadOptions = {}): ReturnType<typeof loadConfig> => loadConfig({ ...o, env: { ...FILES, ...o.env } })
const problems = (f: () => unknown): readonly string[] => {
  try {
    f()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('defaults, then a file, then the environment, then overrides', async (t) => {
  t.equal(load().listen.port, DEFAULTS.listen.port)
  const f = file('a.json', { listen: { host: '0.0.0.0', port: 9000 }, keysDir: 'keys', directoryFile: 'directory.json', delivery: { attempts: 3 } })
  const c = loadConfig({ file: f, env: { TONGBAN_PORT: '9100', TONGBAN_WORKERS: 'false' }, overrides: { log: { level: 'warn' } } })
  t.equal(c.listen.host, '0.0.0.0', 'from the file')
  t.equal(c.listen.port, 9100, 'the environment wins over the file')
  t.equal(c.workers, false, 'booleans from the environment')
  t.equal(c.delivery.attempts, 3, 'a nested key from the file')
  t.equal(c.delivery.backoffMs, DEFAULTS.delivery.backoffMs, 'its siblings keep their defaults')
  t.equal(c.log.level, 'warn', 'overrides win')
  t.equal(c.keysDir, join(dir, 'keys'), 'a relative path in the file is relative to the file')
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.delivery), 'frozen, all the way down')
  t.equal(loadConfig({ env: { TONGBAN_CONFIG: f } }).listen.port, 9000, 'TONGBAN_CONFIG names the file')
})

t.test('unknown and misspelt keys fail, with a hint', async (t) => {
  t.same(problems(() => load({ env: { TONGBAN_DATABSE_URL: 'postgres://x' } })), ['environment variable TONGBAN_DATABSE_URL is not known (did you mean TONGBAN_DATABASE_URL?)'])
  const p = problems(() => load({ file: file('b.json', { delivery: { atempts: 3 } }) }))
  t.same(p, ['/delivery/atempts: unknown key (did you mean "attempts"?)'])
  t.match(problems(() => load({ file: file('c.json', { nothingLikeIt: 1 }) }))[0], /^\/nothingLikeIt: unknown key$/)
  t.same(problems(() => load({ env: { TONGBAN_REQUIRE_NATIVE: '1' } })), [], 'variables of the tooling are not configuration')
})

t.test('bad values name their JSON pointer', async (t) => {
  t.match(problems(() => load({ env: { TONGBAN_PORT: 'eighty' } }))[0], /TONGBAN_PORT must be an integer/)
  t.match(problems(() => load({ env: { TONGBAN_WORKERS: 'perhaps' } }))[0], /TONGBAN_WORKERS must be true or false/)
  t.match(problems(() => load({ env: { TONGBAN_PORT: '70000' } }))[0], /^\/listen\/port: /)
  t.match(problems(() => load({ env: { TONGBAN_REDIS_URL: 'http://redis' } }))[0], /^\/redisUrl: /)
  t.match(problems(() => load({ env: { TONGBAN_LOG_LEVEL: 'chatty' } }))[0], /^\/log\/level: /)
  t.match(problems(() => load({ file: file('d.json', '{ not json') }))[0], /d\.json: /)
  t.match(problems(() => load({ file: file('e.json', [1, 2]) }))[0], /must hold a JSON object/)
  t.match(problems(() => load({ file: join(dir, 'missing.json') }))[0], /missing\.json: /)
  const all = problems(() => load({ env: { TONGBAN_PORT: '70000', TONGBAN_LOG_LEVEL: 'chatty' } }))
  t.equal(all.length, 2, 'every problem at once, not one per start')
})

t.test('the keys folder and the directory have no default: leaving them out says what to pass', async (t) => {
  t.notOk('keysDir' in DEFAULTS || 'directoryFile' in DEFAULTS, 'nothing points into certs-example/')
  const p = problems(() => loadConfig())
  t.equal(p.length, 2)
  t.match(p[0], /^\/keysDir: required: the folder of the gateway's own keys: pass --keys DIR, TONGBAN_KEYS_DIR or "keysDir" in the config file \(make one with `tongban keys gateway --out DIR`/)
  t.match(p[1], /^\/directoryFile: required: the participant directory: pass --directory FILE, TONGBAN_DIRECTORY or "directoryFile" in the config file/)
})

t.test('allowSampleKeys: off unless asked for, by file, environment or flag', async (t) => {
  t.equal(load().allowSampleKeys, false)
  t.equal(load({ env: { TONGBAN_ALLOW_SAMPLE_KEYS: 'true' } }).allowSampleKeys, true)
  t.equal(load({ file: file('f.json', { allowSampleKeys: true }) }).allowSampleKeys, true)
  t.match(problems(() => load({ file: file('g.json', { allowSampleKey: true }) }))[0], /^\/allowSampleKey: unknown key \(did you mean "allowSampleKeys"\?\)/)
})

t.test('queries.maxAnswerBytes: 1 MiB unless set', async (t) => {
  t.equal(load().queries.maxAnswerBytes, 1_048_576)
  t.equal(load({ env: { TONGBAN_QUERY_MAX_ANSWER_BYTES: '65536' } }).queries.maxAnswerBytes, 65_536)
  t.match(problems(() => load({ env: { TONGBAN_QUERY_MAX_ANSWER_BYTES: '10' } }))[0], /^\/queries\/maxAnswerBytes: /)
})

t.test('delivery.lockMs: 30 s unless set, TONGBAN_DELIVERY_LOCK_MS included (it bounds recovery after a crash)', async (t) => {
  t.equal(load().delivery.lockMs, 30_000)
  t.equal(load({ env: { TONGBAN_DELIVERY_LOCK_MS: '5000' } }).delivery.lockMs, 5_000)
  t.match(problems(() => load({ env: { TONGBAN_DELIVERY_LOCK_MS: '100' } })).join(' '), /lockMs/, 'below 500 ms is refused')
})

t.test('crypto.sm2Thread: auto unless set (the event loop for an API-only process, the threadpool for one that delivers), TONGBAN_SM2_THREAD included', async (t) => {
  t.equal(load().crypto.sm2Thread, 'auto')
  t.equal(sm2ThreadOf(load()), 'threadpool', 'API and delivery workers in one process: the threadpool')
  t.equal(sm2ThreadOf(load({ env: { TONGBAN_WORKERS: 'false' } })), 'event-loop', 'the API only: the event loop')
  t.equal(sm2ThreadOf(load({ overrides: { http: false, workers: true } })), 'threadpool', 'a delivery worker (tongban worker): the threadpool')
  t.equal(sm2ThreadOf(load({ env: { TONGBAN_WORKERS: 'false', TONGBAN_SM2_THREAD: 'threadpool' } })), 'threadpool', 'set: as set')
  t.equal(sm2ThreadOf(load({ env: { TONGBAN_SM2_THREAD: 'event-loop' } })), 'event-loop', 'set: as set, whatever the process does')
  t.equal(load({ env: { TONGBAN_SM_BACKEND: 'native' } }).crypto.sm2Thread, 'auto', 'setting the backend alone keeps the default')
  t.match(problems(() => load({ env: { TONGBAN_SM2_THREAD: 'sometimes' } })).join(' '), /\/crypto\/sm2Thread/)
})
