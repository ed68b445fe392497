// `tongban keys generate|gateway|inspect`: key files with the right modes and layouts, the kid
// and SPKI fingerprint printed, OpenSSL reads what is written, nothing is overwritten silently.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { GATEWAY_KEY_FILES, GatewayKeyring, PrivateKey, PublicKey } from '../../src/crypto/index.ts'
import { fields, tempDir, tongban } from './helpers.ts'

const dir = tempDir(t.teardown.bind(t))

t.test('generate --suite national writes an SM2 pair and prints kid and fingerprint', async (t) => {
  const out = join(dir, 'reg')
  const r = tongban(['keys', 'generate', '--suite', 'national', '--out', out, '--participant', 'REG:231202'])
  t.equal(r.status, 0, r.stderr)
  const f = fields(r.stdout)
  t.equal(f.kid, 'REG:231202#sign-sm2')
  const privFile = join(out, 'sign-sm2.key.pem')
  const pubFile = join(out, 'sign-sm2.pub.pem')
  t.equal(statSync(privFile).mode & 0o777, 0o600, 'private key mode 0600')
  const pub = PublicKey.fromPem('x', readFileSync(pubFile, 'utf8'))
  t.equal(pub.kind, 'sm2')
  t.equal(f.fingerprint, pub.fingerprint, 'the printed fingerprint is the SPKI SHA-256')
  const priv = PrivateKey.fromPem('x', readFileSync(privFile, 'utf8'))
  t.equal(priv.publicKey.fingerprint, pub.fingerprint, 'the two files are one pair')
  const ossl = spawnSync('openssl', ['pkey', '-in', privFile, '-pubout', '-outform', 'DER'])
  t.equal(ossl.status, 0, 'OpenSSL reads the private key')
  t.equal(Buffer.from(ossl.stdout).equals(Buffer.from(pub.toPem().replace(/-----[^-]+-----|\s/g, ''), 'base64')), true, 'and derives the same public key')
})

t.test('generate --suite international: P-256 by default, RSA on request; --name sets the files and kid', async (t) => {
  const out = join(dir, 'bank')
  const ec = tongban(['keys', 'generate', '--suite', 'international', '--out', out])
  t.equal(ec.status, 0, ec.stderr)
  t.equal(fields(ec.stdout).kid, 'sign-es256', 'without a participant the kid is the name')
  t.equal(PublicKey.fromPem('x', readFileSync(join(out, 'sign-es256.pub.pem'), 'utf8')).kind, 'ec-p256')
  const rsa = tongban(['keys', 'generate', '--suite', 'international', '--kind', 'rsa', '--name', 'enc-2026', '--participant', 'BANK:91230100MA1B2C3D49:suihua', '--out', out])
  t.equal(rsa.status, 0, rsa.stderr)
  t.equal(fields(rsa.stdout).kid, 'BANK:91230100MA1B2C3D49:suihua#enc-2026')
  t.equal(PrivateKey.fromPem('x', readFileSync(join(out, 'enc-2026.key.pem'), 'utf8')).kind, 'rsa')
})

t.test('bad usage exits 2 and nothing is overwritten', async (t) => {
  const out = join(dir, 'reg')
  const before = readFileSync(join(out, 'sign-sm2.key.pem'), 'utf8')
  t.equal(tongban(['keys', 'generate', '--suite', 'national', '--out', out]).status, 2, 'existing files are not overwritten')
  t.equal(readFileSync(join(out, 'sign-sm2.key.pem'), 'utf8'), before, 'the key is unchanged')
  t.equal(tongban(['keys', 'generate', '--suite', 'national', '--out', out, '--force']).status, 0, '--force overwrites')
  t.equal(tongban(['keys', 'generate', '--suite', 'gm', '--out', out]).status, 2, 'unknown suite')
  t.equal(tongban(['keys', 'generate', '--suite', 'national']).status, 2, 'no --out')
  t.equal(tongban(['keys', 'generate', '--suite', 'national', '--kind', 'rsa', '--out', out]).status, 2, 'RSA is not national')
  t.equal(tongban(['keys', 'generate', '--suite', 'national', '--name', '../x', '--out', out]).status, 2, 'a name with a path')
  t.equal(tongban(['keys', 'frobnicate']).status, 2, 'unknown subcommand')
})

t.test('gateway --out writes the full keyring, which loads', async (t) => {
  const out = join(dir, 'gateway')
  const r = tongban(['keys', 'gateway', '--out', out])
  t.equal(r.status, 0, r.stderr)
  for (const f of Object.values(GATEWAY_KEY_FILES)) {
    t.ok(existsSync(join(out, f)), f)
    t.equal(statSync(join(out, f)).mode & 0o777, 0o600, `${f} mode 0600`)
  }
  const ring = GatewayKeyring.load(out, 'GATEWAY')
  t.same([...ring.suites].sort(), ['international', 'national'])
  const sm2 = ring.signer('national')
  t.ok(sm2 && r.stdout.toString().includes(sm2.publicKey.fingerprint), 'fingerprints are printed')
  t.equal(tongban(['keys', 'gateway', '--out', out]).status, 2, 'an existing keyring is not overwritten')
})

t.test('inspect tells the kind, suite and fingerprint of a key file', async (t) => {
  const r = tongban(['keys', 'inspect', '--key', join(dir, 'reg', 'sign-sm2.pub.pem')])
  t.equal(r.status, 0, r.stderr)
  const f = fields(r.stdout)
  t.equal(f.kind, 'sm2')
  t.equal(f.suite, 'national')
  t.equal(f.fingerprint, PublicKey.fromPem('x', readFileSync(join(dir, 'reg', 'sign-sm2.pub.pem'), 'utf8')).fingerprint)
})
