// `tongban jws|jwe`: both suites round-trip through the command; failures exit 1 with the
// error code on stderr; and the national suite round-trips with the OpenSSL CLI (signatures
// made by OpenSSL verify through `tongban jws verify`, ours verify in `openssl dgst`).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sm2SignatureFromDer, sm2SignatureToDer } from '../../src/crypto/sm/index.ts'
import { tempDir, tongban } from './helpers.ts'

const dir = tempDir(t.teardown.bind(t))
const file = (name: string): string => join(dir, name)
const openssl = (args: string[]): { status: number; stdout: Buffer; stderr: string } => {
  const r = spawnSync('openssl', args)
  if (r.error) throw new Error(`the openssl CLI is required: ${r.error.message}`)
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() }
}
const b64 = (s: string): Buffer => Buffer.from(s, 'base64url')
function flipPart(compact: string, i: number): string {
  const parts = compact.trim().split('.')
  const b = b64(parts[i] as string)
  b[b.length - 1] = (b[b.length - 1] as number) ^ 1
  parts[i] = b.toString('base64url')
  return parts.join('.')
}

for (const [suite, kind] of [['national', 'sm2'], ['international', 'ec-p256'], ['international', 'rsa']] as const) {
  t.test(`${suite} (${kind}): jws sign → verify, jwe encrypt → decrypt`, async (t) => {
    const name = `k-${kind}`
    const gen = tongban(['keys', 'generate', '--suite', suite, '--kind', kind, '--name', name, '--out', dir])
    t.equal(gen.status, 0, gen.stderr)
    const priv = file(`${name}.key.pem`)
    const pub = file(`${name}.pub.pem`)
    const payload = Buffer.concat([Buffer.from('{"type":"tax.payment.completed","金额":"1250000.00"}'), randomBytes(3)])
    const signed = tongban(['jws', 'sign', '--key', priv, '--kid', `REG:231202#${name}`], payload)
    t.equal(signed.status, 0, signed.stderr)
    const jws = signed.stdout.toString().trim()
    const alg = JSON.parse(b64(jws.split('.')[0] as string).toString()).alg as string
    t.equal(alg, { sm2: 'SM2SM3', 'ec-p256': 'ES256', rsa: 'PS256' }[kind], `alg ${alg}`)
    const verified = tongban(['jws', 'verify', '--key', pub], jws)
    t.equal(verified.status, 0, verified.stderr)
    t.same(verified.stdout, payload, 'verify prints the exact payload')
    const bad = tongban(['jws', 'verify', '--key', pub], flipPart(jws, 2))
    t.equal(bad.status, 1, 'a changed signature exits 1')
    t.match(bad.stderr, /TB_ERR_SIGNATURE_INVALID/, 'with the reason on stderr')
    t.equal(bad.stdout.length, 0, 'and prints no payload')

    const enc = tongban(['jwe', 'encrypt', '--key', pub, '--kid', `TAX:231202#${name}`, '--cty', 'tongban+jws'], jws)
    t.equal(enc.status, 0, enc.stderr)
    const jwe = enc.stdout.toString().trim()
    const header = JSON.parse(b64(jwe.split('.')[0] as string).toString()) as Record<string, string>
    t.equal(header.alg, { sm2: 'SM2', 'ec-p256': 'ECDH-ES+A256KW', rsa: 'RSA-OAEP-256' }[kind])
    t.equal(header.kid, `TAX:231202#${name}`)
    const dec = tongban(['jwe', 'decrypt', '--key', priv], jwe)
    t.equal(dec.status, 0, dec.stderr)
    t.equal(dec.stdout.toString(), jws, 'decrypt gives back the JWS')
    const tampered = tongban(['jwe', 'decrypt', '--key', priv], flipPart(jwe, 4))
    t.equal(tampered.status, 1, 'a changed tag exits 1')
    t.match(tampered.stderr, /TB_ERR_DECRYPT/)
  })
}

t.test('an RSA key signs RS256 when asked, and the result verifies', async (t) => {
  const signed = tongban(['jws', 'sign', '--key', file('k-rsa.key.pem'), '--kid', 'REG:231202#k-rsa', '--alg', 'RS256'], '{"a":1}')
  t.equal(signed.status, 0, signed.stderr)
  const jws = signed.stdout.toString().trim()
  t.equal(JSON.parse(b64(jws.split('.')[0] as string).toString()).alg, 'RS256')
  t.equal(tongban(['jws', 'verify', '--key', file('k-rsa.pub.pem')], jws).status, 0)
})

