// Interop with the OpenSSL 3 CLI, both directions, on every backend: keys, signatures
// (dgst -sm3 -sigopt distid:1234567812345678, DER) and encryption (pkeyutl, DER ciphertext).
// A missing openssl makes this test FAIL, not skip: interop is a requirement.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  Sm2PrivateKey,
  Sm2PublicKey,
  availableSmBackends,
  smBackend,
  sm2CiphertextFromDer,
  sm2CiphertextToDer,
  sm2SignatureFromDer,
  sm2SignatureToDer,
} from '../../src/crypto/sm/index.ts'
import { openssl, opensslProblem, run, tempDir } from './helpers/tools.ts'

const ID = '1234567812345678'
const problem = opensslProblem()
if (problem) {
  t.fail(`OpenSSL interop cannot run: ${problem}`)
} else {
  const dir = tempDir(t.teardown.bind(t))
  const file = (name: string, data?: string | Uint8Array): string => {
    const p = join(dir, name)
    if (data !== undefined) writeFileSync(p, data, { mode: 0o600 })
    return p
  }
  const flip = (b: Buffer, i: number): Buffer => {
    const c = Buffer.from(b)
    c[i] = (c[i] as number) ^ 1
    return c
  }

  // OpenSSL's own key, and ours.
  openssl(['genpkey', '-algorithm', 'SM2', '-out', file('ossl.key.pem')])
  openssl(['pkey', '-in', file('ossl.key.pem'), '-pubout', '-out', file('ossl.pub.pem')])
  const ours = Sm2PrivateKey.generate()
  file('ours.key.pem', ours.toPem())
  file('ours.pub.pem', ours.publicKey.toPem())

  t.test('keys made by OpenSSL load in Tongban', async (t) => {
    const priv = Sm2PrivateKey.fromPem(readFileSync(file('ossl.key.pem'), 'utf8'))
    const pub = Sm2PublicKey.fromPem(readFileSync(file('ossl.pub.pem'), 'utf8'))
    t.ok(priv.publicKey.equals(pub), 'PKCS#8 and SPKI from OpenSSL give the same key')
    openssl(['ecparam', '-name', 'SM2', '-genkey', '-out', file('ossl-sec1.pem')])
    openssl(['pkey', '-in', file('ossl-sec1.pem'), '-pubout', '-out', file('ossl-sec1.pub.pem')])
    const sec1 = Sm2PrivateKey.fromPem(readFileSync(file('ossl-sec1.pem'), 'utf8'))
    t.ok(sec1.publicKey.equals(Sm2PublicKey.fromPem(readFileSync(file('ossl-sec1.pub.pem'), 'utf8'))), 'SEC1 (ecparam -genkey, with its SM2 PARAMETERS block)')
    t.same(Buffer.from(priv.toPem()), openssl(['pkey', '-in', file('ossl.key.pem')]), 'we re-export exactly what OpenSSL writes for the key')
  })

  t.test("Tongban's PEMs load in OpenSSL", async (t) => {
    const text = openssl(['pkey', '-in', file('ours.key.pem'), '-text', '-noout']).toString()
    t.match(text, /ASN1 OID: SM2/, 'OpenSSL reads our PKCS#8 as an SM2 key')
    const pubText = openssl(['pkey', '-pubin', '-in', file('ours.pub.pem'), '-text', '-noout']).toString()
    t.match(pubText, /ASN1 OID: SM2/, 'OpenSSL reads our SPKI as an SM2 key')
    t.same(openssl(['pkey', '-in', file('ours.key.pem'), '-pubout', '-outform', 'DER']), ours.publicKey.toDer(), 'OpenSSL derives the same public key from our private key')
    t.same(openssl(['pkey', '-pubin', '-in', file('ours.pub.pem'), '-outform', 'DER']), ours.publicKey.toDer(), 'OpenSSL re-encodes our SPKI unchanged')
  })

  for (const name of availableSmBackends()) {
    const b = smBackend(name)

    t.test(`${name}: OpenSSL signatures verify in Tongban`, async (t) => {
      const pub = Sm2PublicKey.fromPem(readFileSync(file('ossl.pub.pem'), 'utf8'))
      for (const size of [0, 1, 100, 5000]) {
        const msg = randomBytes(size)
        file('m.bin', msg)
        openssl(['dgst', '-sm3', '-sign', file('ossl.key.pem'), '-sigopt', `distid:${ID}`, '-out', file('sig.der'), file('m.bin')])
        const sig = sm2SignatureFromDer(readFileSync(file('sig.der')))
        t.equal(pub.verify(msg, sig, { backend: b }), true, `${size}-byte message`)
        t.equal(pub.verify(size === 0 ? Buffer.from([0]) : flip(msg, 0), sig, { backend: b }), false, 'changed message refused')
        t.equal(pub.verify(msg, flip(sig, 5), { backend: b }), false, 'changed r refused')
        t.equal(pub.verify(msg, flip(sig, 40), { backend: b }), false, 'changed s refused')
      }
      file('m.bin', 'with another ID')
      openssl(['dgst', '-sm3', '-sign', file('ossl.key.pem'), '-sigopt', 'distid:ALICE123@YAHOO.COM', '-out', file('sig.der'), file('m.bin')])
      const sig = sm2SignatureFromDer(readFileSync(file('sig.der')))
      t.equal(pub.verify(Buffer.from('with another ID'), sig, { backend: b, id: 'ALICE123@YAHOO.COM' }), true, 'explicit user ID')
      t.equal(pub.verify(Buffer.from('with another ID'), sig, { backend: b }), false, 'not under the default ID')
    })

    t.test(`${name}: Tongban signatures verify in OpenSSL`, async (t) => {
      for (const size of [0, 1, 100, 5000]) {
        const msg = randomBytes(size)
        file('m.bin', msg)
        const sig = ours.sign(msg, { backend: b })
        file('sig.der', sm2SignatureToDer(sig))
        const ok = run('openssl', ['dgst', '-sm3', '-verify', file('ours.pub.pem'), '-sigopt', `distid:${ID}`, '-signature', file('sig.der'), file('m.bin')])
        t.equal(ok.status, 0, `${size}-byte message: OpenSSL says ${ok.stdout.toString().trim() || ok.stderr.trim()}`)
        file('sig.der', sm2SignatureToDer(flip(sig, 63)))
        t.equal(run('openssl', ['dgst', '-sm3', '-verify', file('ours.pub.pem'), '-sigopt', `distid:${ID}`, '-signature', file('sig.der'), file('m.bin')]).status, 1, 'changed s refused by OpenSSL')
      }
    })

    t.test(`${name}: OpenSSL ciphertexts (DER) decrypt in Tongban`, async (t) => {
      const priv = Sm2PrivateKey.fromPem(readFileSync(file('ossl.key.pem'), 'utf8'))
      for (const size of [1, 32, 1000]) {
        const msg = randomBytes(size)
        file('m.bin', msg)
        openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', file('ossl.pub.pem'), '-in', file('m.bin'), '-out', file('ct.der')])
        const ct = sm2CiphertextFromDer(readFileSync(file('ct.der')))
        t.same(priv.decrypt(ct, { backend: b }), msg, `${size} bytes`)
        t.throws(() => priv.decrypt(flip(ct, 70), { backend: b }), { code: 'ERR_SM_DECRYPT' }, 'changed C3 refused')
        t.throws(() => priv.decrypt(flip(ct, ct.length - 1), { backend: b }), { code: 'ERR_SM_DECRYPT' }, 'changed C2 refused')
        t.throws(() => priv.decrypt(flip(ct, 10), { backend: b }), { code: 'ERR_SM_DECRYPT' }, 'changed C1 refused')
      }
    })

    t.test(`${name}: Tongban ciphertexts (DER) decrypt in OpenSSL`, async (t) => {
      for (const size of [1, 32, 1000]) {
        const msg = randomBytes(size)
        const ct = ours.publicKey.encrypt(msg, { backend: b })
        file('ct.der', sm2CiphertextToDer(ct))
        t.same(openssl(['pkeyutl', '-decrypt', '-inkey', file('ours.key.pem'), '-in', file('ct.der')]), msg, `${size} bytes`)
        file('ct.der', sm2CiphertextToDer(flip(ct, 80)))
        t.not(run('openssl', ['pkeyutl', '-decrypt', '-inkey', file('ours.key.pem'), '-in', file('ct.der')]).status, 0, 'changed C3 refused by OpenSSL')
      }
    })
  }
}
