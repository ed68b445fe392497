// The native addon's point multiplication (sm2_p256.c: 64-bit limbs, complete formulas, a
// fixed-base table for G) against the JavaScript backend, which shares no code with it: with the
// same fixed k both must produce the same bytes (public keys, signatures, ciphertexts), over
// random inputs and over the scalars where windowed methods and addition formulas go wrong
// (tiny, window-aligned and near-n scalars, a doubling inside an addition, a sum at infinity).
import t from 'tap'
import { randomBytes, randomInt } from 'node:crypto'
import { availableSmBackends, smBackend } from '../../src/crypto/sm/index.ts'
import { SM2_N } from '../../src/crypto/sm/curve.ts'

const n = SM2_N
const be = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex')
const num = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex')}`)
const mod = (a: bigint): bigint => ((a % n) + n) % n
function inverse(a: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a), n, 1n, 0n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1]
  }
  return mod(s0)
}

const names = availableSmBackends()
if (!names.includes('native')) {
  t.comment('the native addon is not built here: nothing of it to check')
} else {
  const native = smBackend('native')
  const js = smBackend('js')

  // Scalars where a 4-bit window method or the addition formulas are easiest to get wrong.
  const edges: bigint[] = [1n, 2n, 3n, 15n, 16n, 17n, 255n, 256n, 0x10000n, 1n << 128n, (1n << 252n) + 1n, (1n << 255n) - 1n, 1n << 255n, n - 3n, n - 2n]

  t.test('d·G: the same public key for edge and random d', async (t) => {
    for (const d of [...edges, ...Array.from({ length: 40 }, () => mod(num(randomBytes(32))) || 1n)].filter((d) => d >= 1n && d <= n - 2n)) {
      t.same(native.sm2PublicFromPrivate(be(d)), js.sm2PublicFromPrivate(be(d)), `d = ${d.toString(16).slice(0, 12)}…`)
    }
  })

  t.test('signatures with a fixed k: byte for byte the same, and each verifies on the other backend', async (t) => {
    const ks = [...edges, n - 1n, ...Array.from({ length: 60 }, () => mod(num(randomBytes(32))) || 1n)]
    for (const [i, k] of ks.entries()) {
      const d = i % 2 === 0 ? mod(num(randomBytes(32))) % (n - 2n) + 1n : edges[i % edges.length] as bigint
      const point = js.sm2PublicFromPrivate(be(d))
      const e = randomBytes(32)
      let want: Buffer | undefined
      try {
        want = js.sm2SignDigest(be(d), e, be(k))
      } catch {
        // r = 0 or r + k = n for this k: the native side must refuse it too
        t.throws(() => native.sm2SignDigest(be(d), e, be(k)), `k = ${k.toString(16).slice(0, 12)}… refused on both`)
        continue
      }
      const got = await native.sm2SignDigestAsync(be(d), e, be(k))
      t.same(got, want, `k = ${k.toString(16).slice(0, 12)}…`)
      t.equal(await native.sm2VerifyDigestAsync(point, e, want), true)
      const bad = Buffer.from(want)
      const at = randomInt(0, 64)
      bad[at] = (bad[at] as number) ^ (1 << randomInt(0, 8))
      t.equal(native.sm2VerifyDigest(point, e, bad), js.sm2VerifyDigest(point, e, bad), 'a changed signature: the same answer (false)')
    }
  })

  t.test('encryption with a fixed k: the same ciphertext; decryption across', async (t) => {
    const ks = [...edges, n - 1n, ...Array.from({ length: 30 }, () => mod(num(randomBytes(32))) || 1n)]
    for (const [i, k] of ks.entries()) {
      const d = i % 3 === 0 ? edges[i % edges.length] as bigint : mod(num(randomBytes(32))) % (n - 2n) + 1n
      const point = js.sm2PublicFromPrivate(be(d))
      const msg = randomBytes(randomInt(1, 100))
      const want = js.sm2EncryptRaw(point, msg, be(k))
      t.same(await native.sm2EncryptRawAsync(point, msg, be(k)), want, `k = ${k.toString(16).slice(0, 12)}…`)
      t.same(await native.sm2DecryptAsync(be(d), want), msg)
      t.same(js.sm2Decrypt(be(d), native.sm2EncryptRaw(point, msg)), msg, 'a native ciphertext (random k) decrypts in JavaScript')
    }
  })

  t.test('a C1 equal to the public key (d·C1 is a doubling inside the windows) decrypts the same', async (t) => {
    for (const d of [2n, 17n, mod(num(randomBytes(32))) % (n - 2n) + 1n]) {
      const point = js.sm2PublicFromPrivate(be(d))
      // k = d makes C1 = d·G = the public key, and the shared point d·(d·G)
      const ct = js.sm2EncryptRaw(point, Buffer.from('调休上班'), be(d))
      t.same(native.sm2Decrypt(be(d), ct), Buffer.from('调休上班'))
    }
  })

  t.test('known keys get a table of their own: many threads at once, past the cap of 32, the same answers', async (t) => {
    // Fresh keys, each verified and encrypted to by many threadpool calls at once (racing to build
    // its table), more keys than the addon keeps tables for: every answer as the JavaScript backend's.
    const keys = Array.from({ length: 40 }, () => {
      const d = native.sm2GeneratePrivate()
      return { d, point: js.sm2PublicFromPrivate(d) }
    })
    const results = await Promise.all(keys.flatMap(({ d, point }, i) => Array.from({ length: 6 }, async (_, j) => {
      const e = randomBytes(32)
      const k = be(mod(num(randomBytes(32))) || 1n)
      const sig = js.sm2SignDigest(d, e, k)
      const other = Buffer.from(sig)
      other[63] = (other[63] as number) ^ 1
      const msg = Buffer.from(`key ${i}, call ${j}`)
      const [good, bad, ct] = await Promise.all([native.sm2VerifyDigestAsync(point, e, sig), native.sm2VerifyDigestAsync(point, e, other), native.sm2EncryptRawAsync(point, msg, k)])
      return good && !bad && ct.equals(js.sm2EncryptRaw(point, msg, k))
    })))
    t.equal(results.filter((ok) => !ok).length, 0, `${results.length} verifications and encryptions, each as the JavaScript backend's`)
  })

  t.test('a signature whose s·G + t·P is the point at infinity is refused, not a crash', async (t) => {
    for (let i = 0; i < 5; i++) {
      const d = mod(num(randomBytes(32))) % (n - 2n) + 1n
      const point = js.sm2PublicFromPrivate(be(d))
      const r = mod(num(randomBytes(32))) || 1n
      // s + (r + s)·d ≡ 0: s = -r·d / (1 + d)
      const s = mod(-r * d * inverse(1n + d))
      if (s === 0n || mod(r + s) === 0n) continue
      const sig = Buffer.concat([be(r), be(s)])
      const e = randomBytes(32)
      t.equal(native.sm2VerifyDigest(point, e, sig), false)
      t.equal(await native.sm2VerifyDigestAsync(point, e, sig), false)
      t.equal(js.sm2VerifyDigest(point, e, sig), false)
    }
  })
}