t.test('algorithm choices that do not fit the key are usage errors (exit 2)', async (t) => {
  t.equal(tongban(['jws', 'sign', '--key', file('k-sm2.key.pem'), '--kid', 'a', '--alg', 'ES256'], 'x').status, 2, 'ES256 on an SM2 key')
  t.equal(tongban(['jwe', 'encrypt', '--key', file('k-sm2.pub.pem'), '--alg', 'RSA-OAEP-256'], 'x').status, 2, 'RSA-OAEP-256 to an SM2 key')
  t.equal(tongban(['jws', 'sign', '--key', file('k-sm2.key.pem')], 'x').status, 2, 'no --kid')
  t.equal(tongban(['jws', 'verify'], 'x').status, 2, 'no --key')
})

t.test('national suite with the OpenSSL CLI, both directions', async (t) => {
  t.equal(openssl(['genpkey', '-algorithm', 'SM2', '-out', file('ossl.key.pem')]).status, 0)
  t.equal(openssl(['pkey', '-in', file('ossl.key.pem'), '-pubout', '-out', file('ossl.pub.pem')]).status, 0)
  const payload = Buffer.from('{"type":"registration.completed"}')

  // Tongban signs with OpenSSL's key; OpenSSL verifies the JWS signing input.
  const signed = tongban(['jws', 'sign', '--key', file('ossl.key.pem'), '--kid', 'REG:231202#sign-sm2'], payload)
  t.equal(signed.status, 0, signed.stderr)
  const [h, p, s] = signed.stdout.toString().trim().split('.') as [string, string, string]
  writeFileSync(file('input.txt'), `${h}.${p}`)
  writeFileSync(file('sig.der'), sm2SignatureToDer(b64(s)))
  const v = openssl(['dgst', '-sm3', '-verify', file('ossl.pub.pem'), '-sigopt', 'distid:1234567812345678', '-signature', file('sig.der'), file('input.txt')])
  t.equal(v.status, 0, `openssl dgst -verify: ${v.stdout.toString()}${v.stderr}`)

  // OpenSSL signs a signing input; the assembled JWS verifies through the CLI.
  const header = Buffer.from(JSON.stringify({ alg: 'SM2SM3', kid: 'TAX:231202#sign-sm2', typ: 'tongban+jws' })).toString('base64url')
  const input = `${header}.${payload.toString('base64url')}`
  writeFileSync(file('input.txt'), input)
  t.equal(openssl(['dgst', '-sm3', '-sign', file('ossl.key.pem'), '-sigopt', 'distid:1234567812345678', '-out', file('sig.der'), file('input.txt')]).status, 0)
  const jws = `${input}.${sm2SignatureFromDer(readFileSync(file('sig.der'))).toString('base64url')}`
  const verified = tongban(['jws', 'verify', '--key', file('ossl.pub.pem')], jws)
  t.equal(verified.status, 0, verified.stderr)
  t.same(verified.stdout, payload, 'the OpenSSL-signed JWS verifies and gives its payload')

  // JWE to OpenSSL's key, decrypted with OpenSSL's key file.
  const jwe = tongban(['jwe', 'encrypt', '--key', file('ossl.pub.pem'), '--kid', 'TAX:231202#enc-sm2'], jws)
  t.equal(jwe.status, 0, jwe.stderr)
  const dec = tongban(['jwe', 'decrypt', '--key', file('ossl.key.pem')], jwe.stdout)
  t.equal(dec.stdout.toString(), jws, 'round trip with an OpenSSL-made key')
  // …and OpenSSL itself unwraps the content key from the JWE (DER form of C1‖C3‖C2).
  const { sm2CiphertextToDer } = await import('../../src/crypto/sm/index.ts')
  writeFileSync(file('ek.der'), sm2CiphertextToDer(b64(jwe.stdout.toString().trim().split('.')[1] as string)))
  const cek = openssl(['pkeyutl', '-decrypt', '-inkey', file('ossl.key.pem'), '-in', file('ek.der')])
  t.equal(cek.status, 0, cek.stderr)
  t.equal(cek.stdout.length, 32, 'OpenSSL recovers the 32-byte content key')
})
