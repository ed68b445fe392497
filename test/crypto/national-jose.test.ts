// JOSE framing of the national suite (DESIGN §4): JWS SM2SM3 and JWE SM2 + SM4-CBC-HMAC-SM3, on
// every backend and across backends; the JWE byte layout re-derived here with node:crypto; every
// tampered part refused with the one code TB_ERR_DECRYPT and the same message (no oracle).
import t from 'tap'
import { createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { Sm2PrivateKey, availableSmBackends, smBackendInfo, useSmBackend, type SmBackendName } from '../../src/crypto/sm/index.ts'
import { decryptSm2Jwe, encryptSm2Jwe, signSm2Jws, sm2JweTag, verifySm2Signature } from '../../src/crypto/national/index.ts'
import { PrivateKey, decryptJwe, encryptJwe, parseJws, signJws, verifyJws } from '../../src/crypto/index.ts'
import { TongbanError } from '../../src/errors.ts'
import { sameBytesOtherText } from '../helpers/base64url.ts'

const initial = smBackendInfo().backend
t.teardown(() => void useSmBackend(initial))
const names = availableSmBackends()
const JWE_HEADER = { alg: 'SM2', enc: 'SM4-CBC-HMAC-SM3', kid: 'TAX:231202#enc-sm2', cty: 'tongban+jws' }
const DECRYPT = { code: 'TB_ERR_DECRYPT' }
const payload = Buffer.from(JSON.stringify({ id: '0193-test', type: 'tax.assessment.request', from: 'REG:231202', body: { 纳税人: '张三' } }))

// Awaits before switching back: the SM2 work of the async operations completes later.
async function on<T>(name: SmBackendName, fn: () => T | Promise<T>): Promise<T> {
  useSmBackend(name)
  try {
    return await fn()
  } finally {
    useSmBackend(initial)
  }
}

function setPart(compact: string, i: number, value: Buffer | string): string {
  const parts = compact.split('.')
  parts[i] = typeof value === 'string' ? value : value.toString('base64url')
  return parts.join('.')
}

function part(compact: string, i: number): Buffer {
  return Buffer.from(compact.split('.')[i] as string, 'base64url')
}

function flip(b: Buffer, i: number): Buffer {
  const c = Buffer.from(b)
  c[i] = (c[i] as number) ^ 1
  return c
}

async function errorOf(p: Promise<unknown>): Promise<TongbanError> {
  try {
    await p
  } catch (err) {
    if (err instanceof TongbanError) return err
    throw err
  }
  throw new Error('did not throw')
}

t.test('JWS SM2SM3: layout, and every backend verifies every backend', async (t) => {
  const key = Sm2PrivateKey.generate()
  for (const signer of names) {
    const jws = await on(signer, () => signSm2Jws({ alg: 'SM2SM3', kid: 'REG:231202#sign-sm2', typ: 'tongban+jws' }, payload, key))
    const [h, p, s] = jws.split('.') as [string, string, string]
    t.same(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'SM2SM3', kid: 'REG:231202#sign-sm2', typ: 'tongban+jws' }, 'header as given')
    t.same(Buffer.from(p, 'base64url'), payload, 'payload base64url')
    t.equal(Buffer.from(s, 'base64url').length, 64, 'signature is r‖s, 64 bytes')
    t.notMatch(jws, /[=+/]/, 'no padding, URL alphabet')
    const input = Buffer.from(`${h}.${p}`, 'ascii')
    for (const verifier of names) {
      await on(verifier, async () => {
        t.equal(await verifySm2Signature(input, Buffer.from(s, 'base64url'), key.publicKey), true, `${signer} → ${verifier}`)
        t.equal(key.publicKey.verify(input, Buffer.from(s, 'base64url'), { id: '1234567812345678' }), true, 'signed with the default user ID')
      })
    }
    t.equal(await verifySm2Signature(Buffer.from(`${h}.${p}x`), Buffer.from(s, 'base64url'), key.publicKey), false, 'changed signing input')
    t.equal(await verifySm2Signature(input, flip(Buffer.from(s, 'base64url'), 0), key.publicKey), false, 'changed signature')
    t.equal(await verifySm2Signature(input, Buffer.from(s, 'base64url').subarray(1), key.publicKey), false, '63-byte signature')
    t.equal(await verifySm2Signature(input, Buffer.from(s, 'base64url'), Sm2PrivateKey.generate().publicKey), false, 'another key')
  }
})

