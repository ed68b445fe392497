import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { partnerCommand } from '../../src/cli/partner.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 11 §5: `tongban partner init` writes a partner's keys, CSRs for the real PKI's CA, the
// directory entry for the operators, and a runnable sample client — which, once the entry is in
// the directory, gets a token, reads the signed directory, sends a message and checks the receipt.
const dir = mkdtempSync(join(tmpdir(), 'tongban-partner-init-'))
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'partner-init',
  gatewaySuites: ['national', 'international'],
  partners: [{ id: TAX, suite: 'national', send: ['tax.payment.completed'], receive: ['tax.assessment.request'] }],
})
t.teardown(async () => {
  await w.close()
  rmSync(dir, { recursive: true, force: true })
})
const quiet = async <T>(fn: () => Promise<T>): Promise<T> => {
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (() => true) as typeof process.stdout.write
  try {
    return await fn()
  } finally {
    process.stdout.write = write
  }
}

// The gateway's signing keys, as its operators hand them out (named as the gateway names them).
const gatewayKeys = join(dir, 'gateway-pub')
execFileSync('mkdir', ['-p', gatewayKeys])
for (const k of w.gatewaySigningKeys()) writeFileSync(join(gatewayKeys, `${k.kid.split('#')[1]}.pub.pem`), k.toPem())

t.test('a registration centre, national suite: keys, CSRs, entry, sample client that works', async (t) => {
  const out = join(dir, 'reg')
  const args = ['init', '--role', 'REG', '--code', '231202', '--name', '绥化市北林区不动产登记中心', '--suite', 'national', '--out', out, '--gateway', w.url,
    '--gateway-key', join(gatewayKeys, 'sign-sm2.pub.pem'), '--endpoint', 'http://127.0.0.1:9/inbox']
  t.equal(await quiet(() => partnerCommand(args)), 0)
  t.equal(statSync(join(out, 'keys', 'sign.key.pem')).mode & 0o777, 0o600, 'private keys: owner only')
  t.equal(statSync(join(out, 'keys', 'enc.key.pem')).mode & 0o777, 0o600)

  // OpenSSL reads and verifies each CSR (SM2 with SM3 and the default user ID).
  for (const use of ['sign', 'enc']) {
    const text = execFileSync('openssl', ['req', '-in', join(out, 'csr', `${use}.csr.pem`), '-noout', '-verify', '-subject', '-vfyopt', 'distid:1234567812345678', '-nameopt', 'utf8'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    t.match(text, /CN\s*=\s*REG:231202/, `${use}: subject`)
    t.match(text, /O\s*=\s*绥化市北林区不动产登记中心/)
  }
  const entry = JSON.parse(readFileSync(join(out, 'directory-entry.json'), 'utf8')) as Record<string, unknown> & { send: string[]; receive: string[]; divisions: string[] }
  t.same(entry.divisions, ['231202'])
  t.ok(entry.send.includes('tax.assessment.request') && entry.receive.includes('tax.payment.completed'), 'what a registration centre sends and receives')

  // The operators add the entry as it came and reload the directory.
  w.writeDirectory((doc) => { doc.participants.push(entry) })
  await w.app.tb.reloadDirectory('test')

  const message = join(dir, 'message.json')
  writeFileSync(message, JSON.stringify(validFixture('tax.assessment.request').envelope))
  // Not spawnSync: the gateway runs in this process and must answer while the client runs.
  const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    // Through env -u, as tongbanCommand does: a tsx child's coverage cannot be merged with the runner's.
    execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, '--import', 'tsx', join(out, 'sample-client.mts'), message], {
      encoding: 'utf8', timeout: 60_000, cwd: join(new URL('../..', import.meta.url).pathname),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    }, (err, stdout, stderr) => done({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }))
  })
  t.equal(run.status, 0, run.stderr)
  t.match(run.stdout, /token: ok for REG:231202/)
  t.match(run.stdout, /directory: issued \S+ by TONGBAN, its signature checked with the pinned key/)
  t.match(run.stdout, /sent tax\.assessment\.request: receipt verified, message [0-9a-f-]{36}, exchange [0-9a-f-]{36}/)
  await w.partner(TAX).server.waitFor(1)
  t.equal(w.partner(TAX).server.ofType('tax.assessment.request').length, 1, 'delivered to the tax bureau')
})

t.test('a bank, international suite: ECDSA P-256 and RSA CSRs that OpenSSL verifies', async (t) => {
  const out = join(dir, 'bank')
  t.equal(await quiet(() => partnerCommand(['init', '--role', 'BANK', '--code', '91230100MA1B2C3D49', '--subsystem', 'suihua', '--suite', 'international', '--out', out])), 0)
  for (const [use, alg] of [['sign', /ecdsa-with-SHA256/], ['enc', /sha256WithRSAEncryption/]] as const) {
    const text = execFileSync('openssl', ['req', '-in', join(out, 'csr', `${use}.csr.pem`), '-noout', '-verify', '-text'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    t.match(text, alg, `${use}: ${alg.source}`)
    t.match(text, /CN\s*=\s*BANK:91230100MA1B2C3D49:suihua/)
  }
  const entry = JSON.parse(readFileSync(join(out, 'directory-entry.json'), 'utf8')) as { divisions?: string[]; send: string[]; receive: string[] }
  t.equal(entry.divisions, undefined, 'a bank serves no division')
  t.ok(entry.send.includes('mortgage.query') && entry.receive.includes('mortgage.registration.completed'))
  const client = JSON.parse(readFileSync(join(out, 'client.json'), 'utf8')) as { participantId: string }
  t.equal(client.participantId, 'BANK:91230100MA1B2C3D49:suihua')
})

t.test('refusals: a bad id, a missing flag, a folder in use', async (t) => {
  await t.rejects(partnerCommand(['init', '--role', 'BANK', '--code', '123', '--out', join(dir, 'x')]), { message: /not a participant id/ })
  await t.rejects(partnerCommand(['init', '--role', 'NOPE', '--code', '231202', '--out', join(dir, 'x')]), { message: /--role/ })
  await t.rejects(partnerCommand(['init', '--role', 'REG', '--out', join(dir, 'x')]), { message: /--code/ })
  await t.rejects(partnerCommand(['init', '--role', 'REG', '--code', '231202', '--out', join(dir, 'reg')]), { message: /not empty/ })
  await t.rejects(partnerCommand(['init', '--role', 'REG', '--code', '231202', '--suite', 'gm', '--out', join(dir, 'y')]), { message: /--suite/ })
  await t.rejects(partnerCommand(['nope']), { message: /unknown partner command/ })
})
