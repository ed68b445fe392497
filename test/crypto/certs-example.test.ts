// certs-example/ is complete and usable: every key loads with PrivateKey/PublicKey.fromPem, each
// .pub.pem and certificate matches its private key, the gateway keyring loads, and the sample
// certificates verify (OpenSSL, and the SM2 ones also with Tongban's own SM2 under the CA key).
import t from 'tap'
import { createPublicKey } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GATEWAY_KEY_FILES, GatewayKeyring, PrivateKey, PublicKey } from '../../src/crypto/index.ts'
import { Sm2PublicKey, sm2SignatureFromDer } from '../../src/crypto/sm/index.ts'
import { TAG, encode, parse, sequence } from '../../src/crypto/sm/asn1.ts'
import { opensslProblem, run } from './helpers/tools.ts'

const ROOT = fileURLToPath(new URL('../../certs-example/', import.meta.url))
const PARTICIPANTS = ['REG:231202', 'REG:231221', 'TAX:231202', 'TAX:231221', 'HOUSING:231200', 'BANK:91230100MA1B2C3D49:suihua', 'FUND:12231200MB07654323', 'COURT:11231202MB00123459', 'UTILITY:91231200MA1W00001Q:water', 'UTILITY:91231200MA1P00002Y:power', 'ENTERPRISE:91231202MA1K0D0W06', 'OPS:demo-operator']
const FULL = ['sign-sm2', 'enc-sm2', 'sign-es256', 'enc-rsa']
const read = (...p: string[]): string => readFileSync(join(ROOT, ...p), 'utf8')

function folders(): Array<{ id: string; dir: string; names: string[] }> {
  return [
    { id: 'gateway', dir: 'gateway', names: [...FULL, 'enc-ec'] },
    ...PARTICIPANTS.map((id) => ({ id, dir: join('participants', id.replace(/:/g, '_')), names: id.startsWith('OPS:') ? ['sign-sm2', 'sign-es256'] : FULL })),
  ]
}

t.test('the README says these are samples', async (t) => {
  t.match(read('README.md'), /never for production/i)
  t.ok(existsSync(join(ROOT, 'make.sh')), 'the script that made them is there')
})

t.test('every key of every participant loads, and public files and certificates match', async (t) => {
  for (const { id, dir, names } of folders()) {
    for (const name of names) {
      const kid = `${id}#${name}`
      const priv = PrivateKey.fromPem(kid, read(dir, `${name}.key.pem`))
      const pub = PublicKey.fromPem(kid, read(dir, `${name}.pub.pem`))
      const cert = PublicKey.fromPem(kid, read(dir, `${name}.crt.pem`))
      t.equal(pub.fingerprint, priv.publicKey.fingerprint, `${kid}: .pub.pem matches`)
      t.equal(cert.fingerprint, priv.publicKey.fingerprint, `${kid}: certificate key matches`)
      t.equal(priv.kind, name.endsWith('sm2') ? 'sm2' : name.endsWith('rsa') ? 'rsa' : 'ec-p256', `${kid}: kind`)
      if (name === 'enc-rsa') t.equal(createPublicKey(read(dir, `${name}.pub.pem`)).asymmetricKeyDetails?.modulusLength, id === 'gateway' ? 3072 : 2048, `${kid}: RSA size`)
    }
    if (id === 'OPS:demo-operator') t.notOk(existsSync(join(ROOT, dir, 'enc-sm2.key.pem')), 'the operator has signing keys only')
  }
})

t.test('the gateway keyring loads from certs-example/gateway', async (t) => {
  for (const f of Object.values(GATEWAY_KEY_FILES)) t.ok(existsSync(join(ROOT, 'gateway', f)), f)
  const ring = GatewayKeyring.load(join(ROOT, 'gateway'), 'gateway')
  t.same([...ring.suites].sort(), ['international', 'national'])
  t.equal(ring.publicKeys().encryption.length, 3)
  t.match(ring.partnerMac('TAX:231221', 'SM3', Buffer.from('x')), /^[0-9a-f]{64}$/, 'the legacy tax partner secret is there')
})

/** tbsCertificate bytes, signature algorithm OID bytes and signature of a PEM certificate. */
function certParts(pem: string): { tbs: Buffer; sig: Buffer } {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
  const [tbs, , sig] = sequence(parse(der))
  if (!tbs || !sig || sig.tag !== TAG.BIT_STRING) throw new Error('not a certificate')
  return { tbs: encode(tbs.tag, tbs.value), sig: sig.value.subarray(1) }
}

t.test("Tongban's SM2 verifies the sample SM2 certificates' SM2-with-SM3 signatures", async (t) => {
  const ca = Sm2PublicKey.fromPem(read('ca', 'sm2-root.crt.pem'))
  for (const { id, dir, names } of folders()) {
    for (const name of names.filter((n) => n.endsWith('sm2'))) {
      const { tbs, sig } = certParts(read(dir, `${name}.crt.pem`))
      const rs = sm2SignatureFromDer(sig)
      t.equal(ca.verify(tbs, rs), true, `${id} ${name}`)
      t.equal(Sm2PublicKey.fromPem(read(dir, `${name}.pub.pem`)).verify(tbs, rs), false, 'not under the subject key')
    }
  }
  const root = certParts(read('ca', 'sm2-root.crt.pem'))
  t.equal(ca.verify(root.tbs, sm2SignatureFromDer(root.sig)), true, 'the root is self-signed')
})

t.test('OpenSSL verifies every sample certificate against its CA', async (t) => {
  const problem = opensslProblem()
  if (problem) return void t.fail(problem)
  const files = folders().flatMap(({ dir, names }) => names.map((n) => join(ROOT, dir, `${n}.crt.pem`)))
  const sm2 = files.filter((f) => f.endsWith('sm2.crt.pem'))
  const intl = files.filter((f) => !f.endsWith('sm2.crt.pem'))
  const a = run('openssl', ['verify', '-CAfile', join(ROOT, 'ca', 'sm2-root.crt.pem'), '-vfyopt', 'distid:1234567812345678', ...sm2])
  t.equal(a.status, 0, `${sm2.length} SM2 certificates: ${a.stderr}`)
  const b = run('openssl', ['verify', '-CAfile', join(ROOT, 'ca', 'p256-root.crt.pem'), ...intl])
  t.equal(b.status, 0, `${intl.length} international certificates: ${b.stderr}`)
  t.equal(readdirSync(join(ROOT, 'participants')).length, PARTICIPANTS.length, 'one folder per demo participant')
})
