// The worked example of docs/national-suite.md §7 (test/fixtures/national-suite-example.json):
// every intermediate value is recomputed from the documented inputs, on every backend, with
// node:crypto for SM3 / HMAC-SM3 / SM4; Tongban decrypts and verifies it; and the compact
// strings in the document are exactly the fixture's (the docs cannot drift from the code).
import t from 'tap'
import { createCipheriv, createHash, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { SM2_N, Sm2PrivateKey, availableSmBackends, smBackend, smBackendInfo, useSmBackend } from '../../src/crypto/sm/index.ts'
import { decryptSm2Jwe, verifySm2Signature } from '../../src/crypto/national/index.ts'
import { parseJws } from '../../src/crypto/index.ts'

const ex = JSON.parse(readFileSync(new URL('../fixtures/national-suite-example.json', import.meta.url), 'utf8')) as {
  senderSigningKey: { d: string; publicPoint: string }
  recipientEncryptionKey: { d: string; publicPoint: string }
  k: string
  jws: Record<'protectedHeaderJson' | 'payloadUtf8' | 'za' | 'e' | 'signingInput' | 'signature' | 'compact', string>
  jwe: Record<'protectedHeaderJson' | 'protectedHeaderB64' | 'cek' | 'macKey' | 'encKey' | 'iv' | 'encryptedKey' | 'ciphertext' | 'al' | 'hmac' | 'tag' | 'compact', string>
}
const doc = readFileSync(new URL('../../docs/national-suite.md', import.meta.url), 'utf8')
const hex = (s: string): Buffer => Buffer.from(s, 'hex')

t.test('the recipient key is derived as documented', async (t) => {
  const v = BigInt(`0x${createHash('sm3').update('Tongban national-suite example recipient').digest('hex')}`) % (SM2_N - 2n) + 1n
  t.equal(v.toString(16).padStart(64, '0'), ex.recipientEncryptionKey.d)
})

for (const name of availableSmBackends()) {
  const b = smBackend(name)
  t.test(`${name}: every intermediate value from the documented inputs`, async (t) => {
    const dS = hex(ex.senderSigningKey.d)
    const pS = b.sm2PublicFromPrivate(dS)
    t.equal(pS.toString('hex'), ex.senderSigningKey.publicPoint, 'sender P')
    t.equal(b.sm2PublicFromPrivate(hex(ex.recipientEncryptionKey.d)).toString('hex'), ex.recipientEncryptionKey.publicPoint, 'recipient P')
    const si = `${Buffer.from(ex.jws.protectedHeaderJson).toString('base64url')}.${Buffer.from(ex.jws.payloadUtf8).toString('base64url')}`
    t.equal(si, ex.jws.signingInput, 'signing input')
    t.equal(b.sm2Za(pS).toString('hex'), ex.jws.za, 'Z_A')
    t.equal(b.sm2Digest(pS, Buffer.from(si)).toString('hex'), ex.jws.e, 'e')
    const sig = b.sm2Sign({ d: dS, point: pS }, Buffer.from(si), { k: hex(ex.k) })
    t.equal(sig.toString('hex'), ex.jws.signature, 'r ‖ s')
    t.equal(`${si}.${sig.toString('base64url')}`, ex.jws.compact, 'compact JWS')

    const h = Buffer.from(ex.jwe.protectedHeaderJson).toString('base64url')
    t.equal(h, ex.jwe.protectedHeaderB64, 'protected header')
    const cek = hex(ex.jwe.cek)
    t.same([cek.subarray(0, 16).toString('hex'), cek.subarray(16).toString('hex')], [ex.jwe.macKey, ex.jwe.encKey], 'MAC_KEY ‖ ENC_KEY')
    const ek = b.sm2Encrypt(hex(ex.recipientEncryptionKey.publicPoint), cek, { k: hex(ex.k) })
    t.equal(ek.toString('hex'), ex.jwe.encryptedKey, 'EK = C1 ‖ C3 ‖ C2')
    const c = createCipheriv('sm4-cbc', cek.subarray(16), hex(ex.jwe.iv))
    const ct = Buffer.concat([c.update(ex.jws.compact, 'ascii'), c.final()])
    t.equal(ct.toString('hex'), ex.jwe.ciphertext, 'C (node:crypto SM4-CBC)')
    t.equal(b.sm4CbcEncrypt(cek.subarray(16), hex(ex.jwe.iv), Buffer.from(ex.jws.compact)).toString('hex'), ex.jwe.ciphertext, `C (${name})`)
    const al = Buffer.alloc(8)
    al.writeBigUInt64BE(BigInt(h.length * 8))
    t.equal(al.toString('hex'), ex.jwe.al, 'AL')
    const mac = createHmac('sm3', cek.subarray(0, 16)).update(Buffer.concat([Buffer.from(h), hex(ex.jwe.iv), ct, al])).digest()
    t.equal(mac.toString('hex'), ex.jwe.hmac, 'HMAC-SM3 (node:crypto)')
    t.equal(b.hmacSm3(cek.subarray(0, 16), Buffer.concat([Buffer.from(h), hex(ex.jwe.iv), ct, al])).toString('hex'), ex.jwe.hmac, `HMAC-SM3 (${name})`)
    t.equal(mac.subarray(0, 16).toString('hex'), ex.jwe.tag, 'T')
    t.equal([h, ek, hex(ex.jwe.iv), ct, mac.subarray(0, 16)].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.'), ex.jwe.compact, 'compact JWE')
  })

  t.test(`${name}: Tongban decrypts the example and verifies the JWS inside`, async (t) => {
    const initial = smBackendInfo().backend
    useSmBackend(name)
    t.teardown(() => void useSmBackend(initial))
    const { plaintext, header } = await decryptSm2Jwe(ex.jwe.compact, Sm2PrivateKey.fromScalar(hex(ex.recipientEncryptionKey.d)))
    t.equal(header.kid, 'TAX:231202#enc-sm2')
    t.equal(plaintext.toString('ascii'), ex.jws.compact)
    const jws = parseJws(plaintext.toString('ascii'))
    t.equal(await verifySm2Signature(jws.signingInput, jws.signature, Sm2PrivateKey.fromScalar(hex(ex.senderSigningKey.d)).publicKey), true)
    t.equal(jws.payload.toString('utf8'), ex.jws.payloadUtf8)
  })
}

t.test('docs/national-suite.md shows exactly the fixture values', async (t) => {
  for (const v of [ex.jws.compact, ex.jwe.compact, ex.jws.za, ex.jws.e, ex.jwe.tag, ex.jwe.hmac, ex.jwe.al, ex.k, ex.senderSigningKey.d, ex.recipientEncryptionKey.d, ex.recipientEncryptionKey.publicPoint]) {
    t.ok(doc.includes(v), `${v.slice(0, 24)}… is in the document`)
  }
  t.ok(doc.includes(`\`${ex.jws.signature.slice(0, 64)}\` \`${ex.jws.signature.slice(64)}\``), 'r ‖ s is in the document')
})
