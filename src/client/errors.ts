/**
 * The SDK's errors, with stable codes to branch on (never the message text). A request the
 * gateway refused carries the gateway's own `TB_ERR_*` code (docs/errors.md), its HTTP status
 * and the problem document; a check the SDK makes itself has a `TB_CLIENT_*` code.
 */
export const CLIENT_ERRORS = {
  /** GET /v1/directory did not answer 200. */
  TB_CLIENT_DIRECTORY_UNAVAILABLE: 'the directory could not be fetched',
  /** The directory is not signed by a pinned gateway key. */
  TB_CLIENT_DIRECTORY_UNTRUSTED: 'the directory is not signed by a pinned gateway key',
  /** The gateway publishes no key the SDK needs (e.g. no encryption key in the suite). */
  TB_CLIENT_NO_GATEWAY_KEY: 'the gateway publishes no such key',
  /** The client is not configured for this (e.g. reading an answer without an encryption key). */
  TB_CLIENT_CONFIG: 'the client is not configured for this',
  /** The receipt does not verify, or is not for the message sent. */
  TB_CLIENT_RECEIPT_INVALID: 'the receipt is not valid for the message sent',
  /** A query answer does not verify, or is not for this client. */
  TB_CLIENT_ANSWER_INVALID: 'the answer is not valid for this client',
  /** A delivery opened by PartnerInbox is not authentic, not addressed to this partner, or not the one the gateway vouches for. */
  TB_CLIENT_DELIVERY_INVALID: 'the delivery is not valid for this partner',
  /** A ledger checkpoint, entry or inclusion proof does not verify (client.ledger). */
  TB_CLIENT_LEDGER_INVALID: 'the ledger evidence does not verify',
  /** The gateway's log does not extend the last checkpoint this client saw: history rewritten or forked. */
  TB_CLIENT_LEDGER_INCONSISTENT: 'the gateway\'s log is not consistent with a checkpoint seen before',
  /** An electronic certificate (电子证照) does not verify against the directory, or is not canonical. */
  TB_CLIENT_CERTIFICATE_INVALID: 'the electronic certificate does not verify',
  /** An attachment's upload was answered for another file, or a downloaded one is not the file its message names (digest, size) or does not authenticate. */
  TB_CLIENT_ATTACHMENT_INVALID: 'the attachment is not the file the message names',
  /** The entry is not yet under a signed checkpoint (the integrator places it within seconds): ask again. */
  TB_CLIENT_LEDGER_PENDING: 'the ledger entry is not yet under a checkpoint',
} as const

export type ClientErrorCode = keyof typeof CLIENT_ERRORS

/** An error of the SDK: `code` is a TB_CLIENT_* code, or the gateway's TB_ERR_* code when it refused. */
export class TongbanClientError extends Error {
  readonly code: ClientErrorCode | `TB_ERR_${string}`
  /** The gateway's HTTP status, when the gateway answered. */
  readonly status: number | undefined
  /** The gateway's problem document (application/problem+json), when it refused. */
  readonly problem: unknown

  constructor(code: ClientErrorCode | `TB_ERR_${string}`, message: string, options: { status?: number; problem?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TongbanClientError'
    this.code = code
    this.status = options.status
    this.problem = options.problem
  }
}

/** The error for a request the gateway refused (a message, a query, a ledger read): its problem document, and the failing pointers in the message. */
export function refused(what: string, res: { status: number; json: unknown }): TongbanClientError {
  const p = res.json as { code?: string; detail?: string; violations?: Array<{ pointer: string; rule: string }> } | undefined
  const at = p?.violations?.length ? ` at ${p.violations.map((v) => `${v.pointer} (${v.rule})`).join(', ')}` : ''
  const code = typeof p?.code === 'string' && p.code.startsWith('TB_ERR_') ? p.code as `TB_ERR_${string}` : 'TB_ERR_INTERNAL'
  return new TongbanClientError(code, `${what} refused: ${res.status} ${p?.code ?? ''} ${p?.detail ?? ''}${at}`, { status: res.status, problem: res.json })
}
