import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { Redis } from 'ioredis'
import { plainEnv } from '../helpers/subprocess.ts'
import { freePort } from '../helpers/redis-server.ts'
import { DATABASE_URL, REDIS_URL } from '../helpers/services.ts'

// Issue 9, "built to run": the gateway runs from dist/ (compiled JavaScript) with production
// dependencies only — as the Docker image's final stage holds it (Dockerfile: npm ci, then
// npm prune --omit=dev; package.json, node_modules, dist/ and bin/ copied). Here the same folder is
// made from this checkout (node_modules copied, then pruned offline by npm itself), and the real
// command serves from it against real PostgreSQL and Redis: no tsx, no TypeScript, no sources.
const run = promisify(execFile)
const repo = new URL('../..', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'tongban-prod-'))
const schema = `t_prod_${process.pid}`
const prefix = `t-prod-${process.pid}`
t.teardown(async () => {
  rmSync(dir, { recursive: true, force: true })
  const db = new pg.Client({ connectionString: DATABASE_URL })
  await db.connect()
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await db.end()
  const redis = new Redis(REDIS_URL)
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

t.test('the production folder: dist/, bin/ and production dependencies only', async (t) => {
  t.ok(existsSync(join(repo, 'dist', 'BUILD')), 'dist/ is built (npm test builds it)')
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(repo, f), join(dir, f))
  for (const d of ['bin', 'dist', 'node_modules']) cpSync(join(repo, d), join(dir, d), { recursive: true, verbatimSymlinks: true })
  await run('npm', ['prune', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], { cwd: dir, env: plainEnv() })
  const installed = readdirSync(join(dir, 'node_modules'))
  for (const dev of ['tsx', 'typescript', 'tap', 'playwright-core']) t.notOk(installed.includes(dev), `${dev} is not installed`)
  t.ok(installed.includes('fastify'), 'the production dependencies are')
  t.notOk(existsSync(join(dir, 'src')), 'no sources')
  t.ok(existsSync(join(dir, 'dist', 'schemas', 'envelope.v1.json')), 'the schemas are in dist/')
  t.ok(existsSync(join(dir, 'dist', 'src', 'store', 'migrations')), 'the migrations are in dist/')
})

t.test('the command runs from it: --help, and serve answers ready on real PostgreSQL and Redis', async (t) => {
  const env = plainEnv({ NODE_ENV: 'production' })
  const help = await run(process.execPath, ['bin/tongban.js', '--help'], { cwd: dir, env })
  t.match(help.stdout, /tongban serve/, '--help')

  const port = await freePort()
  const child = spawn(process.execPath, ['bin/tongban.js', 'serve', '--keys', join(repo, 'certs-example/gateway'), '--directory', join(repo, 'certs-example/directory.json'), '--allow-sample-keys', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: dir,
    env: { ...env, TONGBAN_DATABASE_URL: DATABASE_URL, TONGBAN_DB_SCHEMA: schema, TONGBAN_REDIS_URL: REDIS_URL, TONGBAN_REDIS_PREFIX: prefix, TONGBAN_CONSOLE: 'false', TONGBAN_METRICS: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await exited
  })
  let ready: { status?: string; checks?: { postgres?: boolean; redis?: boolean } } | undefined
  const end = Date.now() + 60_000
  while (Date.now() < end && child.exitCode === null) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)
    if (r?.status === 200) {
      ready = (await r.json()) as typeof ready
      break
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  t.same(ready, { status: 'ready', checks: { postgres: true, redis: true, keys: true, suites: ['national', 'international'] } }, 'ready')
  if (ready === undefined) t.comment(out.slice(-2000))
  t.match(out, /"smBackend":"native"/, 'the native SM2 addon is loaded from dist/')
  const doc = await fetch(`http://127.0.0.1:${port}/v1/openapi.json`)
  t.equal(doc.status, 200, 'it serves the API')
})

t.test('bin/tongban.js refuses a dist/ that is missing, or older than the sources', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tongban-stale-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  for (const d of ['bin', 'scripts']) cpSync(join(repo, d), join(root, d), { recursive: true })
  const tongban = () => run(process.execPath, ['bin/tongban.js', '--help'], { cwd: root, env: plainEnv() }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e)
  const missing = await tongban()
  t.same([missing.code, /dist\/ is not built: run `npm run build`/.test(missing.stderr)], [1, true], 'no dist/: exit 1, saying what to run')
  mkdirSync(join(root, 'dist'), { recursive: true })
  writeFileSync(join(root, 'dist', 'BUILD'), 'then\n')
  const past = new Date(Date.now() - 3_600_000)
  utimesSync(join(root, 'dist', 'BUILD'), past, past)
  mkdirSync(join(root, 'src'), { recursive: true })
  writeFileSync(join(root, 'src', 'edited.ts'), 'export {}\n')
  const stale = await tongban()
  t.same([stale.code, /dist\/ is older than the sources: run `npm run build`/.test(stale.stderr)], [1, true], 'a source newer than the build: exit 1, saying what to run')
})
