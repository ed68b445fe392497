import { TongbanError } from '../errors.ts'
import { AttachmentWriter, newDigest, readAttachment, type GatewayKeyring } from '../crypto/index.ts'
import { beginUpload, completeUpload, discardUpload, getAttachments, getRecord, putRecord, readableAttachment, type StoredAttachment } from '../store/attachments.ts'
import type { Db } from '../store/db.ts'
import type { Clock, IdSource } from '../util/ids.ts'
import type { Directory, Participant } from './directory.ts'
import type { AttachmentRef, Envelope } from './envelope.ts'
import type { ValidationResult } from './schemas.ts'
import { parseSignedJson } from './verify.ts'

/** The limits of config `attachments`. */
export interface AttachmentLimits {
  readonly maxBytes: number
  readonly maxMessageBytes: number
  readonly maxPerMessage: number
}

export interface AttachmentDeps {
  readonly db: Db
  readonly keyring: GatewayKeyring
  readonly directory: Directory
  readonly clock: Clock
  readonly ids: IdSource
  readonly limits: AttachmentLimits
  /** schemas/attachment-key.v1.json */
  readonly validateKey: (payload: unknown) => ValidationResult
}

/** An attachment as the gateway answers about it (and as a message names it). */
export type AttachmentInfo = AttachmentRef

/** What the sender declares in an upload's key header (validated against the schema). */
interface Declared {
  readonly digestAlg: 'SM3' | 'SHA-256'
  readonly digest: string
  readonly size: number
  readonly mediaType: string
  readonly id?: string
}

const mismatch = (pointer: string, message: string): TongbanError =>
  new TongbanError('TB_ERR_ATTACHMENT_MISMATCH', message, { violations: [{ pointer, rule: 'attachment', message }] })

/** Binds a stored record to its attachment and place (the store key's associated data). */
const recordAad = (id: string, seq: number): string => `attachment:${id}:${seq}`

const info = (a: StoredAttachment): AttachmentInfo => ({ id: a.id, digestAlg: a.digestAlg, digest: a.digest, mediaType: a.mediaType, size: a.size })

/**
 * Attachments (申请材料, docs/protocol.md "Attachments"): files uploaded once as an encrypted
 * stream, checked against their declared digest and size while they stream, stored once (sealed
 * records of 256 KiB in PostgreSQL), named by messages, and streamed to each reader encrypted to
 * its own key. No file is ever held whole in memory: one record at a time.
 */
export class AttachmentService {
  readonly #d: AttachmentDeps

  constructor(deps: AttachmentDeps) {
    this.#d = deps
  }

  /**
   * Reads an upload stream from `owner` and stores it. Refused, with nothing kept: bad framing
   * (TB_ERR_ATTACHMENT_MALFORMED), a key JWE the gateway cannot open, a key header off its schema
   * (TB_ERR_SCHEMA), a declared size over attachments.maxBytes (413), a record that does not
   * authenticate (TB_ERR_DECRYPT), or a file whose digest or size is not the declared one
   * (TB_ERR_ATTACHMENT_MISMATCH).
   */
  async upload(source: AsyncIterable<Uint8Array>, owner: Participant): Promise<AttachmentInfo> {
    const d = this.#d
    const id = d.ids.uuid7()
    const sealer = d.keyring.sealer()
    let declared: Declared | undefined
    let began = false
    let size = 0
    let seq = 0
    let digest: ReturnType<typeof newDigest> | undefined
    try {
      const parts = readAttachment(source, {
        keys: (h) => d.keyring.decrypters(h.kid, h.alg),
        parseHeader: (plaintext) => {
          const parsed = parseSignedJson(plaintext, 'attachment key header')
          const valid = d.validateKey(parsed)
          if (!valid.ok) throw new TongbanError('TB_ERR_SCHEMA', 'the attachment key header does not match its schema', { violations: valid.violations })
          return parsed as Record<string, unknown>
        },
      })
      for await (const part of parts) {
        if (part.kind === 'header') {
          declared = part.header as Declared
          if (declared.id !== undefined) throw new TongbanError('TB_ERR_SCHEMA', 'an upload has no id: the gateway gives it one', { violations: [{ pointer: '/id', rule: 'upload', message: 'set by the gateway, not by the uploader' }] })
          if (declared.size > d.limits.maxBytes) throw new TongbanError('TB_ERR_BODY_TOO_LARGE', `an attachment is at most ${d.limits.maxBytes} bytes (attachments.maxBytes)`, { detail: { limit: d.limits.maxBytes } })
          digest = newDigest(declared.digestAlg)
          await beginUpload(d.db, { id, owner: owner.id, mediaType: declared.mediaType, digestAlg: declared.digestAlg, digest: declared.digest, size: declared.size, at: d.clock.now() })
          began = true
          continue
        }
        if (declared === undefined || digest === undefined) throw new Error('a record before the key header')
        size += part.plaintext.length
        if (size > declared.size) throw mismatch('/size', 'the file is longer than its declared size')
        digest.update(part.plaintext)
        await putRecord(d.db, id, seq, sealer.seal(part.plaintext, recordAad(id, seq)))
        seq++
      }
      if (declared === undefined || digest === undefined) throw new Error('the stream ended without a header')
      if (size !== declared.size) throw mismatch('/size', 'the file is shorter than its declared size')
      if (digest.digest('hex') !== declared.digest) throw mismatch('/digest', 'the file\'s digest is not the declared one')
      await completeUpload(d.db, id, seq, d.clock.now())
      return { id, digestAlg: declared.digestAlg, digest: declared.digest, mediaType: declared.mediaType, size }
    } catch (err) {
      if (began) await discardUpload(d.db, id).catch(() => {})
      throw err
    }
  }

