// The published vectors (GB/T 32905 SM3, GB/T 32907 SM4, GB/T 32918 Annex A SM2) on every
// available backend: each backend must reproduce them bit for bit, fixed k included.
import t from 'tap'
import { availableSmBackends, smBackend } from '../../src/crypto/sm/index.ts'
import { SM2_A, SM2_B, SM2_GX, SM2_GY, SM2_N, SM2_OID, SM2_P } from '../../src/crypto/sm/curve.ts'
import { hex, vectors } from './helpers/vectors.ts'

const v = vectors

t.test('the curve constants are those published for sm2p256v1', async (t) => {
  const c = v.sm2_curve_sm2p256v1
  t.equal(SM2_OID, c.oid)
  t.equal(SM2_P, BigInt(`0x${c.p}`))
  t.equal(SM2_A, BigInt(`0x${c.a}`))
  t.equal(SM2_B, BigInt(`0x${c.b}`))
  t.equal(SM2_N, BigInt(`0x${c.n}`))
  t.equal(SM2_GX, BigInt(`0x${c.gx}`))
  t.equal(SM2_GY, BigInt(`0x${c.gy}`))
})

for (const name of availableSmBackends()) {
  const b = smBackend(name)

  t.test(`${name}: SM3`, async (t) => {
    for (const vec of v.sm3) {
      const msg = vec.msg_ascii ?? (vec.msg_ascii_repeat ? vec.msg_ascii_repeat.unit.repeat(vec.msg_ascii_repeat.times) : '')
      t.equal(b.sm3(Buffer.from(msg, 'ascii')).toString('hex'), vec.digest, `SM3(${msg.slice(0, 8)}…)`)
    }
  })

  t.test(`${name}: SM4 one block and 1,000,000 iterations`, async (t) => {
    const [one, million] = v.sm4
    if (!one || !million) throw new Error('fixture lacks the SM4 vectors')
    const ct = b.sm4EcbBlock(hex(one.key), hex(one.plaintext))
    t.equal(ct.toString('hex'), one.ciphertext, 'one block')
    t.equal(b.sm4EcbBlock(hex(one.key), ct, true).toString('hex'), one.plaintext, 'one block decrypts back')
    t.equal(b.sm4EcbBlock(hex(million.key), hex(million.plaintext), false, 1_000_000).toString('hex'), million.ciphertext, '1,000,000 iterations')
  })

  t.test(`${name}: SM2 signature with the fixed k`, async (t) => {
    const s = v.sm2_sign
    const point = Buffer.concat([Buffer.from([4]), hex(s.px), hex(s.py)])
    t.same(b.sm2PublicFromPrivate(hex(s.d)), point, 'P = dG')
    t.equal(b.sm2Za(point, s.id_ascii).toString('hex').toUpperCase(), s.za, 'Z_A')
    t.equal(b.sm2Za(point).toString('hex').toUpperCase(), s.za, 'Z_A with the default ID')
    const msg = Buffer.from(s.msg_ascii, 'ascii')
    t.equal(b.sm2Digest(point, msg).toString('hex').toUpperCase(), s.e, 'e = SM3(Z_A ‖ M)')
    const sig = b.sm2Sign({ d: hex(s.d), point }, msg, { id: s.id_ascii, k: hex(s.k) })
    t.equal(sig.subarray(0, 32).toString('hex').toUpperCase(), s.r, 'r')
    t.equal(sig.subarray(32).toString('hex').toUpperCase(), s.s, 's')
    t.same(b.sm2Sign({ d: hex(s.d), point }, msg, { k: BigInt(`0x${s.k}`) }), sig, 'k as a bigint, default ID')
    t.equal(b.sm2Verify(point, msg, sig), true, 'the published signature verifies')
    t.equal(b.sm2Verify(point, msg, sig, { id: 'ALICE123@YAHOO.COM' }), false, 'not under another user ID')
  })

  t.test(`${name}: SM2 encryption with the fixed k`, async (t) => {
    const e = v.sm2_encrypt_c1c3c2
    const point = b.sm2PublicFromPrivate(hex(e.d))
    const msg = Buffer.from(e.msg_ascii, 'ascii')
    const ct = b.sm2Encrypt(point, msg, { k: hex(e.k) })
    t.equal(ct.subarray(0, 65).toString('hex').toUpperCase(), e.c1, 'C1')
    t.equal(ct.subarray(65, 97).toString('hex').toUpperCase(), e.c3, 'C3')
    t.equal(ct.subarray(97).toString('hex').toUpperCase(), e.c2, 'C2')
    t.same(b.sm2Decrypt(hex(e.d), hex(e.c1 + e.c3 + e.c2)), msg, 'the published ciphertext decrypts back')
  })
}
