import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual, type Hash } from 'node:crypto'
import { TongbanError } from '../errors.ts'
import { decryptJweWithAny, encryptJwe, parseJweHeader, suiteOf, type JoseHeader } from './jose.ts'
import type { PrivateKey, PublicKey } from './keys.ts'
import { sm2JweTag, SM2_JWE_ENC } from './national/jwe.ts'
import { sm } from './sm/index.ts'

/**
 * The attachment stream (申请材料, docs/protocol.md "Attachments"): a file encrypted to one
 * party in records of at most 256 KiB, so that neither end ever holds it whole.
 *
 *   "TBA1" ‖ u32 n ‖ key JWE (n ASCII bytes) ‖ record* ;  record = u8 last ‖ u32 len ‖ iv ‖ ciphertext ‖ tag
 *
 * The key JWE (cty tongban+attachment-key) is a compact JWE to the reader's encryption key whose
 * plaintext is the key header: `{ k, digestAlg, digest, size, mediaType[, id] }`, `k` a fresh
 * 32-byte content key (base64url). Each record is sealed with the JWE's own `enc` under `k`:
 * A256GCM (iv 12) or SM4-CBC-HMAC-SM3 (iv 16, RFC 7518 §5.2.2 with SM4 and HMAC-SM3, key
 * MAC(16) ‖ ENC(16)), with associated data "TBA1" ‖ u32 index ‖ u8 last. The index and the last
 * flag bound into each record make reordering, dropping and truncation detectable. Every record
 * but the last carries exactly RECORD_BYTES of plaintext.
 */
export const ATTACHMENT_MAGIC = Buffer.from('TBA1', 'ascii')
export const CTY_ATTACHMENT_KEY = 'tongban+attachment-key'
/** Plaintext bytes of every record but the last. */
export const RECORD_BYTES = 262_144
/** The most a record adds to its plaintext (SM4-CBC: iv 16, padding up to 16, tag 16). */
export const RECORD_OVERHEAD = 48
/** The longest key JWE accepted (an RSA-4096 wrap with a long header is far below). */
export const MAX_KEY_JWE = 8_192

type ChunkEnc = 'A256GCM' | typeof SM2_JWE_ENC

function aad(index: number, last: boolean): Buffer {
  const b = Buffer.alloc(9)
  ATTACHMENT_MAGIC.copy(b, 0)
  b.writeUInt32BE(index, 4)
  b[8] = last ? 1 : 0
  return b
}

function sealRecord(enc: ChunkEnc, cek: Buffer, index: number, last: boolean, plaintext: Uint8Array): Buffer {
  const a = aad(index, last)
  if (enc === 'A256GCM') {
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', cek, iv)
    c.setAAD(a)
    const ct = Buffer.concat([c.update(plaintext), c.final()])
    return Buffer.concat([iv, ct, c.getAuthTag()])
  }
  const backend = sm()
  const iv = randomBytes(16)
  const ct = backend.sm4CbcEncrypt(cek.subarray(16), iv, plaintext)
  return Buffer.concat([iv, ct, sm2JweTag(cek.subarray(0, 16), a, iv, ct, backend)])
}

function openRecord(enc: ChunkEnc, cek: Buffer, index: number, last: boolean, record: Buffer): Buffer {
  const fail = (): TongbanError => new TongbanError('TB_ERR_DECRYPT', `attachment record ${index} could not be decrypted`, { detail: { record: index } })
  const a = aad(index, last)
  if (enc === 'A256GCM') {
    if (record.length < 28) throw fail()
    try {
      const d = createDecipheriv('aes-256-gcm', cek, record.subarray(0, 12))
      d.setAAD(a)
      d.setAuthTag(record.subarray(record.length - 16))
      return Buffer.concat([d.update(record.subarray(12, record.length - 16)), d.final()])
    } catch {
      throw fail()
    }
  }
  if (record.length < 48 || (record.length - 32) % 16 !== 0) throw fail()
  const backend = sm()
  const iv = record.subarray(0, 16)
  const ct = record.subarray(16, record.length - 16)
  const expected = sm2JweTag(cek.subarray(0, 16), a, iv, ct, backend)
  if (!timingSafeEqual(expected, record.subarray(record.length - 16))) throw fail()
  try {
    return backend.sm4CbcDecrypt(cek.subarray(16), iv, ct)
  } catch {
    throw fail()
  }
}

