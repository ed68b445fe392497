import { TongbanError } from '../errors.ts'
import { digestHex, parseJws, signJws, suiteOf, type GatewayKeyring, type Suite } from '../crypto/index.ts'
import type { Db } from '../store/db.ts'
import { claimBatch, completeBatch, releaseBatch } from '../store/batches.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import type { AcceptService } from './accept.ts'
import type { Directory, Participant } from './directory.ts'
import type { DecodedMessage } from './envelope.ts'
import type { MessageValidator, ValidationResult } from './schemas.ts'
import { checkIat } from './freshness.ts'
import { openMessage, ownerId, parseSignedJson, verifySignature } from './verify.ts'

/** JWS typ of a batch (POST /v1/batches) and of the gateway's batch receipt. */
export const BATCH_TYP = 'tongban+batch'
export const BATCH_RECEIPT_TYP = 'tongban+batch-receipt'

/** What happened to one message of a batch: its receipt (accepted now, or earlier), or its problem. */
export type BatchResult =
  | { readonly index: number; readonly messageId: string; readonly status: 200 | 202; readonly exchangeId: string; readonly receipt: string }
  | { readonly index: number; readonly messageId: string | null; readonly status: number; readonly problem: { readonly code: string; readonly detail: string; readonly violations?: ReadonlyArray<{ pointer: string; rule: string; message: string }> } }

/** The payload of a batch receipt (a JWS the gateway signs in the batch's suite). */
export interface BatchReceipt {
  readonly batchId: string
  readonly from: string
  readonly receivedAt: string
  /** The digest of the exact request body bytes (SM3 or SHA-256 by suite, hex). */
  readonly digest: string
  readonly accepted: number
  readonly refused: number
  readonly results: readonly BatchResult[]
}

export interface BatchDeps {
  readonly db: Db
  readonly directory: Directory
  readonly validator: MessageValidator
  readonly keyring: GatewayKeyring
  readonly clock: Clock
  readonly logger: Logger
  readonly accept: AcceptService
  readonly batchValidator: (payload: unknown) => ValidationResult
  readonly replayWindowSeconds: number
  readonly maxMessages: number
  /** The largest message (limits.bodyBytes): a message of a batch is no larger than one sent alone. */
  readonly maxMessageBytes: number
  /** Charges the batch's messages to the sender's messagesPerMinute (all or none), or refuses with 429. */
  readonly charge: (sender: Participant, count: number) => Promise<void>
}

interface Batch { readonly batchId: string; readonly from: string; readonly iat: number; readonly messages: readonly string[] }

/** How many messages of a batch are accepted at once (each in its own transaction; one case's in order). */
const IN_FLIGHT = 8

/** What orders a message among the others: its case, else its id (the same message twice); undefined when unreadable. */
function laneOf(jwsText: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwsText.split('.')[1] ?? '', 'base64url').toString('utf8')) as { caseId?: unknown; id?: unknown }
    if (typeof payload.caseId === 'string') return `case:${payload.caseId}`
    if (typeof payload.id === 'string') return `id:${payload.id}`
  } catch {
    // Read for real (and refused) in #one.
  }
  return undefined
}

/**
 * Batches (批量办理): many messages of one sender in one request and one JWE. The batch is a JWS
 * the sender signs over `{ batchId, from, iat, messages }`; each message is itself the sender's
 * compact JWS of an envelope and is checked and accepted on its own, exactly as POST
 * /v1/messages would (its own transaction: a message is stored whole or not at all, whatever
 * happens to the others). The answer lists each message's receipt or problem, signed by the
 * gateway; the same batch again (the same bytes) gets the same batch receipt, byte for byte.
 */
export class BatchService {
  readonly #d: BatchDeps

  constructor(deps: BatchDeps) {
    this.#d = deps
  }

