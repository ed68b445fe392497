// Issue 7 §4: `tongban serve` (and `worker`) refuses the published sample keys of certs-example/
// with exit code 78 and a message naming them, unless allowSampleKeys; the keys folder and the
// directory have no default. Real subprocesses, real PostgreSQL and Redis.
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GatewayKeyring, PrivateKey } from '../../src/crypto/index.ts'
import { freePort } from '../helpers/redis-server.ts'
import { DATABASE_URL, REDIS_URL, dropRedisPrefix, dropSchema, isolationName } from '../helpers/services.ts'
import { tongbanCommand } from '../helpers/subprocess.ts'
import { until } from '../helpers/wait.ts'
import { tempDir, tongban } from './helpers.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SAMPLE_KEYS = join(ROOT, 'certs-example', 'gateway')
const SAMPLE_DIRECTORY = join(ROOT, 'certs-example', 'directory.json')

interface Run { status: number | null; stdout: string; stderr: string }

/**
 * Starts `tongban <args>` with a clean environment plus `env`; resolves when it has exited, or
 * when GET /readyz answers 200 (then it is stopped with SIGTERM and must exit 0).
 */
async function serve(teardown: (fn: () => unknown) => void, args: string[], env: Record<string, string> = {}): Promise<Run & { ready: boolean }> {
  const name = isolationName('serve')
  teardown(async () => { await dropSchema(name); await dropRedisPrefix(name) })
  const port = await freePort()
  const [cmd, argv] = tongbanCommand(args)
  const child = spawn(cmd, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '',
      TONGBAN_DATABASE_URL: DATABASE_URL, TONGBAN_REDIS_URL: REDIS_URL, TONGBAN_DB_SCHEMA: name, TONGBAN_REDIS_PREFIX: name,
      TONGBAN_PORT: String(port), TONGBAN_METRICS_PORT: '0', TONGBAN_CONSOLE_PORT: '0', ...env,
    },
  })
  const run: Run & { ready: boolean } = { status: null, stdout: '', stderr: '', ready: false }
  child.stdout.on('data', (c: Buffer) => { run.stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { run.stderr += c.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => { run.status = code; resolve() }))
  teardown(() => { if (run.status === null) child.kill('SIGKILL') })
  await until('the gateway to be ready or to exit', async () => {
    if (run.status !== null) return true
    run.ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false)
    return run.ready
  }, 45_000)
  if (run.ready) child.kill('SIGTERM')
  await exited
  return run
}

t.test('serve with the sample keys and no allowSampleKeys exits 78 naming them', async (t) => {
  const r = await serve(t.teardown.bind(t), ['serve', '--keys', SAMPLE_KEYS, '--directory', SAMPLE_DIRECTORY])
  t.equal(r.status, 78, 'EX_CONFIG')
  t.notOk(r.ready, 'it never served')
  t.match(r.stderr, /refusing to start: these gateway keys are the published samples of certs-example\//)
  for (const f of ['token.key', 'store.key', 'sign-sm2.key.pem', 'enc-rsa.key.pem', 'partners/TAX_231221.secret']) {
    t.ok(r.stderr.includes(`is the sample certs-example/gateway/${f}`), `names ${f}`)
  }
  t.match(r.stderr, /tongban keys gateway --out DIR/, 'says how to make real keys')
  t.match(r.stderr, /--allow-sample-keys/, 'and how to allow the samples for a trial')
})

t.test('worker refuses them too', async (t) => {
  const r = await serve(t.teardown.bind(t), ['worker'], { TONGBAN_KEYS_DIR: SAMPLE_KEYS, TONGBAN_DIRECTORY: SAMPLE_DIRECTORY })
  t.equal(r.status, 78)
  t.match(r.stderr, /token\.key is the sample certs-example\/gateway\/token\.key/)
})

t.test('with allowSampleKeys it starts, and warns loudly', async (t) => {
  const r = await serve(t.teardown.bind(t), ['serve', '--keys', SAMPLE_KEYS, '--directory', SAMPLE_DIRECTORY, '--allow-sample-keys'])
  t.ok(r.ready, `GET /readyz answered 200 (${r.stderr})`)
  t.equal(r.status, 0, 'and it stopped cleanly on SIGTERM')
  const warning = r.stdout.split('\n').find((l) => l.includes('RUNNING WITH THE PUBLISHED SAMPLE KEYS'))
  t.ok(warning, 'the warning is logged')
  t.equal(JSON.parse(warning ?? '{}').level, 40, 'at warn level')
  const env = await serve(t.teardown.bind(t), ['serve'], { TONGBAN_KEYS_DIR: SAMPLE_KEYS, TONGBAN_DIRECTORY: SAMPLE_DIRECTORY, TONGBAN_ALLOW_SAMPLE_KEYS: 'true' })
  t.ok(env.ready, `TONGBAN_ALLOW_SAMPLE_KEYS allows them too (${env.stderr})`)
})

t.test('its port taken: it says so and exits, rather than living on without its port', async (t) => {
  const held = createServer()
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => held.close(() => resolve())))
  const port = (held.address() as AddressInfo).port
  const r = await serve(t.teardown.bind(t), ['serve', '--keys', SAMPLE_KEYS, '--directory', SAMPLE_DIRECTORY, '--allow-sample-keys'], { TONGBAN_PORT: String(port) })
  t.notOk(r.ready, 'it never served')
  t.equal(r.status, 1, 'it exited 1 (its metrics, console and workers closed too)')
  t.match(r.stderr, new RegExp(`tongban: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}`), 'naming the port')
})

