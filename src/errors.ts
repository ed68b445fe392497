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
  TB_ERR_SIGNATURE_INVALID: { status: 401, fault: 'client', title: 'Signature invalid' },
  TB_ERR_SIGNER_MISMATCH: { status: 403, fault: 'client', title: 'Signer, sender and token subject differ' },
  TB_ERR_FORBIDDEN: { status: 403, fault: 'client', title: 'Not allowed for this caller' },
  // Freshness and idempotency
  TB_ERR_IAT_WINDOW: { status: 400, fault: 'client', title: 'Issued-at time outside the accepted window' },
  TB_ERR_REPLAY: { status: 409, fault: 'client', title: 'Nonce already used' },
  TB_ERR_DUPLICATE_ID: { status: 409, fault: 'client', title: 'Message id reused with different content' },
  // Content
  TB_ERR_SCHEMA: { status: 400, fault: 'client', title: 'Message does not match its schema' },
  TB_ERR_TYPE_UNKNOWN: { status: 400, fault: 'client', title: 'Unknown message type or version' },
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

/** A failing JSON pointer with the rule it broke; never the offending value. */
export interface Violation {
  readonly pointer: string
  readonly rule: string
  readonly message: string
}

export interface TongbanErrorOptions {
  readonly cause?: unknown
  readonly violations?: readonly Violation[]
  /** Safe, non-personal details for the problem response (ids, types, limits). */
  readonly detail?: Readonly<Record<string, string | number | boolean>>
}

/** An error with a stable code from the catalogue. */
export class TongbanError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly fault: Fault
  readonly violations: readonly Violation[] | undefined
  readonly detail: Readonly<Record<string, string | number | boolean>> | undefined

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
