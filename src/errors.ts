/**
 * The one error catalogue of the gateway. Every error a caller can see has a stable
 * `TB_ERR_*` code, an HTTP status and the party at fault (as X-Road's fault prefixes do).
 * Callers and tests branch on `code`, never on message text. docs/errors.md lists them all
 * (a test keeps the two in step).
 */

export type Fault = 'client' | 'gateway' | 'partner'

interface CatalogueEntry {
  readonly status: number
  readonly fault: Fault
  readonly title: string
}

export const ERRORS = {
  // Transport and framing
  TB_ERR_CONTENT_TYPE: { status: 415, fault: 'client', title: 'Unsupported content type' },
  TB_ERR_BODY_TOO_LARGE: { status: 413, fault: 'client', title: 'Request body too large' },
  TB_ERR_BAD_REQUEST: { status: 400, fault: 'client', title: 'Malformed request' },
  TB_ERR_JOSE_MALFORMED: { status: 400, fault: 'client', title: 'Malformed JOSE object' },
  TB_ERR_ALG_UNSUPPORTED: { status: 400, fault: 'client', title: 'Algorithm not supported' },
  TB_ERR_DECRYPT: { status: 400, fault: 'client', title: 'Message could not be decrypted' },
  TB_ERR_ENCRYPTION_REQUIRED: { status: 400, fault: 'client', title: 'Encryption is required on this link' },
  // Authentication
  TB_ERR_TOKEN_MISSING: { status: 401, fault: 'client', title: 'Access token missing' },
  TB_ERR_TOKEN_INVALID: { status: 401, fault: 'client', title: 'Access token invalid' },
  TB_ERR_TOKEN_EXPIRED: { status: 401, fault: 'client', title: 'Access token expired' },
  TB_ERR_KEY_UNKNOWN: { status: 401, fault: 'client', title: 'Unknown key id' },
  TB_ERR_KEY_EXPIRED: { status: 401, fault: 'client', title: 'Key expired or not yet valid' },
  TB_ERR_KEY_REVOKED: { status: 401, fault: 'client', title: 'Key certificate revoked' },
  TB_ERR_SIGNATURE_INVALID: { status: 401, fault: 'client', title: 'Signature invalid' },
  TB_ERR_SIGNER_MISMATCH: { status: 403, fault: 'client', title: 'Signer, sender and token subject differ' },
  TB_ERR_FORBIDDEN: { status: 403, fault: 'client', title: 'Not allowed for this caller' },
  TB_ERR_LOGIN_FAILED: { status: 401, fault: 'client', title: 'Console log-in refused' },
  TB_ERR_ACCOUNT_LOCKED: { status: 429, fault: 'client', title: 'Console account locked after repeated failures' },
  TB_ERR_CSRF: { status: 403, fault: 'client', title: 'Cross-site request refused' },
  // Freshness and idempotency
  TB_ERR_IAT_WINDOW: { status: 400, fault: 'client', title: 'Issued-at time outside the accepted window' },
  TB_ERR_REPLAY: { status: 409, fault: 'client', title: 'Nonce already used' },
  TB_ERR_DUPLICATE_ID: { status: 409, fault: 'client', title: 'Message id reused with different content' },
  // Content
  TB_ERR_SCHEMA: { status: 400, fault: 'client', title: 'Message does not match its schema' },
  TB_ERR_TYPE_UNKNOWN: { status: 400, fault: 'client', title: 'Unknown message type or version' },
  // Attachments (申请材料)
  TB_ERR_ATTACHMENT_MALFORMED: { status: 400, fault: 'client', title: 'Attachment stream malformed' },
  TB_ERR_ATTACHMENT_MISMATCH: { status: 400, fault: 'client', title: 'Attachment differs from its declaration' },
  TB_ERR_ATTACHMENT_UNKNOWN: { status: 400, fault: 'client', title: 'No such attachment of yours' },
  TB_ERR_ATTACHMENT_UNSUPPORTED: { status: 422, fault: 'client', title: 'A recipient cannot receive attachments' },
  // Routing and cases
  TB_ERR_ROUTE_FORBIDDEN: { status: 403, fault: 'client', title: 'Route not allowed' },
  TB_ERR_NO_ROUTE: { status: 422, fault: 'client', title: 'No recipient for this message' },
  TB_ERR_CASE_NOT_FOUND: { status: 409, fault: 'client', title: 'No open case step matches this message' },
  TB_ERR_CASE_MISMATCH: { status: 409, fault: 'client', title: 'Message does not match the case it names' },
  TB_ERR_CASE_CONFLICT: { status: 409, fault: 'client', title: 'Case already has an open step of this kind' },
  TB_ERR_CONTRACT_AMBIGUOUS: { status: 409, fault: 'client', title: 'Contract and filing numbers do not name exactly one filing' },
  TB_ERR_FILING_CONFLICT: { status: 409, fault: 'client', title: 'Contract or filing number already used by this bureau' },
  TB_ERR_NOT_FOUND: { status: 404, fault: 'client', title: 'Not found' },
  TB_ERR_INVALID_STATE: { status: 409, fault: 'client', title: 'Not possible in the current state' },
  TB_ERR_DIRECTORY_INVALID: { status: 422, fault: 'client', title: 'Directory file invalid; the running directory is kept' },
  // Partners (synchronous queries and deliveries)
  TB_ERR_PARTNER_TIMEOUT: { status: 504, fault: 'partner', title: 'Partner did not answer in time' },
  TB_ERR_PARTNER_UNAVAILABLE: { status: 503, fault: 'partner', title: 'Partner unavailable' },
  TB_ERR_PARTNER_REJECTED: { status: 502, fault: 'partner', title: 'Partner rejected the request' },
  TB_ERR_PARTNER_BAD_ANSWER: { status: 502, fault: 'partner', title: 'Partner answer invalid' },
  // Gateway side
  TB_ERR_RATE_LIMITED: { status: 429, fault: 'client', title: 'Too many requests' },
  TB_ERR_UNAVAILABLE: { status: 503, fault: 'gateway', title: 'Gateway temporarily unavailable' },
  TB_ERR_INTERNAL: { status: 500, fault: 'gateway', title: 'Internal gateway error' },
} as const satisfies Record<string, CatalogueEntry>