t.test('with a generated keyring and the sample directory: refused, the directory\'s keys are samples', async (t) => {
  // The sample directory lists OPS:demo-operator, whose private key is published: anyone could
  // get an operator token from a gateway that trusts it (review finding).
  const dir = tempDir(t.teardown.bind(t))
  GatewayKeyring.generate(join(dir, 'gateway'), ['national', 'international'], { rsaBits: 2048 })
  mkdirSync(join(dir, 'gateway', 'partners'))
  writeFileSync(join(dir, 'gateway', 'partners', 'TAX_231221.secret'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 })
  const r = await serve(t.teardown.bind(t), ['serve', '--keys', join(dir, 'gateway'), '--directory', SAMPLE_DIRECTORY])
  t.equal(r.status, 78, 'EX_CONFIG')
  t.notOk(r.ready)
  t.match(r.stderr, /OPS:demo-operator#[\w-]+ is the published sample certs-example\/participants\/OPS_demo-operator\//, 'names the operator key')
})

t.test('with a generated keyring and a directory of the partners\' own keys it starts', async (t) => {
  const dir = tempDir(t.teardown.bind(t))
  GatewayKeyring.generate(join(dir, 'gateway'), ['national', 'international'], { rsaBits: 2048 })
  const sign = PrivateKey.generate('REG:231202#sign-1', 'ec-p256').privateKey
  const enc = PrivateKey.generate('REG:231202#enc-1', 'ec-p256').privateKey
  const ops = PrivateKey.generate('OPS:ops-1#sign-1', 'ec-p256').privateKey
  writeFileSync(join(dir, 'directory.json'), JSON.stringify({
    version: 1,
    participants: [{
      id: 'REG:231202', name: '绥化市不动产登记中心', adapter: 'native', endpoint: 'https://reg.example.cn/tongban', send: ['tax.assessment.request'], receive: ['tax.payment.completed'],
      signingKeys: [{ kid: sign.kid, publicKey: sign.publicKey.toPem() }], encryptionKey: { kid: enc.kid, publicKey: enc.publicKey.toPem() },
    }],
    operators: [{ id: 'OPS:ops-1', name: '运维', signingKeys: [{ kid: ops.kid, publicKey: ops.publicKey.toPem() }] }],
  }))
  const r = await serve(t.teardown.bind(t), ['serve', '--keys', join(dir, 'gateway'), '--directory', join(dir, 'directory.json')])
  t.ok(r.ready, `GET /readyz answered 200 (${r.stderr})`)
  t.equal(r.status, 0)
  t.notOk(r.stdout.includes('SAMPLE KEYS') || r.stdout.includes('sample keys'), 'no warning')
})

t.test('without a keys folder or a directory: a configuration error that says what to pass', async (t) => {
  const none = tongban(['serve'])
  t.equal(none.status, 78)
  t.match(none.stderr, /\/keysDir: required: .*pass --keys DIR, TONGBAN_KEYS_DIR or "keysDir" in the config file/)
  t.match(none.stderr, /\/directoryFile: required: .*pass --directory FILE, TONGBAN_DIRECTORY or "directoryFile"/)
  const missing = tongban(['serve', '--keys', '/nonexistent/keys', '--directory', SAMPLE_DIRECTORY])
  t.equal(missing.status, 78)
  t.match(missing.stderr, /\/keysDir: no gateway signing key in \/nonexistent\/keys/)
})
