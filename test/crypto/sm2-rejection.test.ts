// What must be refused, on every backend: a changed byte anywhere in a signature, message or
// ciphertext; r or s equal to 0 or ≥ n; C1 off the curve; the wrong key. Verification answers
// false (never throws); decryption throws ERR_SM_DECRYPT, the same for every cause.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { SM2_N, availableSmBackends, smBackend } from '../../src/crypto/sm/index.ts'
import { toBytes } from '../../src/crypto/sm/curve.ts'

function flip(b: Buffer, i: number, mask = 0x01): Buffer {
  const c = Buffer.from(b)
  c[i] = (c[i] as number) ^ mask
  return c
}

for (const name of availableSmBackends()) {
  const b = smBackend(name)
  const d = b.sm2GeneratePrivate()
  const point = b.sm2PublicFromPrivate(d)
  const msg = Buffer.from('{"type":"tax.assessment.request"}')
  const sig = b.sm2Sign({ d, point }, msg)

  t.test(`${name}: signatures`, async (t) => {
    t.equal(b.sm2Verify(point, msg, sig), true, 'the untouched signature verifies')
    for (const i of [0, 17, 31]) t.equal(b.sm2Verify(point, msg, flip(sig, i)), false, `byte ${i} of r changed`)
    for (const i of [32, 50, 63]) t.equal(b.sm2Verify(point, msg, flip(sig, i)), false, `byte ${i} of s changed`)
    for (const i of [0, 10, msg.length - 1]) t.equal(b.sm2Verify(point, flip(msg, i), sig), false, `message byte ${i} changed`)
    t.equal(b.sm2Verify(point, Buffer.concat([msg, Buffer.from(' ')]), sig), false, 'message extended')
    const r = sig.subarray(0, 32)
    const s = sig.subarray(32)
    const zero = Buffer.alloc(32)
    const n = toBytes(SM2_N)
    const n1 = toBytes(SM2_N + 1n)
    const max = Buffer.alloc(32, 0xff)
    t.equal(b.sm2Verify(point, msg, Buffer.concat([zero, s])), false, 'r = 0')
    t.equal(b.sm2Verify(point, msg, Buffer.concat([r, zero])), false, 's = 0')
    t.equal(b.sm2Verify(point, msg, Buffer.concat([n, s])), false, 'r = n')
    t.equal(b.sm2Verify(point, msg, Buffer.concat([r, n])), false, 's = n')
    t.equal(b.sm2Verify(point, msg, Buffer.concat([n1, s])), false, 'r = n + 1')
    t.equal(b.sm2Verify(point, msg, Buffer.concat([max, max])), false, 'r = s = 2^256 - 1')
    // r + s = n makes t = 0: must be refused, not computed on.
    t.equal(b.sm2Verify(point, msg, Buffer.concat([r, toBytes(SM2_N - BigInt(`0x${r.toString('hex')}`))])), false, 'r + s = n')
    t.equal(b.sm2Verify(point, msg, sig.subarray(0, 63)), false, '63 bytes')
    t.equal(b.sm2Verify(point, msg, Buffer.concat([sig, Buffer.from([0])])), false, '65 bytes')
    t.equal(b.sm2Verify(point, msg, Buffer.alloc(0)), false, 'empty signature')
    const other = b.sm2PublicFromPrivate(b.sm2GeneratePrivate())
    t.equal(b.sm2Verify(other, msg, sig), false, 'another key')
    t.equal(b.sm2Verify(point, msg, sig, { id: 'another-user-id' }), false, 'another user ID')
    t.equal(b.sm2Verify(flip(point, 64), msg, sig), false, 'a public point off the curve')
    t.equal(b.sm2Verify(Buffer.alloc(65), msg, sig), false, 'an all-zero public point')
  })

  t.test(`${name}: decryption`, async (t) => {
    const pt = randomBytes(32)
    const ct = b.sm2Encrypt(point, pt)
    t.same(b.sm2Decrypt(d, ct), pt, 'the untouched ciphertext decrypts')
    const bad = { code: 'ERR_SM_DECRYPT' }
    for (const i of [1, 40, 64]) t.throws(() => b.sm2Decrypt(d, flip(ct, i)), bad, `C1 byte ${i} changed (off the curve)`)
    t.throws(() => b.sm2Decrypt(d, flip(ct, 0, 0x06)), bad, 'C1 marked compressed')
    for (const i of [65, 80, 96]) t.throws(() => b.sm2Decrypt(d, flip(ct, i)), bad, `C3 byte ${i - 65} changed`)
    for (const i of [97, ct.length - 1]) t.throws(() => b.sm2Decrypt(d, flip(ct, i)), bad, `C2 byte ${i - 97} changed`)
    t.throws(() => b.sm2Decrypt(d, ct.subarray(0, ct.length - 1)), bad, 'C2 truncated')
    t.throws(() => b.sm2Decrypt(d, ct.subarray(0, 97)), bad, 'C2 empty')
    t.throws(() => b.sm2Decrypt(d, ct.subarray(0, 50)), bad, 'shorter than C1')
    t.throws(() => b.sm2Decrypt(d, Buffer.concat([Buffer.from([4]), Buffer.alloc(64), ct.subarray(65)])), bad, 'C1 = (0, 0)')
    t.throws(() => b.sm2Decrypt(b.sm2GeneratePrivate(), ct), bad, 'another key')
    // C1 = G is on the curve, so only C3 can catch the substitution.
    t.throws(() => b.sm2Decrypt(d, Buffer.concat([b.sm2PublicFromPrivate(toBytes(1n)), ct.subarray(65)])), bad, 'C1 replaced by another valid point')
  })

  t.test(`${name}: inputs out of range`, async (t) => {
    const input = { code: 'ERR_SM_INPUT' }
    t.throws(() => b.sm2PublicFromPrivate(Buffer.alloc(32)), input, 'd = 0')
    t.throws(() => b.sm2PublicFromPrivate(toBytes(SM2_N - 1n)), input, 'd = n - 1')
    t.throws(() => b.sm2Sign({ d: Buffer.alloc(32), point }, msg), input, 'signing with d = 0')
    t.throws(() => b.sm2Sign({ d, point }, msg, { k: 0n }), input, 'k = 0')
    t.throws(() => b.sm2Sign({ d, point }, msg, { k: toBytes(SM2_N) }), input, 'k = n')
    t.throws(() => b.sm2Encrypt(flip(point, 64), randomBytes(8)), input, 'encrypting to a point off the curve')
    t.throws(() => b.sm2Encrypt(point, Buffer.alloc(0)), input, 'empty plaintext')
    t.throws(() => b.sm4CbcEncrypt(Buffer.alloc(15), Buffer.alloc(16), msg), input, 'SM4 key of 15 bytes')
    t.throws(() => b.sm4CbcDecrypt(Buffer.alloc(16), Buffer.alloc(16), Buffer.alloc(15)), { code: 'ERR_SM_DECRYPT' }, 'SM4-CBC ciphertext not a block multiple')
  })

  t.test(`${name}: SM4-CBC padding`, async (t) => {
    const key = randomBytes(16)
    const iv = randomBytes(16)
    for (const len of [0, 1, 15, 16, 17, 32]) {
      const pt = randomBytes(len)
      const ct = b.sm4CbcEncrypt(key, iv, pt)
      t.equal(ct.length, (Math.floor(len / 16) + 1) * 16, `${len} bytes pad to ${ct.length}`)
      t.same(b.sm4CbcDecrypt(key, iv, ct), pt)
    }
    // A last block decrypting to garbage padding is refused. (Random keys hit valid padding ~1/256 times;
    // a fixed key and IV keep the test deterministic.)
    const k = Buffer.alloc(16, 7)
    const ct = b.sm4CbcEncrypt(k, Buffer.alloc(16), Buffer.from('0123456789abcdef0123'))
    t.throws(() => b.sm4CbcDecrypt(k, Buffer.alloc(16), flip(ct, ct.length - 1, 0x80)), { code: 'ERR_SM_DECRYPT' }, 'bad padding')
  })
}
