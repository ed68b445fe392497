import { Agent, request, type Dispatcher } from 'undici'
import { CTY_JWS, decryptJwe, digestHex, encryptJwe, parseJws, signJws, verifyJws, type JweAlg, type PrivateKey, type PublicKey } from '../crypto/index.ts'
import type { AttachmentRef, Envelope, Receipt } from '../core/envelope.ts'
import { downloadAttachment, saveAttachment, uploadAttachment, type AttachmentSource, type AttachmentTransport } from './attachments.ts'
import { systemClock, systemIds, type Clock, type IdSource } from '../util/ids.ts'
import { refused, TongbanClientError } from './errors.ts'
import { PublishedDirectory } from './directory.ts'
import { LedgerClient, MemoryCheckpointStore, type CheckpointStore } from './ledger.ts'

export interface ClientOptions {
  /** e.g. http://127.0.0.1:8443 */
  readonly baseUrl: string
  readonly participantId: string
  /** The partner's own signing key (its kid must be in the directory). */
  readonly signingKey: PrivateKey
  /** The gateway's signing keys, pinned out of band (e.g. from certs-example/gateway). */
  readonly gatewayKeys: readonly PublicKey[]
  /** The partner's own decryption key: needed to read query answers. */
  readonly encryptionKey?: PrivateKey
  /** Preferred JWE key algorithm for international keys (RSA-OAEP-256 or ECDH-ES+A256KW). */
  readonly jweAlg?: JweAlg
  readonly clock?: Clock
  readonly ids?: IdSource
  readonly dispatcher?: Dispatcher
  /** Where client.ledger keeps the last checkpoint it saw (default: in memory; FileCheckpointStore keeps it across restarts). */
  readonly checkpointStore?: CheckpointStore
}

/** A message to send: the envelope's id, iat and nonce are filled in unless given. */
export interface OutgoingMessage {
  readonly type: string
  readonly v?: number
  readonly to?: string
  readonly caseId?: string
  readonly unitCode?: string
  readonly body: Record<string, unknown>
  /** The attachments it carries, as uploadAttachment returned them. */
  readonly attachments?: readonly AttachmentRef[]
  readonly id?: string
  readonly iat?: number
  readonly nonce?: string
}

export interface HttpResult {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  /** Parsed JSON, when the answer is JSON (problem+json included). */
  readonly json: unknown
}

export interface QueryAnswer {
  readonly queryId: string
  /** The answer envelope, verified against the gateway's signature. */
  readonly envelope: Envelope
  /** The gateway's signed answer, kept as proof. */
  readonly jws: string
}

export interface SendResult {
  readonly status: number
  readonly exchangeId: string
  readonly receipt: Receipt
  readonly receiptJws: string
}

/** A partner's connection to the gateway. */
/** One message's outcome in a batch receipt: its receipt (verified), or its problem. */
export type BatchItem =
  | { readonly index: number; readonly messageId: string; readonly status: 200 | 202; readonly exchangeId: string; readonly receipt: Receipt; readonly receiptJws: string }
  | { readonly index: number; readonly messageId: string | null; readonly status: number; readonly problem: { readonly code: string; readonly detail: string; readonly violations?: ReadonlyArray<{ pointer: string; rule: string; message: string }> } }

export interface BatchResult {
  /** 202 for a new batch, 200 for the same batch again (the same bytes: the same receipt). */
  readonly status: number
  readonly batchId: string
  readonly accepted: number
  readonly refused: number
  readonly results: readonly BatchItem[]
  /** The gateway's signed batch receipt (typ tongban+batch-receipt), as received: keep it. */
  readonly receiptJws: string
}

/** A batch ready to send: the request body, and the signed messages in it (keep the body to resend it as it is). */
export interface PreparedBatch {
  readonly batchId: string
  readonly body: string
  readonly messages: readonly string[]
}

export class TongbanClient {
  readonly participantId: string
  readonly #o: ClientOptions
  readonly #clock: Clock
  readonly #ids: IdSource
  readonly #dispatcher: Dispatcher
  #directory: PublishedDirectory | undefined
  #token: { value: string; until: number } | undefined
  /** The evidence ledger: prove a receipt's entry is in the gateway's signed log, and that the log only grows. */
  readonly ledger: LedgerClient

  constructor(options: ClientOptions) {
    this.#o = options
    this.participantId = options.participantId
    this.ledger = new LedgerClient((method, path) => this.http(method, path), options.gatewayKeys, options.checkpointStore ?? new MemoryCheckpointStore())
    this.#clock = options.clock ?? systemClock
    this.#ids = options.ids ?? systemIds(this.#clock)
    this.#dispatcher = options.dispatcher ?? new Agent({ connections: 16 })
  }

