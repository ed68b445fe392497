import t from 'tap'
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { AttachmentWriter, decryptJwe, readAttachment, RECORD_BYTES, PrivateKey, type AttachmentPart } from '../../src/crypto/index.ts'
import { TongbanError } from '../../src/errors.ts'

// The attachment stream (docs/protocol.md "Attachments"): written and read back in both suites at
// the sizes that matter, every framing fault refused with its code, and any single changed byte
// refused with a 4xx code, never read as other content and never a crash.
const KEYS = {
  national: PrivateKey.generate('GW#enc-sm2', 'sm2').privateKey,
  international: PrivateKey.generate('GW#enc-rsa', 'rsa', { rsaBits: 2048 }).privateKey,
  'international (ECDH-ES)': PrivateKey.generate('GW#enc-ec', 'ec-p256').privateKey,
}
const parseHeader = (b: Buffer): Record<string, unknown> => JSON.parse(b.toString('utf8')) as Record<string, unknown>

async function write(key: PrivateKey, file: Buffer): Promise<Buffer[]> {
  const w = new AttachmentWriter()
  const out = [await w.header(key.publicKey, { digestAlg: 'SHA-256', digest: createHash('sha256').update(file).digest('hex'), size: file.length, mediaType: 'application/pdf' })]
  for (let i = 0; i === 0 || i < file.length; i += RECORD_BYTES) out.push(w.record(file.subarray(i, i + RECORD_BYTES), i + RECORD_BYTES >= file.length))
  return out
}

/** Reads a stream given as pieces of `piece` bytes (to cross every boundary); the parts, or the error. */
async function read(key: PrivateKey, stream: Buffer, piece = 7_777): Promise<{ parts: AttachmentPart[]; error?: unknown }> {
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < stream.length; i += piece) yield stream.subarray(i, i + piece)
  }
  const parts: AttachmentPart[] = []
  try {
    for await (const p of readAttachment(source(), { keys: () => [key], parseHeader })) parts.push(p)
    return { parts }
  } catch (error) {
    return { parts, error }
  }
}
const plaintextOf = (parts: AttachmentPart[]): Buffer => Buffer.concat(parts.flatMap((p) => (p.kind === 'record' ? [p.plaintext] : [])))
const codeOf = (e: unknown): string => (e instanceof TongbanError ? e.code : `not a TongbanError: ${String(e)}`)

