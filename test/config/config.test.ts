import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, DEFAULTS, loadConfig } from '../../src/config/index.ts'

// Configuration enters once: defaults < file < environment < overrides, validated against
// schemas/config.v1.json and frozen; an unknown or misspelt key fails with a hint.
const dir = mkdtempSync(join(tmpdir(), 'tongban-config-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, doc: unknown): string => {
  const p = join(dir, name)
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc))
  return p
}
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
  t.equal(loadConfig().listen.port, DEFAULTS.listen.port)
  const f = file('a.json', { listen: { host: '0.0.0.0', port: 9000 }, keysDir: 'keys', delivery: { attempts: 3 } })
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
  t.same(problems(() => loadConfig({ env: { TONGBAN_DATABSE_URL: 'postgres://x' } })), ['environment variable TONGBAN_DATABSE_URL is not known (did you mean TONGBAN_DATABASE_URL?)'])
  const p = problems(() => loadConfig({ file: file('b.json', { delivery: { atempts: 3 } }) }))
  t.same(p, ['/delivery/atempts: unknown key (did you mean "attempts"?)'])
  t.match(problems(() => loadConfig({ file: file('c.json', { nothingLikeIt: 1 }) }))[0], /^\/nothingLikeIt: unknown key$/)
  t.same(problems(() => loadConfig({ env: { TONGBAN_REQUIRE_NATIVE: '1' } })), [], 'variables of the tooling are not configuration')
})

t.test('bad values name their JSON pointer', async (t) => {
  t.match(problems(() => loadConfig({ env: { TONGBAN_PORT: 'eighty' } }))[0], /TONGBAN_PORT must be an integer/)
  t.match(problems(() => loadConfig({ env: { TONGBAN_WORKERS: 'perhaps' } }))[0], /TONGBAN_WORKERS must be true or false/)
  t.match(problems(() => loadConfig({ env: { TONGBAN_PORT: '70000' } }))[0], /^\/listen\/port: /)
  t.match(problems(() => loadConfig({ env: { TONGBAN_REDIS_URL: 'http://redis' } }))[0], /^\/redisUrl: /)
  t.match(problems(() => loadConfig({ env: { TONGBAN_LOG_LEVEL: 'chatty' } }))[0], /^\/log\/level: /)
  t.match(problems(() => loadConfig({ file: file('d.json', '{ not json') }))[0], /d\.json: /)
  t.match(problems(() => loadConfig({ file: file('e.json', [1, 2]) }))[0], /must hold a JSON object/)
  t.match(problems(() => loadConfig({ file: join(dir, 'missing.json') }))[0], /missing\.json: /)
  const all = problems(() => loadConfig({ env: { TONGBAN_PORT: '70000', TONGBAN_LOG_LEVEL: 'chatty' } }))
  t.equal(all.length, 2, 'every problem at once, not one per start')
})
