import type { Dispatcher } from 'undici'
import { DELIVERY_FAILURES, type DeliveryFailureCode, type ErrorCode, type Violation } from '../errors.ts'
import type { Participant } from '../core/directory.ts'
import type { AttestedMessage, Envelope } from '../core/envelope.ts'

export type { AttestedMessage } from '../core/envelope.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'

/** One delivery as an adapter sees it. */
export interface OutboundMessage {
  readonly exchangeId: string
  readonly deliveryId: string
  readonly messageId: string
  readonly type: string
  readonly v: number
  readonly sender: string
  readonly caseId: string | null
  readonly unitCode: string | null
  /** The sender's compact JWS exactly as signed (end-to-end proof of origin). */
  readonly jws: string
  /** The verified payload of that JWS, for adapters that map it to another format. */
  readonly envelope: Envelope
  /** 1 for the first attempt. */
  readonly attempt: number
}

/** What the gateway lends an adapter for one partner: no key material, only operations. */
export interface AdapterContext {
  readonly recipient: Participant
  readonly clock: Clock
  readonly logger: Logger
  /** Encrypts to the recipient's encryption key (JWE in the key's suite). */
  encryptForRecipient(plaintext: Uint8Array, header?: Record<string, unknown>): Promise<string>
  /** HMAC over `data` with the secret the gateway shares with this partner (legacy links). */
  partnerMac(alg: 'SM3' | 'SHA-256', data: Uint8Array): string
  /** Constant-time check of a MAC the partner sent (e.g. on its answer), with that secret. */
  verifyPartnerMac(alg: 'SM3' | 'SHA-256', data: Uint8Array, macHex: string): boolean
  /** A connection pool to `url`'s origin with the partner's timeouts. */
  http(url: string): Dispatcher
  /**
   * The gateway's signed delivery statement for this partner (send it as the Tongban-Delivery
   * header): which exchange this is, from whom, for whom, and the digest of the sender's JWS.
   * The partner checks it against the gateway's key, so a JWS re-posted by anyone else is refused
   * and repeats are recognised by a gateway-signed exchange id.
   */
  deliveryStatement(s: DeliveryFacts): Promise<string>
}

/** What a delivery statement attests. */
export interface DeliveryFacts {
  readonly exchangeId?: string
  readonly deliveryId?: string
  readonly queryId?: string
  readonly messageId: string
  readonly sender: string
  /** The sender's compact JWS, as delivered. */
  readonly jws: string
}

export { DELIVERY_HEADER, DELIVERY_TYP } from '../core/envelope.ts'

/** A synchronous query (e.g. a bank's mortgage query) as an adapter sees it. */
export interface OutboundQuery {
  /** The gateway's id of this query (also in the ledger). */
  readonly queryId: string
  readonly messageId: string
  readonly type: string
  readonly sender: string
  /** The asker's compact JWS exactly as signed. */
  readonly jws: string
  readonly envelope: Envelope
}

/** A request a partner sent to a route its adapter owns (the partner is named in the path). */
export interface InboundRequest {
  readonly participant: Participant
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The exact bytes the partner sent. */
  readonly body: Buffer
}

export interface InboundResponse {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body: string | Buffer
}

export type SubmitResult =
  | { readonly ok: true; readonly status: 200 | 202; readonly exchangeId: string; readonly receipt: string; readonly digest: string }
  | { readonly ok: false; readonly status: number; readonly code: ErrorCode; readonly message: string; readonly violations?: readonly Violation[] }

/** What the gateway lends an adapter's inbound route: operations, never key material. */
export interface InboundContext {
  readonly clock: Clock
  readonly logger: Logger
  /** Constant-time check of a MAC the partner sent, with the secret the gateway shares with it. */
  verifyPartnerMac(alg: 'SM3' | 'SHA-256', data: Uint8Array, macHex: string): boolean
  /** A MAC with the shared secret (to authenticate the answer). */
  partnerMac(alg: 'SM3' | 'SHA-256', data: Uint8Array): string
  /**
   * Accepts a message on the partner's behalf: the gateway checks it as any other (schema,
   * route, case) and signs it, attesting that the partner sent `raw` (its exact bytes, which
   * also make retries idempotent). Never throws for a refusal: the result says why.
   */
  submit(message: AttestedMessage, raw: Buffer): Promise<SubmitResult>
}

/** A route an adapter owns: POST /v1/adapters/<adapter>/<participant id>/<path>. */
export interface InboundRoute {
  readonly path: string
  handle(request: InboundRequest, ctx: InboundContext): Promise<InboundResponse>
}

/** One partner kind: how a standard message reaches it. Every adapter passes test/adapters/conformance.test.ts. */
export interface PartnerAdapter {
  readonly name: string
  /**
   * How its partners authenticate: 'jose' (their own signing and encryption keys in the
   * directory) or 'shared-secret' (an HMAC secret in the gateway's keys folder; the gateway
   * signs what they send, attesting it, and the directory publishes them as signed by the gateway).
   */
  readonly auth: 'jose' | 'shared-secret'
  /** The message types it can deliver (all when absent). */
  readonly types?: readonly string[]
  /** Routes it owns for its partners' own requests (e.g. a legacy system posting results). */
  readonly inbound?: readonly InboundRoute[]
  /** Resolves when the partner has taken the message; throws DeliveryError otherwise. */
  deliver(message: OutboundMessage, ctx: AdapterContext): Promise<void>
  /**
   * Forwards a synchronous query and resolves with the partner's answer: a compact JWE to the
   * gateway (or, on a private network, a bare JWS) of the partner's signed answer envelope.
   * Must stop when `signal` aborts. Throws DeliveryError (4xx: not retryable). Adapters
   * without it cannot serve queries.
   */
  query?(query: OutboundQuery, ctx: AdapterContext, signal: AbortSignal): Promise<string>
}

/**
 * Why a delivery attempt failed, with a code of the failure catalogue (DELIVERY_FAILURES in
 * src/errors.ts), which also decides whether trying again can help.
 */
export class DeliveryError extends Error {
  readonly code: DeliveryFailureCode
  readonly retry: boolean
  readonly httpStatus: number | undefined

  constructor(code: DeliveryFailureCode, message: string, options: { httpStatus?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DeliveryError'
    this.code = code
    this.retry = DELIVERY_FAILURES[code].retry
    this.httpStatus = options.httpStatus
  }
}
