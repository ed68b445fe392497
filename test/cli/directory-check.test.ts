import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrivateKey } from '../../src/crypto/index.ts'
import { TestCa } from '../helpers/openssl-ca.ts'
import { plainEnv, tongbanCommand } from '../helpers/subprocess.ts'

// `tongban directory check` checks partner certificates against the trust anchors (--config or
// --anchor): it reports each certificate that expires within 30 days, or is revoked (exit 1),
// with the participant and kid; a certificate from an unknown CA stops it as at boot (exit 78).
const DAY = 86_400_000
const dir = mkdtempSync(join(tmpdir(), 'tongban-dircheck-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const ca = TestCa.create(join(dir, 'ca'), 'sm2', 'Check SM2 CA')
const stranger = TestCa.create(join(dir, 'stranger'), 'sm2', 'Stranger CA')
const cert = (by: TestCa, days: number): string => by.issue(PrivateKey.generate('x', 'sm2').privatePem, { cn: 'x', profile: 'sign', end: new Date(Date.now() + days * DAY) })
const enc = PrivateKey.generate('x', 'ec-p256').privateKey.publicKey.toPem()

function writeDir(name: string, signing: Record<string, string>): string {
  const id = 'TAX:231202'
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify({
    version: 1,
    participants: [{
      id, name: 'tax', signingKeys: Object.entries(signing).map(([k, publicKey]) => ({ kid: `${id}#${k}`, publicKey })), encryptionKey: { kid: `${id}#enc`, publicKey: enc },
      endpoint: 'http://127.0.0.1:1/inbox', adapter: 'native', send: [], receive: ['tax.assessment.request'],
    }],
  }))
  return file
}

function check(...args: string[]): { status: number | null; out: string } {
  const [cmd, argv] = tongbanCommand(['directory', 'check', ...args])
  const r = spawnSync(cmd, argv, { env: plainEnv(), encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, out: r.stdout + r.stderr }
}

const soon = cert(ca, 10)
const revoked = cert(ca, 300)
const fine = cert(ca, 300)
ca.revoke(revoked)
ca.crl()

t.test('certificates expiring within 30 days are reported; revoked ones are errors (exit 1)', async (t) => {
  const file = writeDir('d1.json', { soon, fine })
  const ok = check(file, '--anchor', `${ca.certFile},${ca.crlFile}`)
  t.equal(ok.status, 0, ok.out)
  t.match(ok.out, /2 keys given as certificates, 1 trust anchors/)
  t.match(ok.out, /warning: TAX:231202 TAX:231202#soon \(signing, certificate [0-9a-f]+\): expires on \S+ \(in 9 days\)/)
  t.notMatch(ok.out, /TAX:231202#fine/, 'a certificate valid for months is not reported')
  t.notMatch(check(file, '--anchor', ca.certFile, '--days', '5').out, /TAX:231202#soon/, '--days sets the horizon')

  const bad = check(writeDir('d2.json', { fine, revoked }), '--anchor', `${ca.certFile},${ca.crlFile}`)
  t.equal(bad.status, 1, bad.out)
  t.match(bad.out, /error: TAX:231202 TAX:231202#revoked \(signing, certificate [0-9a-f]+\): revoked by the CRL of O=Tongban test, CN=Check SM2 CA/)
})

t.test('the anchors of a gateway configuration (--config); an unknown CA stops the check (exit 78)', async (t) => {
  const config = join(dir, 'config.json')
  writeFileSync(config, JSON.stringify({ pki: { anchors: [{ file: 'ca/ca.crt.pem', crl: 'ca/ca.crl.pem' }], requireCertificates: false } }))
  const viaConfig = check(writeDir('d3.json', { fine, revoked }), '--config', config)
  t.equal(viaConfig.status, 1, 'anchor paths relative to the configuration file')
  t.match(viaConfig.out, /TAX:231202#revoked .*revoked/)

  const unknown = check(writeDir('d4.json', { other: cert(stranger, 300) }), '--config', config, '--require-certificates')
  t.equal(unknown.status, 78, unknown.out)
  t.match(unknown.out, /\/participants\/0\/signingKeys\/0: certificate of TAX:231202#other: issued by O=Tongban test, CN=Stranger CA, which is not a trust anchor/)
  t.match(unknown.out, /\/participants\/0\/encryptionKey: a certificate is required \(pki\.requireCertificates\)/, 'a bare key where certificates are required')

  const usage = check(writeDir('d5.json', { fine }), '--anchor', 'a,b,c')
  t.equal(usage.status, 2, 'a malformed --anchor is a usage error')
})
