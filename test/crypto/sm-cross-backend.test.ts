// Native (OpenSSL) and JavaScript backends agree: what one signs the other verifies, what one
// encrypts the other decrypts, over random keys and messages. The two share no code below the
// backend interface, so agreement means both follow the standard.
import t from 'tap'
import { randomBytes, randomInt } from 'node:crypto'
import { availableSmBackends, smBackend, type SmBackend } from '../../src/crypto/sm/index.ts'

const names = availableSmBackends()
const ROUNDS = 12

if (names.length < 2) {
  t.comment(`only ${names.join(', ')} available here: cross-checks are against the same backend`)
}

const pairs: Array<[SmBackend, SmBackend]> = []
for (const a of names) for (const b of names) if (a !== b || names.length === 1) pairs.push([smBackend(a), smBackend(b)])

for (const [a, b] of pairs) {
  t.test(`${a.name} → ${b.name}`, async (t) => {
    for (let i = 0; i < ROUNDS; i++) {
      const d = a.sm2GeneratePrivate()
      const point = a.sm2PublicFromPrivate(d)
      t.same(b.sm2PublicFromPrivate(d), point, 'same public key from d')
      t.equal(b.sm2IsOnCurve(point), true, 'the point is on the curve for both')
      const msg = randomBytes(randomInt(0, 300))
      const id = i % 3 === 0 ? randomBytes(randomInt(1, 40)) : undefined
      const sig = a.sm2Sign({ d, point }, msg, id ? { id } : {})
      t.equal(b.sm2Verify(point, msg, sig, id ? { id } : {}), true, `${a.name} signature verifies on ${b.name}`)
      const pt = randomBytes(randomInt(1, 200))
      t.same(b.sm2Decrypt(d, a.sm2Encrypt(point, pt)), pt, `${a.name} ciphertext decrypts on ${b.name}`)
      t.same(b.sm3(msg), a.sm3(msg), 'SM3 agrees')
      const key = randomBytes(16)
      const iv = randomBytes(16)
      t.same(b.hmacSm3(key, msg), a.hmacSm3(key, msg), 'HMAC-SM3 agrees')
      const ct = a.sm4CbcEncrypt(key, iv, msg)
      t.same(b.sm4CbcEncrypt(key, iv, msg), ct, 'SM4-CBC agrees')
      t.same(b.sm4CbcDecrypt(key, iv, ct), msg, 'SM4-CBC decrypts across')
    }
  })
}

t.test('HMAC-SM3 keys longer than a block are hashed first (RFC 2104) on every backend', async (t) => {
  const key = randomBytes(100)
  const data = randomBytes(50)
  const results = names.map((n) => smBackend(n).hmacSm3(key, data))
  for (const r of results) t.same(r, results[0])
  const b = smBackend(names[0] as 'js')
  t.same(b.hmacSm3(key, data), b.hmacSm3(b.sm3(key), data), 'long key = SM3(key)')
})