t.test('JWE layout is exactly DESIGN §4 (re-derived with node:crypto)', async (t) => {
  const key = Sm2PrivateKey.generate()
  const jwe = await encryptSm2Jwe(payload, JWE_HEADER, key.publicKey)
  const parts = jwe.split('.')
  t.equal(parts.length, 5)
  t.same(JSON.parse(part(jwe, 0).toString()), JWE_HEADER, 'protected header as given')
  const cek = key.decrypt(part(jwe, 1))
  t.equal(cek.length, 32, 'the encrypted key is an SM2 ciphertext (C1‖C3‖C2) of 32 bytes')
  t.equal(part(jwe, 1).length, 65 + 32 + 32, 'C1 (65) + C3 (32) + C2 (32)')
  t.equal(part(jwe, 1)[0], 4, 'C1 uncompressed')
  const iv = part(jwe, 2)
  const ct = part(jwe, 3)
  const tag = part(jwe, 4)
  t.equal(iv.length, 16)
  t.equal(tag.length, 16)
  const aad = Buffer.from(parts[0] as string, 'ascii')
  const al = Buffer.alloc(8)
  al.writeBigUInt64BE(BigInt(aad.length * 8))
  const mac = createHmac('sm3', cek.subarray(0, 16)).update(Buffer.concat([aad, iv, ct, al])).digest().subarray(0, 16)
  t.same(tag, mac, 'tag = first 16 bytes of HMAC-SM3(MAC_KEY = cek[0..16], AAD ‖ IV ‖ C ‖ AL)')
  t.same(sm2JweTag(cek.subarray(0, 16), aad, iv, ct), mac)
  const d = createDecipheriv('sm4-cbc', cek.subarray(16), iv)
  t.same(Buffer.concat([d.update(ct), d.final()]), payload, 'C = SM4-CBC(ENC_KEY = cek[16..32], IV, PKCS#7(P))')
})

t.test('JWE round trip on every backend and across backends', async (t) => {
  const key = Sm2PrivateKey.generate()
  for (const enc of names) {
    for (const dec of names) {
      for (const size of [0, 1, 16, 1000]) {
        const pt = randomBytes(size)
        const jwe = await on(enc, () => encryptSm2Jwe(pt, JWE_HEADER, key.publicKey))
        const out = await on(dec, () => decryptSm2Jwe(jwe, key))
        t.same(out.plaintext, pt, `${enc} → ${dec}, ${size} bytes`)
        t.same(out.header, JWE_HEADER)
      }
    }
  }
})