  /**
   * Fetches and verifies the signed directory (cached), signed in this partner's own suite
   * (`?suite=`), so a partner that pins only its suite's gateway key can check it.
   */
  async directory(refresh = false): Promise<PublishedDirectory> {
    if (this.#directory === undefined || refresh) {
      const res = await this.http('GET', `/v1/directory?suite=${this.#o.signingKey.suite}`, undefined, { auth: false })
      if (res.status !== 200) throw new TongbanClientError('TB_CLIENT_DIRECTORY_UNAVAILABLE', `GET /v1/directory answered ${res.status}`, { status: res.status })
      this.#directory = await PublishedDirectory.verify(res.text, this.#o.gatewayKeys)
    }
    return this.#directory
  }

  /** A token-request JWS proving this partner holds its key. */
  async tokenRequest(overrides: { iat?: number; jti?: string; sub?: string } = {}): Promise<string> {
    const claims = {
      sub: overrides.sub ?? this.participantId,
      aud: (await this.directory()).gatewayId,
      iat: overrides.iat ?? Math.floor(this.#clock.now().getTime() / 1000),
      jti: overrides.jti ?? this.#ids.nonce(16),
    }
    return signJws(Buffer.from(JSON.stringify(claims)), this.#o.signingKey, { typ: 'tongban+token-request' })
  }

  /** A valid access token (cached until shortly before it expires). */
  async token(): Promise<string> {
    const now = this.#clock.now().getTime()
    if (this.#token && this.#token.until > now) return this.#token.value
    const res = await this.http('POST', '/v1/token', await this.tokenRequest(), { auth: false })
    const body = res.json as { access_token?: string; expires_in?: number } | undefined
    if (res.status !== 200 || typeof body?.access_token !== 'string') throw refused('token request', res)
    this.#token = { value: body.access_token, until: now + Math.max(5, (body.expires_in ?? 60) - 30) * 1000 }
    return body.access_token
  }

  /** Fills in id, iat and nonce. */
  envelope(m: OutgoingMessage): Envelope {
    return {
      id: m.id ?? this.#ids.uuid7(),
      type: m.type,
      v: m.v ?? 1,
      from: this.participantId,
      ...(m.to !== undefined ? { to: m.to } : {}),
      ...(m.caseId !== undefined ? { caseId: m.caseId } : {}),
      ...(m.unitCode !== undefined ? { unitCode: m.unitCode } : {}),
      iat: m.iat ?? Math.floor(this.#clock.now().getTime() / 1000),
      nonce: m.nonce ?? this.#ids.nonce(16),
      ...(m.attachments !== undefined ? { attachments: m.attachments } : {}),
      body: m.body,
    }
  }

  /** Signs an envelope (JWS, typ tongban+jws). */
  async sign(envelope: Envelope | Record<string, unknown>): Promise<string> {
    return signJws(Buffer.from(JSON.stringify(envelope), 'utf8'), this.#o.signingKey, { typ: 'tongban+jws' })
  }

  /** Encrypts a JWS to the gateway's key of this partner's suite. */
  async encrypt(jws: string): Promise<string> {
    const key = (await this.directory()).gatewayEncryptionKey(this.#o.signingKey.suite, this.#o.jweAlg)
    return encryptJwe(Buffer.from(jws, 'latin1'), key, { cty: CTY_JWS })
  }

  /** Builds, signs, encrypts and sends a message; verifies the receipt against what was sent. */
  async send(m: OutgoingMessage): Promise<SendResult> {
    const env = this.envelope(m)
    const body = await this.encrypt(await this.sign(env))
    return this.sendRaw(body, env.id)
  }

  /** Sends an already-built request body; verifies the receipt when the gateway accepts it. */
  async sendRaw(body: string, messageId?: string): Promise<SendResult> {
    const res = await this.http('POST', '/v1/messages', body)
    if (res.status !== 202 && res.status !== 200) throw refused('message', res)
    const receipt = await this.verifyReceipt(res.text, body, messageId)
    return { status: res.status, exchangeId: receipt.exchangeId, receipt, receiptJws: res.text }
  }

  /** Checks a receipt's signature (gateway key, same suite) and that it covers exactly `sentBody`. */
  async verifyReceipt(receiptJws: string, sentBody: string, messageId?: string): Promise<Receipt> {
    const parsed = parseJws(receiptJws)
    const key = (await this.directory()).gatewaySigningKeys.find((k) => k.kid === parsed.header.kid)
      ?? this.#o.gatewayKeys.find((k) => k.kid === parsed.header.kid)
    if (key === undefined || !(await verifyJws(parsed, key))) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'receipt signature does not verify')
    if (key.suite !== this.#o.signingKey.suite) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'receipt is not signed in the sender\'s suite')
    const receipt = JSON.parse(parsed.payload.toString('utf8')) as Receipt
    if (receipt.digest !== digestHex(key.suite, Buffer.from(sentBody, 'latin1'))) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'receipt digest does not match the message sent')
    if (messageId !== undefined && receipt.messageId !== messageId) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'receipt is for another message')
    return receipt
  }

  /**
   * Builds a batch (批量办理, POST /v1/batches): each message signed on its own, the batch
   * `{ batchId, from, iat, messages }` signed, then encrypted to the gateway. Keep `body`: the same
   * bytes sent again get the same batch receipt.
   */
  async prepareBatch(messages: ReadonlyArray<OutgoingMessage | Envelope | string>, opts: { batchId?: string } = {}): Promise<PreparedBatch> {
    // A string is a message already signed (a compact JWS of an envelope), an Envelope one to sign as it is.
    const signed = await Promise.all(messages.map(async (m) => typeof m === 'string' ? m : this.sign('from' in m && 'nonce' in m ? m : this.envelope(m as OutgoingMessage))))
    const batchId = opts.batchId ?? this.#ids.uuid7()
    const batch = { batchId, from: this.participantId, iat: Math.floor(this.#clock.now().getTime() / 1000), messages: signed }
    const jws = await signJws(Buffer.from(JSON.stringify(batch), 'utf8'), this.#o.signingKey, { typ: 'tongban+batch' })
    return { batchId, body: await this.encrypt(jws), messages: signed }
  }

  /** Builds and sends a batch; verifies the batch receipt and each message's receipt in it. */
  async sendBatch(messages: ReadonlyArray<OutgoingMessage | Envelope | string>, opts: { batchId?: string } = {}): Promise<BatchResult> {
    return this.sendPreparedBatch(await this.prepareBatch(messages, opts))
  }

  /**
   * Sends a prepared batch. The batch receipt must be the gateway's signature, in this partner's
   * suite, over this batch id and the digest of the exact body sent; each message's receipt must
   * be the gateway's over the digest of that message's JWS (its bytes in the batch).
   */
  async sendPreparedBatch(b: PreparedBatch): Promise<BatchResult> {
    const res = await this.http('POST', '/v1/batches', b.body)
    if (res.status !== 202 && res.status !== 200) throw refused('batch', res)
    const parsed = parseJws(res.text)
    const key = (await this.directory()).gatewaySigningKeys.find((k) => k.kid === parsed.header.kid) ?? this.#o.gatewayKeys.find((k) => k.kid === parsed.header.kid)
    if (key === undefined || parsed.header.typ !== 'tongban+batch-receipt' || !(await verifyJws(parsed, key))) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'the batch receipt is not signed by the gateway')
    if (key.suite !== this.#o.signingKey.suite) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'the batch receipt is not signed in the sender\'s suite')
    const r = JSON.parse(parsed.payload.toString('utf8')) as { batchId: string; digest: string; accepted: number; refused: number; results: Array<Record<string, unknown>> }
    if (r.batchId !== b.batchId || r.digest !== digestHex(key.suite, Buffer.from(b.body, 'latin1'))) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'the batch receipt is for another batch')
    if (r.results.length !== b.messages.length) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'the batch receipt does not list every message')
    const results: BatchItem[] = []
    for (const [i, item] of r.results.entries()) {
      if (item.index !== i) throw new TongbanClientError('TB_CLIENT_RECEIPT_INVALID', 'the batch receipt lists its messages out of order')
      if (typeof item.receipt !== 'string') {
        results.push(item as unknown as BatchItem)
        continue
      }
      const receipt = await this.verifyReceipt(item.receipt, b.messages[i] as string, item.messageId as string)
      results.push({ index: i, messageId: item.messageId as string, status: item.status as 200 | 202, exchangeId: receipt.exchangeId, receipt, receiptJws: item.receipt })
    }
    return { status: res.status, batchId: r.batchId, accepted: r.accepted, refused: r.refused, results, receiptJws: res.text }
  }

  /**
   * Sends a synchronous query (POST /v1/queries) and returns the answer: decrypted with this
   * partner's key and verified against the gateway's signature in this partner's suite.
   */
  async query(m: OutgoingMessage): Promise<QueryAnswer> {
    const env = this.envelope(m)
    const res = await this.http('POST', '/v1/queries', await this.encrypt(await this.sign(env)))
    if (res.status !== 200) throw refused('query', res)
    if (this.#o.encryptionKey === undefined) throw new TongbanClientError('TB_CLIENT_CONFIG', 'reading a query answer needs the partner\'s encryptionKey')
    const { plaintext } = await decryptJwe(res.text.trim(), this.#o.encryptionKey)
    const jws = parseJws(plaintext.toString('latin1'))
    const key = (await this.directory()).gatewaySigningKeys.find((k) => k.kid === jws.header.kid)
    if (key === undefined || jws.header.typ !== 'tongban+answer' || !(await verifyJws(jws, key))) throw new TongbanClientError('TB_CLIENT_ANSWER_INVALID', 'the answer is not signed by the gateway')
    const envelope = JSON.parse(jws.payload.toString('utf8')) as Envelope
    if (envelope.to !== this.participantId) throw new TongbanClientError('TB_CLIENT_ANSWER_INVALID', 'the answer is for someone else')
    return { queryId: String(res.headers['tongban-query-id'] ?? ''), envelope, jws: jws.compact }
  }

  /**
   * The body of an answer to a query the gateway forwarded to this partner: the answer
   * envelope signed by this partner and encrypted to the gateway (the HTTP 200 body).
   */
  async answer(query: Envelope, type: string, body: Record<string, unknown>): Promise<string> {
    const env = this.envelope({ type, to: query.from, ...(query.unitCode !== undefined ? { unitCode: query.unitCode } : {}), body: { ...body, queryId: query.id } })
    return this.encrypt(await this.sign(env))
  }

  /** Case status and timeline. */
  async getCase(caseId: string): Promise<HttpResult> {
    return this.http('GET', `/v1/cases/${encodeURIComponent(caseId)}`)
  }

  /** Exchange status. */
  async getExchange(id: string): Promise<HttpResult> {
    return this.http('GET', `/v1/exchanges/${encodeURIComponent(id)}`)
  }

  /** A raw HTTP call to the gateway (with this partner's token unless auth is false). */
  /** What the attachment functions need of this client. */
  #attachmentTransport(): AttachmentTransport {
    return {
      baseUrl: this.#o.baseUrl, dispatcher: this.#dispatcher, token: () => this.token(),
      digestAlg: this.#o.signingKey.suite === 'national' ? 'SM3' : 'SHA-256',
      gatewayKey: async () => (await this.directory()).gatewayEncryptionKey(this.#o.signingKey.suite, this.#o.jweAlg),
      decryptionKey: this.#o.encryptionKey,
    }
  }

  /**
   * Uploads a file (申请材料) for a message to carry: bytes, `{ path }` of a file, or
   * `{ open, size, digest }`; streamed one 1 MiB record at a time, encrypted to the gateway.
   * Name what it returns in the message's `attachments`.
   */
  async uploadAttachment(source: AttachmentSource, mediaType: string): Promise<AttachmentRef> {
    return uploadAttachment(this.#attachmentTransport(), source, mediaType)
  }

  /** The bytes of an attachment a message delivered to this partner names, checked against `ref` at the end (see downloadAttachment). */
  downloadAttachment(ref: AttachmentRef): AsyncGenerator<Buffer> {
    return downloadAttachment(this.#attachmentTransport(), ref)
  }

  /** Downloads an attachment to a file, in place only once verified whole. */
  async saveAttachment(ref: AttachmentRef, path: string): Promise<void> {
    return saveAttachment(this.#attachmentTransport(), ref, path)
  }

  async http(method: 'GET' | 'POST', path: string, body?: string | Buffer, opts: { auth?: boolean | string; contentType?: string } = {}): Promise<HttpResult> {
    const headers: Record<string, string> = {}
    if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/jose'
    if (opts.auth !== false) headers.authorization = `Bearer ${typeof opts.auth === 'string' ? opts.auth : await this.token()}`
    const res = await request(new URL(path, this.#o.baseUrl), { method, headers, body, dispatcher: this.#dispatcher })
    const text = await res.body.text()
    const type = String(res.headers['content-type'] ?? '')
    let json: unknown
    if (/json/.test(type)) {
      try { json = JSON.parse(text) } catch { json = undefined }
    }
    return { status: res.statusCode, headers: res.headers, text, json }
  }

  async close(): Promise<void> {
    if (this.#o.dispatcher === undefined) await this.#dispatcher.close()
  }
}
