import { createReadStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import { AttachmentWriter, newDigest, readAttachment, RECORD_BYTES, type PrivateKey, type PublicKey } from '../crypto/index.ts'
import { ATTACHMENT_TYPE, type AttachmentRef } from '../core/envelope.ts'
import { refused, TongbanClientError } from './errors.ts'

/** A file to upload: its bytes, or a way to read them (twice at most: the digest first, unless given). */
export type AttachmentSource = Uint8Array | { readonly path: string } | { readonly open: () => AsyncIterable<Uint8Array>; readonly size: number; readonly digest: string }

/** What the SDK needs of the client to move attachments. */
export interface AttachmentTransport {
  readonly baseUrl: string
  readonly dispatcher: Dispatcher
  readonly token: () => Promise<string>
  readonly digestAlg: 'SM3' | 'SHA-256'
  readonly gatewayKey: () => Promise<PublicKey>
  readonly decryptionKey: PrivateKey | undefined
}

/** Cuts a byte stream into pieces of exactly `size` bytes (the last one shorter, possibly empty). */
async function* pieces(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<{ bytes: Buffer; last: boolean }> {
  let held: Buffer[] = []
  let have = 0
  let ready: Buffer | undefined
  for await (const chunk of source) {
    let c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    while (c.length > 0) {
      const take = Math.min(size - have, c.length)
      held.push(c.subarray(0, take))
      have += take
      c = c.subarray(take)
      if (have === size) {
        // Held back one piece: only the end of the stream says which is the last.
        if (ready !== undefined) yield { bytes: ready, last: false }
        ready = Buffer.concat(held, size)
        held = []
        have = 0
      }
    }
  }
  if (have > 0) {
    if (ready !== undefined) yield { bytes: ready, last: false }
    yield { bytes: Buffer.concat(held, have), last: true }
  } else {
    yield { bytes: ready ?? Buffer.alloc(0), last: true }
  }
}

async function* fromBytes(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += RECORD_BYTES) yield bytes.subarray(i, i + RECORD_BYTES)
}

/** Size and digest of a source, reading it once when they are not given. */
async function measure(source: AttachmentSource, alg: 'SM3' | 'SHA-256'): Promise<{ open: () => AsyncIterable<Uint8Array>; size: number; digest: string }> {
  if ('open' in source) return source
  const open = source instanceof Uint8Array ? () => fromBytes(source) : () => createReadStream(source.path, { highWaterMark: 1 << 20 })
  const h = newDigest(alg)
  let size = 0
  for await (const c of open()) {
    h.update(c)
    size += c.length
  }
  return { open, size, digest: h.digest('hex') }
}

/**
 * Uploads a file (POST /v1/attachments) as a stream encrypted to the gateway, one record of 256 KiB
 * at a time: never the whole file in memory. Returns the reference to name it by in a message's
 * `attachments` (the gateway's answer, checked against what was sent).
 */
export async function uploadAttachment(t: AttachmentTransport, source: AttachmentSource, mediaType: string): Promise<AttachmentRef> {
  const m = await measure(source, t.digestAlg)
  const writer = new AttachmentWriter()
  const head = await writer.header(await t.gatewayKey(), { digestAlg: t.digestAlg, digest: m.digest, size: m.size, mediaType })
  async function* body(): AsyncGenerator<Buffer> {
    yield head
    for await (const p of pieces(m.open(), RECORD_BYTES)) yield writer.record(p.bytes, p.last)
  }
  const res = await request(new URL('/v1/attachments', t.baseUrl), {
    method: 'POST', dispatcher: t.dispatcher, body: Readable.from(body()),
    headers: { 'content-type': ATTACHMENT_TYPE, authorization: `Bearer ${await t.token()}` },
  })
  const text = await res.body.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = undefined }
  if (res.statusCode !== 201) throw refused('attachment upload', { status: res.statusCode, json })
  const ref = json as AttachmentRef
  if (ref.digest !== m.digest || ref.size !== m.size || ref.digestAlg !== t.digestAlg || ref.mediaType !== mediaType) {
    throw new TongbanClientError('TB_CLIENT_ATTACHMENT_INVALID', 'the gateway answered for another file than the one uploaded')
  }
  return { id: ref.id, digestAlg: ref.digestAlg, digest: ref.digest, mediaType: ref.mediaType, size: ref.size }
}

/**
 * Fetches an attachment a message names (GET /v1/attachments/:id) and yields its bytes as they
 * arrive, each record authenticated. The whole file is checked against `ref` — the signed
 * envelope's entry, so the sender's word, not the gateway's — at the end: treat the bytes as
 * unverified until the iteration ends without TB_CLIENT_ATTACHMENT_INVALID (saveAttachment does).
 */
export async function* downloadAttachment(t: AttachmentTransport, ref: AttachmentRef): AsyncGenerator<Buffer> {
  const key = t.decryptionKey
  if (key === undefined) throw new TongbanClientError('TB_CLIENT_CONFIG', 'an encryptionKey is needed to read attachments')
  const res = await request(new URL(`/v1/attachments/${encodeURIComponent(ref.id)}`, t.baseUrl), {
    method: 'GET', dispatcher: t.dispatcher, headers: { authorization: `Bearer ${await t.token()}` },
  })
  if (res.statusCode !== 200) {
    let json: unknown
    try { json = JSON.parse(await res.body.text()) } catch { json = undefined }
    throw refused('attachment download', { status: res.statusCode, json })
  }
  const invalid = (why: string): TongbanClientError => new TongbanClientError('TB_CLIENT_ATTACHMENT_INVALID', `attachment ${ref.id}: ${why}`)
  const h = newDigest(ref.digestAlg)
  let size = 0
  try {
    for await (const part of readAttachment(res.body, { keys: () => [key], parseHeader: (b) => JSON.parse(b.toString('utf8')) as Record<string, unknown> })) {
      if (part.kind === 'header') {
        const head = part.header as Partial<AttachmentRef>
        if (head.id !== ref.id || head.digest !== ref.digest || head.digestAlg !== ref.digestAlg || head.size !== ref.size || head.mediaType !== ref.mediaType) throw invalid('the gateway sent another file than the message names')
        continue
      }
      size += part.plaintext.length
      if (size > ref.size) throw invalid('longer than the message says')
      h.update(part.plaintext)
      yield part.plaintext
    }
  } catch (err) {
    if (err instanceof TongbanClientError) throw err
    throw new TongbanClientError('TB_CLIENT_ATTACHMENT_INVALID', `attachment ${ref.id}: ${(err as Error).message}`, { cause: err })
  } finally {
    // Stopped early (a bad file, or the caller stopped reading): drop the connection, not read the rest.
    if (!res.body.readableEnded) res.body.destroy()
  }
  if (size !== ref.size || h.digest('hex') !== ref.digest) throw invalid('its digest is not the one the message names')
}

/** Downloads an attachment to `path`: written beside it first, and moved there only once it is verified whole. */
export async function saveAttachment(t: AttachmentTransport, ref: AttachmentRef, path: string): Promise<void> {
  const partial = `${path}.partial`
  const out = createWriteStream(partial)
  try {
    for await (const bytes of downloadAttachment(t, ref)) {
      if (!out.write(bytes)) await once(out, 'drain')
    }
    out.end()
    await once(out, 'finish')
    await rename(partial, path)
  } catch (err) {
    out.destroy()
    await rm(partial, { force: true })
    throw err
  }
}