  /**
   * The attachment `id` for `reader` (its uploader, or a recipient of a message naming it), as a
   * stream encrypted to the reader's encryption key; TB_ERR_NOT_FOUND for anyone else (the same
   * answer as for no such attachment).
   */
  async read(id: string, reader: Participant): Promise<{ info: AttachmentInfo; stream: AsyncGenerator<Buffer> }> {
    const d = this.#d
    const found = await readableAttachment(d.db, id, reader.id)
    if (found === undefined) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such attachment visible to you')
    const a: StoredAttachment = found
    const key = d.directory.encryptionKeyFor(reader, d.clock.now())
    if (key === undefined) throw new TongbanError('TB_ERR_FORBIDDEN', `${reader.id} has no encryption key valid now to receive the attachment with`)
    const writer = new AttachmentWriter()
    const head = await writer.header(key, { id: a.id, digestAlg: a.digestAlg, digest: a.digest, size: a.size, mediaType: a.mediaType })
    const sealer = d.keyring.sealer()
    const db = d.db
    async function* stream(): AsyncGenerator<Buffer> {
      yield head
      for (let seq = 0; seq < a.records; seq++) {
        const sealed = await getRecord(db, a.id, seq)
        // Deleted meanwhile (retention): cut the stream short; the reader sees no last record.
        if (sealed === undefined) throw new Error(`attachment ${a.id} lost record ${seq} while it was read`)
        yield writer.record(sealer.open(sealed, recordAad(a.id, seq)), seq === a.records - 1)
      }
    }
    return { info: info(a), stream: stream() }
  }

  /**
   * The attachments a message names must be its sender's complete uploads, exactly as named
   * (digest, size, media type), within attachments.maxPerMessage and maxMessageBytes, and every
   * recipient must be able to fetch them (a partner with a token: not a shared-secret adapter's).
   * Returns their ids (to link to the exchange).
   */
  async checkNamed(env: Envelope, recipients: readonly Participant[]): Promise<string[]> {
    const named = env.attachments ?? []
    if (named.length === 0) return []
    const d = this.#d
    if (named.length > d.limits.maxPerMessage) {
      throw new TongbanError('TB_ERR_SCHEMA', `a message names at most ${d.limits.maxPerMessage} attachments (attachments.maxPerMessage)`, { violations: [{ pointer: '/attachments', rule: 'maxItems', message: `at most ${d.limits.maxPerMessage}` }] })
    }
    const seen = new Set<string>()
    named.forEach((a, i) => {
      if (seen.has(a.id)) throw new TongbanError('TB_ERR_SCHEMA', 'an attachment is named once', { violations: [{ pointer: `/attachments/${i}/id`, rule: 'unique', message: 'named twice' }] })
      seen.add(a.id)
    })
    const total = named.reduce((n, a) => n + a.size, 0)
    if (total > d.limits.maxMessageBytes) {
      throw new TongbanError('TB_ERR_BODY_TOO_LARGE', `the attachments of a message are at most ${d.limits.maxMessageBytes} bytes together (attachments.maxMessageBytes)`, { detail: { limit: d.limits.maxMessageBytes } })
    }
    const unable = recipients.find((r) => r.signedBy !== 'self')
    if (unable !== undefined) throw new TongbanError('TB_ERR_ATTACHMENT_UNSUPPORTED', `${unable.id} receives through an adapter that does not carry attachments`, { detail: { recipient: unable.id } })
    const stored = new Map((await getAttachments(d.db, named.map((a) => a.id))).map((a) => [a.id, a]))
    named.forEach((a, i) => {
      const s = stored.get(a.id)
      if (s === undefined || s.owner !== env.from || s.status !== 'complete') {
        throw new TongbanError('TB_ERR_ATTACHMENT_UNKNOWN', 'no complete attachment of yours has this id', { violations: [{ pointer: `/attachments/${i}/id`, rule: 'attachment', message: 'not an upload of yours, or not complete' }] })
      }
      for (const field of ['digestAlg', 'digest', 'size', 'mediaType'] as const) {
        if (s[field] !== a[field]) throw mismatch(`/attachments/${i}/${field}`, `the ${field} differs from the upload's`)
      }
    })
    return named.map((a) => a.id)
  }
}