for (const [name, key] of Object.entries(KEYS)) {
  t.test(`written and read back (${name})`, async (t) => {
    for (const size of [0, 1, RECORD_BYTES - 1, RECORD_BYTES, RECORD_BYTES + 1, 3 * RECORD_BYTES + 5]) {
      const file = randomBytes(size)
      const { parts, error } = await read(key, Buffer.concat(await write(key, file)))
      t.equal(error, undefined, `${size} bytes: read`)
      t.ok(plaintextOf(parts).equals(file), `${size} bytes: the same bytes`)
      const header = parts[0]
      t.same(header?.kind === 'header' ? Object.keys(header.header as object).sort() : [], ['digest', 'digestAlg', 'mediaType', 'size'], 'the header without its key')
      t.equal(parts.filter((p) => p.kind === 'record').length, Math.max(1, Math.ceil(size / RECORD_BYTES)))
    }
  })

  t.test(`framing faults are refused (${name})`, async (t) => {
    const file = randomBytes(RECORD_BYTES + 10)
    const [head, r0, r1] = (await write(key, file)) as [Buffer, Buffer, Buffer]
    const cases: Array<[string, Buffer, string]> = [
      ['another magic', Buffer.concat([Buffer.from('TBA2'), head.subarray(4), r0, r1]), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['empty', Buffer.alloc(0), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['a key JWE of 0 bytes', Buffer.from('TBA1\0\0\0\0'), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['a key JWE over 8192 bytes', Buffer.concat([Buffer.from('TBA1'), Buffer.from([0, 0, 0x20, 1])]), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['cut inside the key JWE', head.subarray(0, 40), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['no record', head, 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['no last record', Buffer.concat([head, r0]), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['cut inside a record', Buffer.concat([head, r0, r1.subarray(0, r1.length - 1)]), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['bytes after the last record', Buffer.concat([head, r0, r1, Buffer.from([0])]), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['a flag other than 0 or 1', Buffer.concat([head, Buffer.from([2]), r0.subarray(1), r1]), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['a record longer than allowed', Buffer.concat([head, Buffer.from([0, 0, 0x10, 0, 0])]), 'TB_ERR_ATTACHMENT_MALFORMED'],
      ['records swapped', Buffer.concat([head, r1, r0]), 'TB_ERR_DECRYPT'],
      ['the first record marked last', Buffer.concat([head, Buffer.from([1]), r0.subarray(1)]), 'TB_ERR_DECRYPT'],
      ['the last record marked not last', Buffer.concat([head, r0, Buffer.from([0]), r1.subarray(1)]), 'TB_ERR_DECRYPT'],
      ['a record dropped', Buffer.concat([head, r1]), 'TB_ERR_DECRYPT'],
    ]
    for (const [what, stream, code] of cases) t.equal(codeOf((await read(key, stream)).error), code, what)
    const other = Object.values(KEYS).find((k) => k !== key && k.publicKey.suite === key.publicKey.suite) ?? PrivateKey.generate('X#enc', key.publicKey.suite === 'national' ? 'sm2' : 'rsa', { rsaBits: 2048 }).privateKey
    t.equal(codeOf((await read(other, Buffer.concat([head, r0, r1]))).error), other.publicKey.jweAlg === key.publicKey.jweAlg ? 'TB_ERR_DECRYPT' : 'TB_ERR_ALG_UNSUPPORTED', 'another reader\'s key')
  })

  t.test(`any one changed byte is refused with a 4xx, never read as other content (${name})`, async (t) => {
    const file = randomBytes(RECORD_BYTES + 300)
    const stream = Buffer.concat(await write(key, file))
    const positions = [...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 160 }, () => Math.floor(Math.random() * stream.length))]
    let refused = 0
    for (const at of positions) {
      const bad = Buffer.from(stream)
      bad[at] = bad[at]! ^ (1 << Math.floor(Math.random() * 8))
      const { parts, error } = await read(key, bad, 65_536)
      const got = plaintextOf(parts)
      if (!file.subarray(0, got.length).equals(got)) t.fail(`byte ${at}: other content was read`)
      if (error === undefined) {
        t.fail(`byte ${at}: the changed stream was read whole`)
        continue
      }
      if (error instanceof TongbanError && error.status >= 400 && error.status < 500) refused++
      else t.fail(`byte ${at}: ${codeOf(error)}`)
    }
    t.equal(refused, positions.length, `${positions.length} streams with one byte changed, all refused with a 4xx`)
  })
}

t.test('an SM4-CBC-HMAC-SM3 record is what docs/protocol.md says, rebuilt with OpenSSL\'s SM4 and SM3', async (t) => {
  const key = KEYS.national
  const w = new AttachmentWriter()
  const head = await w.header(key.publicKey, { digestAlg: 'SM3', digest: '0'.repeat(64), size: 5, mediaType: 'text/plain' })
  const record = w.record(Buffer.from('hello'), true)
  // The content key, from the key header (read with the reader's key).
  const { parts } = await read(key, Buffer.concat([head, record]))
  t.ok(parts.length === 2)
  const jwe = head.subarray(8).toString('latin1')
  const k = Buffer.from((JSON.parse((await decryptJwe(jwe, key)).plaintext.toString('utf8')) as { k: string }).k, 'base64url')
  const body = record.subarray(5)
  const iv = body.subarray(0, 16)
  const c = createCipheriv('sm4-cbc', k.subarray(16), iv)
  const ciphertext = Buffer.concat([c.update('hello'), c.final()])
  const aad = Buffer.concat([Buffer.from('TBA1'), Buffer.from([0, 0, 0, 0, 1])])
  const al = Buffer.alloc(8)
  al.writeBigUInt64BE(BigInt(aad.length * 8))
  const tag = createHmac('sm3', k.subarray(0, 16)).update(Buffer.concat([aad, iv, ciphertext, al])).digest().subarray(0, 16)
  t.same([record[0], record.readUInt32BE(1)], [1, body.length], 'the frame: last, length')
  t.ok(body.equals(Buffer.concat([iv, ciphertext, tag])), 'iv ‖ SM4-CBC ciphertext ‖ HMAC-SM3 tag over AAD ‖ iv ‖ ciphertext ‖ AL')
})
