// What must be refused, on every backend and through both paths (sync, and async on the
// threadpool): a changed byte anywhere in a signature, message or ciphertext; r or s equal to 0
// or ≥ n; C1 off the curve; the wrong key. Verification answers false (never throws or rejects);
// decryption throws or rejects ERR_SM_DECRYPT, the same for every cause.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { SM2_N, type Sm2Id } from '../../src/crypto/sm/index.ts'
import { backendVariants } from './helpers/backends.ts'
import { toBytes } from '../../src/crypto/sm/curve.ts'

function flip(b: Buffer, i: number, mask = 0x01): Buffer {
  const c = Buffer.from(b)
  c[i] = (c[i] as number) ^ mask
  return c
}

// Each backend, and the addon with its async operations on the event loop (crypto.sm2Thread event-loop).
for (const [name, b] of backendVariants()) {
  const d = b.sm2GeneratePrivate()
  const point = b.sm2PublicFromPrivate(d)
  const msg = Buffer.from('{"type":"tax.assessment.request"}')
  const sig = b.sm2Sign({ d, point }, msg)

  /** Each case: what is refused, and the verification's arguments. */
  function signatureCases(): Array<[string, Buffer, Buffer, Buffer, Sm2Id?]> {
    const r = sig.subarray(0, 32)
    const s = sig.subarray(32)
    const zero = Buffer.alloc(32)
    const n = toBytes(SM2_N)
    const n1 = toBytes(SM2_N + 1n)
    const max = Buffer.alloc(32, 0xff)
    return [
      ...[0, 17, 31].map((i): [string, Buffer, Buffer, Buffer] => [`byte ${i} of r changed`, point, msg, flip(sig, i)]),
      ...[32, 50, 63].map((i): [string, Buffer, Buffer, Buffer] => [`byte ${i} of s changed`, point, msg, flip(sig, i)]),
      ...[0, 10, msg.length - 1].map((i): [string, Buffer, Buffer, Buffer] => [`message byte ${i} changed`, point, flip(msg, i), sig]),
      ['message extended', point, Buffer.concat([msg, Buffer.from(' ')]), sig],
      ['r = 0', point, msg, Buffer.concat([zero, s])],
      ['s = 0', point, msg, Buffer.concat([r, zero])],
      ['r = n', point, msg, Buffer.concat([n, s])],
      ['s = n', point, msg, Buffer.concat([r, n])],
      ['r = n + 1', point, msg, Buffer.concat([n1, s])],
      ['r = s = 2^256 - 1', point, msg, Buffer.concat([max, max])],
      // r + s = n makes t = 0: must be refused, not computed on.
      ['r + s = n', point, msg, Buffer.concat([r, toBytes(SM2_N - BigInt(`0x${r.toString('hex')}`))])],
      ['63 bytes', point, msg, sig.subarray(0, 63)],
      ['65 bytes', point, msg, Buffer.concat([sig, Buffer.from([0])])],
      ['empty signature', point, msg, Buffer.alloc(0)],
      ['another key', b.sm2PublicFromPrivate(b.sm2GeneratePrivate()), msg, sig],
      ['another user ID', point, msg, sig, 'another-user-id'],
      ['a public point off the curve', flip(point, 64), msg, sig],
      ['an all-zero public point', Buffer.alloc(65), msg, sig],
    ]
  }

  t.test(`${name}: signatures`, async (t) => {
    t.equal(b.sm2Verify(point, msg, sig), true, 'the untouched signature verifies')
    t.equal(await b.sm2VerifyAsync(point, msg, sig), true, 'the untouched signature verifies (async)')
    for (const [what, p, m, s, id] of signatureCases()) {
      const opts = id === undefined ? {} : { id }
      t.equal(b.sm2Verify(p, m, s, opts), false, what)
      t.equal(await b.sm2VerifyAsync(p, m, s, opts), false, `${what} (async)`)
    }
  })

  t.test(`${name}: signatures at the digest level answer no, never throw`, async (t) => {
    const e = b.sm2Digest(point, msg)
    t.equal(b.sm2VerifyDigest(point, e, sig), true)
    t.equal(await b.sm2VerifyDigestAsync(point, e, sig), true, 'async')
    const cases: Array<[string, Buffer, Buffer, Buffer]> = [
      ['a 31-byte digest', point, e.subarray(1), sig],
      ['a 63-byte signature', point, e, sig.subarray(1)],
      ['a 64-byte point', point.subarray(1), e, sig],
      ['a compressed-looking point', flip(point, 0, 0x06), e, sig],
      ['another digest', point, flip(e, 0), sig],
    ]
    for (const [what, p, ee, s] of cases) {
      t.equal(b.sm2VerifyDigest(p, ee, s), false, what)
      t.equal(await b.sm2VerifyDigestAsync(p, ee, s), false, `${what} (async)`)
    }
  })

  t.test(`${name}: decryption`, async (t) => {
    const pt = randomBytes(32)
    const ct = b.sm2Encrypt(point, pt)
    t.same(b.sm2Decrypt(d, ct), pt, 'the untouched ciphertext decrypts')
    t.same(await b.sm2DecryptAsync(d, ct), pt, 'the untouched ciphertext decrypts (async)')
    const cases: Array<[string, Buffer, Buffer]> = [
      ...[1, 40, 64].map((i): [string, Buffer, Buffer] => [`C1 byte ${i} changed (off the curve)`, d, flip(ct, i)]),
      ['C1 marked compressed', d, flip(ct, 0, 0x06)],
      ...[65, 80, 96].map((i): [string, Buffer, Buffer] => [`C3 byte ${i - 65} changed`, d, flip(ct, i)]),
      ...[97, ct.length - 1].map((i): [string, Buffer, Buffer] => [`C2 byte ${i - 97} changed`, d, flip(ct, i)]),
      ['C2 truncated', d, ct.subarray(0, ct.length - 1)],
      ['C2 empty', d, ct.subarray(0, 97)],
      ['shorter than C1', d, ct.subarray(0, 50)],
      ['empty', d, Buffer.alloc(0)],
      ['C1 = (0, 0)', d, Buffer.concat([Buffer.from([4]), Buffer.alloc(64), ct.subarray(65)])],
      ['another key', b.sm2GeneratePrivate(), ct],
      // C1 = G is on the curve, so only C3 can catch the substitution.
      ['C1 replaced by another valid point', d, Buffer.concat([b.sm2PublicFromPrivate(toBytes(1n)), ct.subarray(65)])],
    ]
    const bad = { code: 'ERR_SM_DECRYPT', message: 'SM2 decryption failed' }
    for (const [what, key, c] of cases) {
      t.throws(() => b.sm2Decrypt(key, c), bad, what)
      await t.rejects(b.sm2DecryptAsync(key, c), bad, `${what} (async)`)
    }
  })

  t.test(`${name}: inputs out of range`, async (t) => {
    const input = { code: 'ERR_SM_INPUT' }
    t.throws(() => b.sm2PublicFromPrivate(Buffer.alloc(32)), input, 'd = 0')
    t.throws(() => b.sm2PublicFromPrivate(toBytes(SM2_N - 1n)), input, 'd = n - 1')
    const both: Array<[string, () => unknown, () => Promise<unknown>]> = [
      ['signing with d = 0', () => b.sm2Sign({ d: Buffer.alloc(32), point }, msg), () => b.sm2SignAsync({ d: Buffer.alloc(32), point }, msg)],
      ['signing with d = n - 1', () => b.sm2Sign({ d: toBytes(SM2_N - 1n), point }, msg), () => b.sm2SignAsync({ d: toBytes(SM2_N - 1n), point }, msg)],
      ['signing with a 31-byte d', () => b.sm2Sign({ d: d.subarray(1), point }, msg), () => b.sm2SignAsync({ d: d.subarray(1), point }, msg)],
      ['k = 0', () => b.sm2Sign({ d, point }, msg, { k: 0n }), () => b.sm2SignAsync({ d, point }, msg, { k: 0n })],
      ['k = n', () => b.sm2Sign({ d, point }, msg, { k: toBytes(SM2_N) }), () => b.sm2SignAsync({ d, point }, msg, { k: toBytes(SM2_N) })],
      ['a 31-byte digest', () => b.sm2SignDigest(d, Buffer.alloc(31, 1)), () => b.sm2SignDigestAsync(d, Buffer.alloc(31, 1))],
      ['a user ID over 8191 bytes', () => b.sm2Sign({ d, point }, msg, { id: Buffer.alloc(8192) }), () => b.sm2SignAsync({ d, point }, msg, { id: Buffer.alloc(8192) })],
      ['encrypting to a point off the curve', () => b.sm2Encrypt(flip(point, 64), randomBytes(8)), () => b.sm2EncryptAsync(flip(point, 64), randomBytes(8))],
      ['encrypting to a 64-byte point', () => b.sm2EncryptRaw(point.subarray(1), randomBytes(8)), () => b.sm2EncryptRawAsync(point.subarray(1), randomBytes(8))],
      ['empty plaintext', () => b.sm2Encrypt(point, Buffer.alloc(0)), () => b.sm2EncryptAsync(point, Buffer.alloc(0))],
      ['decrypting with d = 0', () => b.sm2Decrypt(Buffer.alloc(32), b.sm2Encrypt(point, msg)), () => b.sm2DecryptAsync(Buffer.alloc(32), b.sm2Encrypt(point, msg))],
    ]
    for (const [what, sync, async] of both) {
      t.throws(sync, input, what)
      await t.rejects(async(), input, `${what} (async)`)
    }
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
