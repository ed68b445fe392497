// The async SM2 operations (on the native backend: N-API async work on libuv's threadpool) answer
// exactly as the sync ones: the published vectors with the fixed k, bit-identical results for the
// same k, each one verifying and decrypting what the other produced, on every backend and across
// backends; many calls in flight at once all come back right; inputs are taken at the call.
// (The rejections, sync and async side by side, are in sm2-rejection.test.ts.)
import t from 'tap'
import { randomBytes, randomInt } from 'node:crypto'
import { Sm2PrivateKey, availableSmBackends, smBackend, type SmBackend } from '../../src/crypto/sm/index.ts'
import { backendVariants } from './helpers/backends.ts'
import { hex, vectors } from './helpers/vectors.ts'

const names = availableSmBackends()
const IN_FLIGHT = 200
// Each backend, and the addon with its async operations on the event loop (crypto.sm2Thread event-loop).
for (const [name, b] of backendVariants()) {

  t.test(`${name}: the published SM2 signature vector through the async path (fixed k)`, async (t) => {
    const s = vectors.sm2_sign
    const point = Buffer.concat([Buffer.from([4]), hex(s.px), hex(s.py)])
    const msg = Buffer.from(s.msg_ascii, 'ascii')
    const sig = await b.sm2SignAsync({ d: hex(s.d), point }, msg, { id: s.id_ascii, k: hex(s.k) })
    t.equal(sig.subarray(0, 32).toString('hex').toUpperCase(), s.r, 'r')
    t.equal(sig.subarray(32).toString('hex').toUpperCase(), s.s, 's')
    t.same(await b.sm2SignAsync({ d: hex(s.d), point }, msg, { k: BigInt(`0x${s.k}`) }), sig, 'k as a bigint, default ID')
    t.same(await b.sm2SignDigestAsync(hex(s.d), hex(s.e), hex(s.k)), sig, 'at the digest level')
    t.equal(await b.sm2VerifyAsync(point, msg, sig), true, 'the published signature verifies')
    t.equal(await b.sm2VerifyDigestAsync(point, hex(s.e), sig), true, 'and at the digest level')
    t.equal(await b.sm2VerifyAsync(point, msg, sig, { id: 'ALICE123@YAHOO.COM' }), false, 'not under another user ID')
  })

  t.test(`${name}: the published SM2 encryption vector through the async path (fixed k)`, async (t) => {
    const e = vectors.sm2_encrypt_c1c3c2
    const point = b.sm2PublicFromPrivate(hex(e.d))
    const msg = Buffer.from(e.msg_ascii, 'ascii')
    const ct = await b.sm2EncryptAsync(point, msg, { k: hex(e.k) })
    t.equal(ct.subarray(0, 65).toString('hex').toUpperCase(), e.c1, 'C1')
    t.equal(ct.subarray(65, 97).toString('hex').toUpperCase(), e.c3, 'C3')
    t.equal(ct.subarray(97).toString('hex').toUpperCase(), e.c2, 'C2')
    t.same(await b.sm2EncryptRawAsync(point, msg, hex(e.k)), ct, 'at the raw level')
    t.same(await b.sm2DecryptAsync(hex(e.d), hex(e.c1 + e.c3 + e.c2)), msg, 'the published ciphertext decrypts back')
  })

  t.test(`${name}: async ≡ sync on random keys and messages`, async (t) => {
    for (let i = 0; i < 16; i++) {
      const d = b.sm2GeneratePrivate()
      const point = b.sm2PublicFromPrivate(d)
      const msg = randomBytes(randomInt(0, 300))
      const id = i % 3 === 0 ? randomBytes(randomInt(1, 40)) : undefined
      const opts = id ? { id } : {}
      const k = randomBytes(32)
      k[0] = (k[0] as number) & 0x7f // below n
      t.same(await b.sm2SignAsync({ d, point }, msg, { ...opts, k }), b.sm2Sign({ d, point }, msg, { ...opts, k }), 'same r‖s for the same k')
      const asyncSig = await b.sm2SignAsync({ d, point }, msg, opts)
      const syncSig = b.sm2Sign({ d, point }, msg, opts)
      t.equal(b.sm2Verify(point, msg, asyncSig, opts), true, 'async signature, sync verification')
      t.equal(await b.sm2VerifyAsync(point, msg, syncSig, opts), true, 'sync signature, async verification')
      t.equal(await b.sm2VerifyAsync(point, msg, asyncSig, opts), true, 'async both ways')
      const pt = randomBytes(randomInt(1, 200))
      t.same(await b.sm2EncryptAsync(point, pt, { k }), b.sm2Encrypt(point, pt, { k }), 'same C1‖C3‖C2 for the same k')
      t.same(b.sm2Decrypt(d, await b.sm2EncryptAsync(point, pt)), pt, 'async encryption, sync decryption')
      t.same(await b.sm2DecryptAsync(d, b.sm2Encrypt(point, pt)), pt, 'sync encryption, async decryption')
    }
  })

  t.test(`${name}: ${IN_FLIGHT} signatures, verifications, encryptions and decryptions in flight at once`, async (t) => {
    const keys = Array.from({ length: 8 }, () => {
      const d = b.sm2GeneratePrivate()
      return { d, point: b.sm2PublicFromPrivate(d) }
    })
    const key = (i: number): { d: Buffer; point: Buffer } => keys[i % keys.length] as { d: Buffer; point: Buffer }
    const msgs = Array.from({ length: IN_FLIGHT }, (_, i) => Buffer.from(`message ${i} ${randomBytes(8).toString('hex')}`))

    const sigs = await Promise.all(msgs.map((m, i) => b.sm2SignAsync(key(i), m)))
    t.equal(sigs.filter((s, i) => b.sm2Verify(key(i).point, msgs[i] as Buffer, s)).length, IN_FLIGHT, 'every concurrent signature verifies (sync)')

    // Every fifth one is tampered with: those, and only those, must come back false.
    const verdicts = await Promise.all(
      sigs.map((s, i) => b.sm2VerifyAsync(key(i).point, msgs[i] as Buffer, i % 5 === 0 ? Buffer.concat([s.subarray(0, 63), Buffer.from([(s[63] as number) ^ 1])]) : s)),
    )
    t.same(verdicts, sigs.map((_, i) => i % 5 !== 0), 'every concurrent verification answers right')

    const pts = msgs.map((m) => m.subarray(0, 32))
    const cts = await Promise.all(pts.map((p, i) => b.sm2EncryptAsync(key(i).point, p)))
    t.equal(cts.filter((c, i) => b.sm2Decrypt(key(i).d, c).equals(pts[i] as Buffer)).length, IN_FLIGHT, 'every concurrent encryption decrypts (sync)')

    // Every seventh one under the wrong key: rejected ERR_SM_DECRYPT, the others decrypted.
    const outcomes = await Promise.all(
      cts.map((c, i) => b.sm2DecryptAsync(key(i + (i % 7 === 0 ? 1 : 0)).d, c).then((p) => p, (err: { code?: string }) => err.code)),
    )
    t.same(outcomes, cts.map((_, i) => (i % 7 === 0 ? 'ERR_SM_DECRYPT' : pts[i])), 'every concurrent decryption answers right')
  })

  t.test(`${name}: the inputs are taken at the call (the caller may reuse its buffers at once)`, async (t) => {
    const d = b.sm2GeneratePrivate()
    const point = b.sm2PublicFromPrivate(d)
    const e = randomBytes(32)
    const k = Buffer.from(vectors.sm2_sign.k, 'hex')
    const expected = b.sm2SignDigest(d, e, k)
    const dCopy = Buffer.from(d)
    const eCopy = Buffer.from(e)
    const signing = b.sm2SignDigestAsync(dCopy, eCopy, k)
    dCopy.fill(0)
    eCopy.fill(0)
    t.same(await signing, expected, 'signature over the bytes given at the call')
    const pt = randomBytes(32)
    const ct = b.sm2Encrypt(point, pt)
    const ctCopy = Buffer.from(ct)
    const decrypting = b.sm2DecryptAsync(d, ctCopy)
    ctCopy.fill(0)
    t.same(await decrypting, pt, 'decryption of the bytes given at the call')
    const ptCopy = Buffer.from(pt)
    const encrypting = b.sm2EncryptRawAsync(point, ptCopy, k)
    ptCopy.fill(0)
    t.same(await encrypting, b.sm2EncryptRaw(point, pt, k), 'encryption of the bytes given at the call')
  })
}