for (const name of names) {
  t.test(`${name}: every tampered JWE is refused with TB_ERR_DECRYPT`, async (t) => {
    useSmBackend(name)
    t.teardown(() => void useSmBackend(initial))
    const key = Sm2PrivateKey.generate()
    const jwe = await encryptSm2Jwe(payload, JWE_HEADER, key.publicKey)
    t.same((await decryptSm2Jwe(jwe, key)).plaintext, payload, 'untouched: decrypts')
    const header = Buffer.from(JSON.stringify({ ...JWE_HEADER, kid: 'TAX:231202#enc-sm3' }))
    await t.rejects(decryptSm2Jwe(setPart(jwe, 0, header), key), DECRYPT, 'header changed (it is the AAD)')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 0, Buffer.from(JSON.stringify(JWE_HEADER, null, 1))), key), DECRYPT, 'same header, other bytes (whitespace)')
    for (const i of [3, 70, 100, 128]) await t.rejects(decryptSm2Jwe(setPart(jwe, 1, flip(part(jwe, 1), i)), key), DECRYPT, `encrypted key byte ${i} changed`)
    await t.rejects(decryptSm2Jwe(setPart(jwe, 1, part(jwe, 1).subarray(0, 128)), key), DECRYPT, 'encrypted key truncated')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 2, flip(part(jwe, 2), 0)), key), DECRYPT, 'IV changed')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 2, part(jwe, 2).subarray(1)), key), DECRYPT, 'IV of 15 bytes')
    for (const i of [0, part(jwe, 3).length - 1]) await t.rejects(decryptSm2Jwe(setPart(jwe, 3, flip(part(jwe, 3), i)), key), DECRYPT, `ciphertext byte ${i} changed`)
    await t.rejects(decryptSm2Jwe(setPart(jwe, 3, part(jwe, 3).subarray(16)), key), DECRYPT, 'first ciphertext block removed')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 3, ''), key), DECRYPT, 'ciphertext empty')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 4, flip(part(jwe, 4), 15)), key), DECRYPT, 'tag changed')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 4, part(jwe, 4).subarray(0, 15)), key), DECRYPT, 'tag truncated')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 4, Buffer.concat([part(jwe, 4), part(jwe, 4)])), key), DECRYPT, 'full 32-byte HMAC as tag')
    await t.rejects(decryptSm2Jwe(jwe, Sm2PrivateKey.generate()), DECRYPT, 'another key')
    await t.rejects(decryptSm2Jwe(`${jwe}.x`, key), DECRYPT, 'six parts')
    await t.rejects(decryptSm2Jwe(jwe.replace('.', '.+'), key), DECRYPT, 'not base64url')
    // The tag's 16 bytes in 22 characters leave 4 spare bits: the same tag written another way.
    const parts = jwe.split('.')
    await t.rejects(decryptSm2Jwe([...parts.slice(0, 4), sameBytesOtherText(parts[4] as string)].join('.'), key), DECRYPT, 'not canonical base64url (a bit set after the last byte)')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 0, Buffer.from('[1]')), key), DECRYPT, 'header not an object')
    await t.rejects(decryptSm2Jwe(setPart(jwe, 0, Buffer.from(JSON.stringify({ ...JWE_HEADER, enc: 'A256GCM' }))), key), { code: 'TB_ERR_ALG_UNSUPPORTED' }, 'enc not SM4-CBC-HMAC-SM3')
  })

  t.test(`${name}: a bad tag and bad padding under a valid tag fail alike (no padding oracle)`, async (t) => {
    useSmBackend(name)
    t.teardown(() => void useSmBackend(initial))
    const key = Sm2PrivateKey.generate()
    const jwe = await encryptSm2Jwe(payload, JWE_HEADER, key.publicKey)
    // Forge a ciphertext whose last block has bad padding and give it a VALID tag (we know the CEK here).
    const cek = key.decrypt(part(jwe, 1))
    const iv = part(jwe, 2)
    const bad = flip(part(jwe, 3), part(jwe, 3).length - 17) // changes the last plaintext byte: padding breaks
    const aad = Buffer.from(jwe.split('.')[0] as string, 'ascii')
    const forged = setPart(setPart(jwe, 3, bad), 4, sm2JweTag(cek.subarray(0, 16), aad, iv, bad))
    const padding = await errorOf(decryptSm2Jwe(forged, key))
    const tag = await errorOf(decryptSm2Jwe(setPart(jwe, 4, flip(part(jwe, 4), 0)), key))
    const unwrap = await errorOf(decryptSm2Jwe(setPart(jwe, 1, flip(part(jwe, 1), 90)), key))
    t.equal(padding.code, 'TB_ERR_DECRYPT', 'bad padding under a valid tag')
    t.equal(tag.code, 'TB_ERR_DECRYPT', 'bad tag')
    t.equal(padding.message, tag.message, 'same message for padding and tag failures')
    t.equal(unwrap.message, tag.message, 'same message for key-unwrap and tag failures')
  })
}

t.test("through the crypto room's public API: sign, then encrypt; decrypt, then verify", async (t) => {
  const sender = PrivateKey.generate('REG:231202#sign-sm2', 'sm2').privateKey
  const recipient = PrivateKey.generate('TAX:231202#enc-sm2', 'sm2').privateKey
  t.equal(sender.jwsAlg, 'SM2SM3')
  t.equal(recipient.publicKey.jweAlg, 'SM2')
  const jws = await signJws(payload, sender, { typ: 'tongban+jws' })
  const jwe = await encryptJwe(Buffer.from(jws), recipient.publicKey, { cty: 'tongban+jws' })
  const { plaintext, header } = await decryptJwe(jwe, recipient)
  t.equal(header.alg, 'SM2')
  t.equal(header.enc, 'SM4-CBC-HMAC-SM3')
  t.equal(header.kid, 'TAX:231202#enc-sm2')
  const parsed = parseJws(plaintext.toString('ascii'))
  t.equal(parsed.header.alg, 'SM2SM3')
  t.equal(parsed.header.kid, 'REG:231202#sign-sm2')
  t.equal(await verifyJws(parsed, sender.publicKey), true)
  t.same(parsed.payload, payload)
  t.equal(await verifyJws(parseJws(setPart(jws, 2, flip(part(jws, 2), 10))), sender.publicKey), false, 'changed signature')
  t.equal(await verifyJws(parsed, recipient.publicKey), false, 'another key')
  await t.rejects(decryptJwe(setPart(jwe, 4, flip(part(jwe, 4), 3)), recipient), DECRYPT, 'changed tag')
  await t.rejects(decryptJwe(jwe, PrivateKey.generate('other', 'sm2').privateKey), DECRYPT, 'another key')
})