  /** Opens and accepts a batch whose outer JWS `jwsText` came in the request bytes `raw`. */
  async accept(raw: Buffer, jwsText: string, sender: Participant): Promise<{ status: 200 | 202; receipt: string }> {
    const d = this.#d
    const outer = parseJws(jwsText)
    const suite = suiteOf(outer.header)
    const owner = await verifySignature(outer, BATCH_TYP, d)
    if (ownerId(owner) !== sender.id) throw new TongbanError('TB_ERR_SIGNER_MISMATCH', 'the signing key belongs to another participant than the token subject')
    const payload = parseSignedJson(outer.payload, 'batch')
    const valid = d.batchValidator(payload)
    if (!valid.ok) throw new TongbanError('TB_ERR_SCHEMA', 'the batch does not match schemas/batch.v1.json', { violations: valid.violations })
    const batch = payload as Batch
    if (batch.from !== sender.id) throw new TongbanError('TB_ERR_SIGNER_MISMATCH', '"from" must be the signer and the token subject')
    if (batch.messages.length > d.maxMessages) {
      throw new TongbanError('TB_ERR_SCHEMA', `a batch carries at most ${d.maxMessages} messages`, { violations: [{ pointer: '/messages', rule: 'maxItems', message: `at most ${d.maxMessages} messages (limits.batchMessages)` }] })
    }
    const requestDigest = digestHex(suite, raw)

    // The batch id is claimed with these bytes before any message is looked at: the same id with
    // other bytes is refused at once, even while the first batch is still being accepted.
    const claim = await claimBatch(d.db, { sender: sender.id, batchId: batch.batchId, requestDigest, suite, messages: batch.messages.length, receivedAt: d.clock.now() })
    if (claim.state === 'taken') {
      if (claim.requestDigest !== requestDigest || claim.suite !== suite) throw new TongbanError('TB_ERR_DUPLICATE_ID', 'this batch id was already used for a different batch', { detail: { batchId: batch.batchId } })
      // The same batch again: the receipt it got.
      if (claim.receipt !== null) return { status: 200, receipt: claim.receipt }
      // Claimed by an attempt that has not finished (or died): go on; its messages are answered
      // by their receipts, and the receipt stored first is the answer.
    } else {
      try {
        checkIat(batch, d.clock.now(), d.replayWindowSeconds)
        // Each message counts against the sender's messagesPerMinute, as if sent one by one.
        await d.charge(sender, batch.messages.length)
      } catch (err) {
        await releaseBatch(d.db, sender.id, batch.batchId)
        throw err
      }
    }

    const results = await this.#all(batch.messages, sender, suite)
    const accepted = results.filter((r) => 'receipt' in r).length
    const body: BatchReceipt = { batchId: batch.batchId, from: sender.id, receivedAt: d.clock.now().toISOString(), digest: requestDigest, accepted, refused: results.length - accepted, results }
    const signer = d.keyring.signer(suite)
    if (signer === undefined) throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `the gateway does not sign in the ${suite} suite`)
    const receipt = await signJws(Buffer.from(JSON.stringify(body), 'utf8'), signer, { typ: BATCH_RECEIPT_TYP })
    // A concurrent attempt of the same batch may have stored its receipt first: that one is the answer.
    const stored = await completeBatch(d.db, sender.id, batch.batchId, receipt)
    d.logger.info({ batchId: batch.batchId, from: sender.id, messages: results.length, accepted, refused: results.length - accepted }, 'batch accepted')
    return { status: claim.state === 'taken' ? 200 : 202, receipt: stored }
  }

  /**
   * Every message, in order where order matters: messages on one case (or the same message
   * twice) are accepted one after another, as they would be sent one by one; different cases
   * run up to IN_FLIGHT at once. The first gateway fault stops the rest and fails the batch.
   */
  async #all(messages: readonly string[], sender: Participant, suite: Suite): Promise<BatchResult[]> {
    const lanes = new Map<string, number[]>()
    messages.forEach((m, i) => {
      const key = laneOf(m) ?? `#${i}`
      const lane = lanes.get(key)
      if (lane === undefined) lanes.set(key, [i])
      else lane.push(i)
    })
    const queue = [...lanes.values()]
    const results: BatchResult[] = new Array(messages.length)
    let failed = false
    const work = async (): Promise<void> => {
      for (let lane = queue.shift(); lane !== undefined && !failed; lane = queue.shift()) {
        for (const i of lane) {
          if (failed) return
          try {
            results[i] = await this.#one(i, messages[i] as string, sender, suite)
          } catch (err) {
            failed = true
            throw err
          }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, queue.length) }, work))
    return results
  }

  /**
   * One message: the checks of POST /v1/messages after the transport (its signature by the
   * sender, the envelope, `from`), then its acceptance. A refusal (4xx) is its result; a gateway
   * fault (5xx) fails the batch, whose messages are each stored whole or not at all, so that the
   * same batch sent again completes it.
   */
  async #one(index: number, jwsText: string, sender: Participant, suite: Suite): Promise<BatchResult> {
    const d = this.#d
    let messageId: string | null = null
    try {
      if (jwsText.length > d.maxMessageBytes) throw new TongbanError('TB_ERR_BODY_TOO_LARGE', `a message is at most ${d.maxMessageBytes} bytes (limits.bodyBytes), in a batch as alone`)
      if (suiteOf(parseJws(jwsText).header) !== suite) throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `a batch is in one suite: this message is not in the batch's (${suite})`)
      const { envelope, jws } = await openMessage(jwsText, sender, d)
      messageId = envelope.id
      const decoded: DecodedMessage = { envelope, jws: jws.compact, suite, requestDigest: digestHex(suite, Buffer.from(jws.compact, 'ascii')) }
      const r = await d.accept.accept(decoded, sender)
      return { index, messageId, status: r.status, exchangeId: r.exchangeId, receipt: r.receipt }
    } catch (err) {
      if (!(err instanceof TongbanError) || err.status >= 500) throw err
      const violations = err.violations
      return { index, messageId, status: err.status, problem: { code: err.code, detail: err.message, ...(violations !== undefined && violations.length > 0 ? { violations } : {}) } }
    }
  }
}