export type ErrorCode = keyof typeof ERRORS

interface FailureEntry {
  /** Whether trying again can help: decided here, once, for every adapter (STYLE §7). */
  readonly retry: boolean
  readonly title: string
}

/**
 * Why a delivery attempt failed: the `code` of a DeliveryError, recorded as a delivery's
 * `lastError` (with the partner's HTTP status, if any) and shown to operators. Every adapter
 * uses these codes with the same meaning and the same retry rule; docs/adapters.md lists them
 * (a test keeps the two in step). A final failure makes the delivery a dead letter at once.
 */
export const DELIVERY_FAILURES = {
  // The partner answered
  PARTNER_4XX: { retry: false, title: 'The partner refused the message (HTTP 4xx other than 408 and 429): it would refuse the same bytes again' },
  PARTNER_408: { retry: true, title: 'The partner timed out reading the request (HTTP 408)' },
  PARTNER_429: { retry: true, title: 'The partner asks to slow down (HTTP 429)' },
  PARTNER_5XX: { retry: true, title: 'The partner failed (HTTP 5xx)' },
  PARTNER_REJECTED: { retry: false, title: 'The partner\'s own answer refuses the message for good (e.g. a vendor 返回码 of a data fault)' },
  PARTNER_BUSY: { retry: true, title: 'The partner\'s own answer asks to try again later' },
  PARTNER_BAD_ANSWER: { retry: true, title: 'The partner\'s answer is not authentic, not readable or not the one expected: it may not have the message, and a repeat is harmless (recipients drop repeats by exchange id)' },
  // The partner did not answer
  CONNECT_TIMEOUT: { retry: true, title: 'Connecting to the partner timed out' },
  TIMEOUT: { retry: true, title: 'The partner did not answer within its headers or body timeout' },
  NETWORK: { retry: true, title: 'A network error (refused, reset, unreachable, name not found)' },
  UNKNOWN: { retry: true, title: 'Any other failure: retried, since losing a message is worse than trying again' },
  // Nothing to try again: configuration or the gateway's own decision
  NO_ENDPOINT: { retry: false, title: 'The recipient has no endpoint for this in the directory' },
  NO_KEY: { retry: false, title: 'The recipient has no encryption key, or the gateway no signing key' },
  TYPE_UNSUPPORTED: { retry: false, title: 'The adapter cannot carry this message type' },
  MAPPING: { retry: false, title: 'The message cannot be written in the partner\'s format' },
  NO_ROUTE: { retry: false, title: 'The recipient or its adapter is no longer configured' },
  STORE: { retry: false, title: 'The stored message cannot be read (missing, or its seal does not open)' },
  EXPIRED: { retry: false, title: 'The delivery passed its maximum age (delivery.maxAgeSeconds)' },
} as const satisfies Record<string, FailureEntry>

export type DeliveryFailureCode = keyof typeof DELIVERY_FAILURES

/** A failing JSON pointer with the rule it broke; never the offending value. */
export interface Violation {
  readonly pointer: string
  readonly rule: string
  readonly message: string
}

/**
 * Safe, non-personal details for the problem response (ids, types, limits), as members of its
 * own. The problem's members (RFC 9457 and ours) are not theirs to set: a detail named `status`
 * would be dropped behind the HTTP status, so the type refuses it.
 */
export type ProblemDetail = Readonly<Record<string, string | number | boolean>> & {
  readonly [K in 'type' | 'title' | 'status' | 'code' | 'fault' | 'detail' | 'instance' | 'violations']?: never
}

export interface TongbanErrorOptions {
  readonly cause?: unknown
  readonly violations?: readonly Violation[]
  readonly detail?: ProblemDetail
}

/** An error with a stable code from the catalogue. */
export class TongbanError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly fault: Fault
  readonly violations: readonly Violation[] | undefined
  readonly detail: ProblemDetail | undefined

  constructor(code: ErrorCode, message?: string, options: TongbanErrorOptions = {}) {
    const entry: CatalogueEntry = ERRORS[code]
    super(message ?? entry.title, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TongbanError'
    this.code = code
    this.status = entry.status
    this.fault = entry.fault
    this.violations = options.violations
    this.detail = options.detail
  }
}

/** Narrow an unknown error to a TongbanError, optionally of one code. */
export function isTongbanError(err: unknown, code?: ErrorCode): err is TongbanError {
  return err instanceof TongbanError && (code === undefined || err.code === code)
}