// What one backend's async path produces, the other's (sync and async) accepts.
const pairs: Array<[SmBackend, SmBackend]> = []
for (const a of names) for (const c of names) if (a !== c || names.length === 1) pairs.push([smBackend(a), smBackend(c)])
for (const [a, c] of pairs) {
  t.test(`${a.name} async → ${c.name}`, async (t) => {
    for (let i = 0; i < 8; i++) {
      const d = a.sm2GeneratePrivate()
      const point = a.sm2PublicFromPrivate(d)
      const msg = randomBytes(randomInt(0, 300))
      const sig = await a.sm2SignAsync({ d, point }, msg)
      t.equal(c.sm2Verify(point, msg, sig), true, 'verifies (sync)')
      t.equal(await c.sm2VerifyAsync(point, msg, sig), true, 'verifies (async)')
      const pt = randomBytes(randomInt(1, 200))
      const ct = await a.sm2EncryptAsync(point, pt)
      t.same(c.sm2Decrypt(d, ct), pt, 'decrypts (sync)')
      t.same(await c.sm2DecryptAsync(d, ct), pt, 'decrypts (async)')
    }
  })
}

t.test('the key objects: signAsync / verifyAsync / encryptAsync / decryptAsync on every backend', async (t) => {
  const key = Sm2PrivateKey.generate()
  const msg = Buffer.from('{"type":"tax.assessment.request"}')
  for (const name of names) {
    const backend = smBackend(name)
    const sig = await key.signAsync(msg, { backend })
    t.equal(key.publicKey.verify(msg, sig, { backend }), true, `${name}: signAsync → verify`)
    t.equal(await key.publicKey.verifyAsync(msg, key.sign(msg, { backend }), { backend }), true, `${name}: sign → verifyAsync`)
    t.equal(await key.publicKey.verifyAsync(msg, sig, { backend, id: 'another-user-id' }), false, `${name}: not under another user ID`)
    const idSig = await key.signAsync(msg, { backend, id: 'REG:231202' })
    t.equal(key.publicKey.verify(msg, idSig, { backend, id: 'REG:231202' }), true, `${name}: with a user ID`)
    const ct = await key.publicKey.encryptAsync(msg, { backend })
    t.same(key.decrypt(ct, { backend }), msg, `${name}: encryptAsync → decrypt`)
    t.same(await key.decryptAsync(key.publicKey.encrypt(msg, { backend }), { backend }), msg, `${name}: encrypt → decryptAsync`)
    await t.rejects(Sm2PrivateKey.generate().decryptAsync(ct, { backend }), { code: 'ERR_SM_DECRYPT' }, `${name}: another key`)
  }
})
