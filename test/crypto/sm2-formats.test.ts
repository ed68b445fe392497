// Legacy layouts: r‖s ↔ DER signature, C1‖C3‖C2 ↔ C1‖C2‖C3 ↔ DER ciphertext (GM/T 0009).
// Conversions are lossless and malformed input is refused with ERR_SM_FORMAT.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import {
  Sm2PrivateKey,
  sm2CiphertextFromC1C2C3,
  sm2CiphertextFromDer,
  sm2CiphertextToC1C2C3,
  sm2CiphertextToDer,
  sm2SignatureFromDer,
  sm2SignatureToDer,
} from '../../src/crypto/sm/index.ts'
import { hex, vectors } from './helpers/vectors.ts'

const FORMAT = { code: 'ERR_SM_FORMAT' }

t.test('signature r‖s ↔ DER', async (t) => {
  const rs = hex(vectors.sm2_sign.r + vectors.sm2_sign.s)
  const der = sm2SignatureToDer(rs)
  // Both r and s have their top bit set, so each INTEGER carries a 0x00 sign byte: 2 + (2 + 33) * 2.
  t.equal(der.length, 72)
  t.equal(der.subarray(0, 5).toString('hex'), '3046022100')
  t.same(sm2SignatureFromDer(der), rs)
  const small = Buffer.concat([Buffer.alloc(31), Buffer.from([5]), Buffer.alloc(31), Buffer.from([0x7f])])
  t.equal(sm2SignatureToDer(small).toString('hex'), '3006020105020 17f'.replace(/ /g, ''), 'small values encode minimally')
  t.same(sm2SignatureFromDer(sm2SignatureToDer(small)), small)
  for (let i = 0; i < 20; i++) {
    const x = randomBytes(64)
    t.same(sm2SignatureFromDer(sm2SignatureToDer(x)), x)
  }
  t.throws(() => sm2SignatureFromDer(Buffer.concat([der, Buffer.from([0])])), FORMAT, 'trailing byte')
  t.throws(() => sm2SignatureFromDer(der.subarray(0, der.length - 1)), FORMAT, 'truncated')
  t.throws(() => sm2SignatureFromDer(Buffer.from('3006020100020100', 'hex').subarray(0, 7)), FORMAT, 'short')
  t.throws(() => sm2SignatureFromDer(Buffer.from('300702020005020105', 'hex')), FORMAT, 'non-minimal INTEGER')
  t.throws(() => sm2SignatureFromDer(Buffer.from('30060201ff020105', 'hex')), FORMAT, 'negative INTEGER')
  t.throws(() => sm2SignatureFromDer(Buffer.from(`3025022101${'00'.repeat(32)}020105`, 'hex')), FORMAT, 'r longer than 32 bytes')
  t.throws(() => sm2SignatureToDer(Buffer.alloc(63)), FORMAT, 'r‖s of 63 bytes')
})

t.test('ciphertext C1‖C3‖C2 ↔ C1‖C2‖C3 ↔ DER', async (t) => {
  const e = vectors.sm2_encrypt_c1c3c2
  const c1c3c2 = hex(e.c1 + e.c3 + e.c2)
  t.same(sm2CiphertextToC1C2C3(c1c3c2), hex(e.c1 + e.c2 + e.c3), 'C1‖C2‖C3 order')
  t.same(sm2CiphertextFromC1C2C3(hex(e.c1 + e.c2 + e.c3)), c1c3c2, 'back to C1‖C3‖C2')
  const der = sm2CiphertextToDer(c1c3c2)
  t.equal(der[0], 0x30)
  t.same(sm2CiphertextFromDer(der), c1c3c2, 'DER round trip')
  const key = Sm2PrivateKey.fromScalar(hex(e.d))
  t.equal(key.decrypt(sm2CiphertextFromDer(der)).toString(), e.msg_ascii, 'decrypts after the DER round trip')
  for (let i = 0; i < 10; i++) {
    const ct = key.publicKey.encrypt(randomBytes(1 + i * 13))
    t.same(sm2CiphertextFromDer(sm2CiphertextToDer(ct)), ct)
    t.same(sm2CiphertextFromC1C2C3(sm2CiphertextToC1C2C3(ct)), ct)
  }
  t.throws(() => sm2CiphertextFromDer(der.subarray(1)), FORMAT, 'not a SEQUENCE')
  t.throws(() => sm2CiphertextFromDer(sm2SignatureToDer(randomBytes(64))), FORMAT, 'a signature is not a ciphertext')
  t.throws(() => sm2CiphertextToDer(c1c3c2.subarray(0, 97)), FORMAT, 'no C2')
  t.throws(() => sm2CiphertextToC1C2C3(Buffer.concat([Buffer.from([2]), c1c3c2.subarray(1)])), FORMAT, 'compressed C1')
})
