import t from 'tap'
import { SM2_A, SM2_B, SM2_DEFAULT_ID, SM2_GX, SM2_GY, toBytes } from '../../src/crypto/sm/curve.ts'
import { completeBackend, ZA_REMEMBERED } from '../../src/crypto/sm/backend.ts'
import { smBackend } from '../../src/crypto/sm/index.ts'
import { backendVariants } from './helpers/backends.ts'

// Z_A is remembered per (public key, ID) (src/crypto/sm/backend.ts). Each answer is compared with
// Z_A computed here from its definition (GB/T 32918.2 §5.5), with the backend's own SM3, for more
// pairs than are remembered, asked again after the oldest were forgotten.
const CURVE = Buffer.concat([toBytes(SM2_A), toBytes(SM2_B), toBytes(SM2_GX), toBytes(SM2_GY)])

for (const [name, b] of backendVariants()) {
  t.test(`${name}: Z_A remembered per key and ID, always the definition's`, async (t) => {
    const byDefinition = (point: Buffer, id: Buffer): Buffer =>
      b.sm3(Buffer.concat([Buffer.from([(id.length * 8) >> 8, (id.length * 8) & 0xff]), id, CURVE, point.subarray(1)]))
    const points = Array.from({ length: 4 }, () => b.sm2PublicFromPrivate(b.sm2GeneratePrivate()))
    // Bytes that are not UTF-8 too: an ID is bytes, and two of them must not share a Z_A because
    // they read alike as text.
    const ids = [SM2_DEFAULT_ID, Buffer.from('REG:231202'), Buffer.from('1234567812345678X'), Buffer.alloc(0), Buffer.from([0xff]), Buffer.from([0xfe]), Buffer.from([0x80, 0x00]), Buffer.from('登记中心')]
    const seen = new Set<string>()
    for (const p of points) {
      for (const id of ids) {
        const z = b.sm2Za(p, id)
        t.same(z, byDefinition(p, id))
        seen.add(z.toString('hex'))
      }
    }
    t.equal(seen.size, points.length * ids.length, 'each key and ID has its own Z_A')
    t.same(b.sm2Za(points[0]!), byDefinition(points[0]!, SM2_DEFAULT_ID), 'the default ID')
    t.same(b.sm2Za(points[0]!, '1234567812345678'), b.sm2Za(points[0]!), 'the ID given as text or left out: the same')

    // A caller that writes into the answer does not change what is remembered.
    const z = b.sm2Za(points[1]!, ids[1])
    z.fill(0)
    t.same(b.sm2Za(points[1]!, ids[1]), byDefinition(points[1]!, ids[1]!), 'the remembered Z_A is not the one handed out')

    // More pairs than are remembered (one key, IDs 0..N): the first ones, forgotten, come back right.
    let wrong = 0
    for (let i = 0; i <= ZA_REMEMBERED + 8; i++) {
      const id = Buffer.from(`id-${i}`)
      if (!b.sm2Za(points[2]!, id).equals(byDefinition(points[2]!, id))) wrong++
    }
    for (let i = 0; i < 16; i++) {
      const id = Buffer.from(`id-${i}`)
      if (!b.sm2Za(points[2]!, id).equals(byDefinition(points[2]!, id))) wrong++
    }
    t.equal(wrong, 0, `${ZA_REMEMBERED + 25} answers past the limit, each the definition's`)

    // A signature made and checked through the remembered Z_A, and one under another ID refused.
    const d = b.sm2GeneratePrivate()
    const key = { d, point: b.sm2PublicFromPrivate(d) }
    const msg = Buffer.from('tongban Z_A')
    const sig = await b.sm2SignAsync(key, msg, { id: 'TAX:231202' })
    t.ok(b.sm2Verify(key.point, msg, sig, { id: 'TAX:231202' }))
    t.ok(await b.sm2VerifyAsync(key.point, msg, sig, { id: 'TAX:231202' }))
    t.notOk(b.sm2Verify(key.point, msg, sig), 'under the default ID: refused')
    t.same(b.sm2Digest(key.point, msg, 'TAX:231202'), b.sm3(Buffer.concat([byDefinition(key.point, Buffer.from('TAX:231202')), msg])), 'e = SM3(Z_A ‖ M)')
    t.throws(() => b.sm2Za(Buffer.alloc(64, 4)), { code: 'ERR_SM_INPUT' }, 'a point that is not 04‖x‖y is refused')
  })
}

t.test('Z_A is hashed once per key and ID, and the oldest is forgotten first', async (t) => {
  // The JavaScript backend's primitives with SM3 counted: each Z_A computed is one SM3 call of
  // its own length (2 + ID + 128 + 64 bytes), which a signature's other SM3 call is not.
  const js = smBackend('js')
  let zaHashes = 0
  const counted = completeBackend({ ...js, sm3: (data: Uint8Array) => { if (data.length === 2 + 16 + 128 + 64) zaHashes++; return js.sm3(data) } }, 2)
  const [p1, p2, p3] = Array.from({ length: 3 }, () => js.sm2PublicFromPrivate(js.sm2GeneratePrivate()))
  counted.sm2Za(p1!)
  counted.sm2Digest(p1!, Buffer.from('m'))
  counted.sm2Verify(p1!, Buffer.from('m'), Buffer.alloc(64, 1))
  t.equal(zaHashes, 1, 'one key, three uses: hashed once')
  counted.sm2Za(p2!)
  counted.sm2Za(p3!)
  t.equal(zaHashes, 3)
  counted.sm2Za(p3!)
  counted.sm2Za(p2!)
  t.equal(zaHashes, 3, 'the two newest are remembered')
  counted.sm2Za(p1!)
  t.equal(zaHashes, 4, 'the oldest (the first key) was forgotten, and is hashed again')
})