function frame(last: boolean, record: Buffer): Buffer {
  const h = Buffer.alloc(5)
  h[0] = last ? 1 : 0
  h.writeUInt32BE(record.length, 1)
  return Buffer.concat([h, record])
}

/** A streaming digest in the named algorithm (SM3 or SHA-256), hex at the end. */
export function newDigest(alg: 'SM3' | 'SHA-256'): Hash {
  return createHash(alg === 'SM3' ? 'sm3' : 'sha256')
}

/**
 * Writes an attachment stream to `reader`: `header()` first (magic and key JWE), then `record()`
 * for each piece of plaintext in order, RECORD_BYTES each but the last (`last` true). `meta` is
 * the rest of the key header (digest, size, media type, …), which the writer has to know first.
 */
export class AttachmentWriter {
  readonly #cek = randomBytes(32)
  #enc: ChunkEnc | undefined
  #index = 0
  #done = false

  async header(reader: PublicKey, meta: Readonly<Record<string, unknown>>): Promise<Buffer> {
    const plaintext = Buffer.from(JSON.stringify({ ...meta, k: this.#cek.toString('base64url') }), 'utf8')
    const jwe = await encryptJwe(plaintext, reader, { cty: CTY_ATTACHMENT_KEY })
    this.#enc = reader.suite === 'national' ? SM2_JWE_ENC : 'A256GCM'
    const n = Buffer.alloc(4)
    n.writeUInt32BE(jwe.length)
    return Buffer.concat([ATTACHMENT_MAGIC, n, Buffer.from(jwe, 'ascii')])
  }

  record(plaintext: Uint8Array, last: boolean): Buffer {
    if (this.#enc === undefined || this.#done) throw new Error('header first, and nothing after the last record')
    if (plaintext.length > RECORD_BYTES || (!last && plaintext.length !== RECORD_BYTES)) throw new Error(`every record but the last carries ${RECORD_BYTES} bytes`)
    const out = frame(last, sealRecord(this.#enc, this.#cek, this.#index++, last, plaintext))
    if (last) {
      this.#done = true
      this.#cek.fill(0)
    }
    return out
  }
}

/** What an attachment stream's reader gets out of it. */
export type AttachmentPart =
  | { readonly kind: 'header'; readonly header: unknown }
  | { readonly kind: 'record'; readonly index: number; readonly last: boolean; readonly plaintext: Buffer }

function malformed(message: string): TongbanError {
  return new TongbanError('TB_ERR_ATTACHMENT_MALFORMED', message)
}

/** Reads exactly what is asked of a byte stream, holding no more than one piece and what it asked. */
class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>
  #buf: Buffer = Buffer.alloc(0)
  #ended = false

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]()
  }

  /** `n` bytes, or undefined at a clean end of the stream (nothing buffered); a short read is malformed. */
  async take(n: number, what: string): Promise<Buffer | undefined> {
    const parts: Buffer[] = []
    let have = 0
    while (have < n) {
      if (this.#buf.length === 0) {
        if (this.#ended) break
        const next = await this.#it.next()
        if (next.done === true) {
          this.#ended = true
          break
        }
        this.#buf = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
        continue
      }
      const piece = this.#buf.subarray(0, n - have)
      this.#buf = this.#buf.subarray(piece.length)
      parts.push(piece)
      have += piece.length
    }
    if (have === 0 && n > 0) return undefined
    if (have < n) throw malformed(`the stream ends inside ${what}`)
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n)
  }
}

/** How to read an attachment stream: the reader's decryption keys for a key JWE's header, and a strict reading of the key header's JSON. */
export interface AttachmentReading {
  readonly keys: (header: JoseHeader) => readonly PrivateKey[]
  readonly parseHeader: (plaintext: Buffer) => Record<string, unknown>
}

/**
 * Reads an attachment stream with the reader's decryption key: first the key header
 * (parsed JSON, whose `k` stays here; the caller checks the rest), then each record's plaintext in
 * order, checked. Stops with TB_ERR_ATTACHMENT_MALFORMED on bad framing (a record longer than
 * RECORD_BYTES allows, one but the last of another plaintext size, anything after the last record,
 * no last record) and TB_ERR_DECRYPT on a record that does not authenticate. `parseHeader` reads
 * the key header's JSON (strictly) and returns it; its `k` must be 32 bytes of base64url.
 */
export async function* readAttachment(source: AsyncIterable<Uint8Array>, opts: AttachmentReading): AsyncGenerator<AttachmentPart> {
  const r = new ByteReader(source)
  const magic = await r.take(4, 'the magic')
  if (magic === undefined || !magic.equals(ATTACHMENT_MAGIC)) throw malformed('an attachment stream starts with "TBA1"')
  const n = (await r.take(4, 'the key JWE\'s length'))?.readUInt32BE(0) ?? 0
  if (n === 0 || n > MAX_KEY_JWE) throw malformed(`the key JWE is 1 to ${MAX_KEY_JWE} bytes`)
  const jwe = ((await r.take(n, 'the key JWE')) as Buffer).toString('latin1')
  const jweHeader = parseJweHeader(jwe)
  // alg and enc of one of the two suites (TB_ERR_ALG_UNSUPPORTED otherwise).
  suiteOf(jweHeader)
  if (jweHeader.cty !== CTY_ATTACHMENT_KEY) throw new TongbanError('TB_ERR_JOSE_MALFORMED', `the key JWE's cty must be "${CTY_ATTACHMENT_KEY}"`)
  const opened = await decryptJweWithAny(jwe, opts.keys(jweHeader), 'the key JWE is not encrypted to a key of the reader')
  const { plaintext } = opened
  const enc = opened.header.enc as ChunkEnc
  let cek: Buffer | undefined
  try {
    const parsed = opts.parseHeader(plaintext)
    const k = typeof parsed.k === 'string' && /^[A-Za-z0-9_-]{43}$/.test(parsed.k) ? Buffer.from(parsed.k, 'base64url') : undefined
    if (k?.length !== 32) throw new TongbanError('TB_ERR_SCHEMA', 'the key header\'s k is 32 bytes, base64url', { violations: [{ pointer: '/k', rule: 'pattern', message: 'must be 32 bytes, base64url without padding' }] })
    cek = k
    const { k: _k, ...rest } = parsed
    yield { kind: 'header', header: rest }
    for (let index = 0; ; index++) {
      const head = await r.take(5, `record ${index}'s frame`)
      if (head === undefined) throw malformed('the stream ends before its last record')
      const flag = head[0]
      if (flag !== 0 && flag !== 1) throw malformed(`record ${index}: the flag is 0 (more) or 1 (last)`)
      const len = head.readUInt32BE(1)
      if (len > RECORD_BYTES + RECORD_OVERHEAD) throw malformed(`record ${index} is longer than ${RECORD_BYTES} bytes of plaintext allow`)
      const body = (await r.take(len, `record ${index}`)) ?? Buffer.alloc(0)
      const last = flag === 1
      const pt = openRecord(enc, cek, index, last, body)
      if (!last && pt.length !== RECORD_BYTES) throw malformed(`record ${index}: every record but the last carries ${RECORD_BYTES} bytes`)
      yield { kind: 'record', index, last, plaintext: pt }
      if (last) break
    }
    if ((await r.take(1, 'the end')) !== undefined) throw malformed('bytes after the last record')
  } finally {
    plaintext.fill(0)
    cek?.fill(0)
  }
}
