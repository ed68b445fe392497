import { errors as undiciErrors } from 'undici'
import { DeliveryError } from './adapter.ts'

/**
 * A partner's HTTP status as a failure of the catalogue (DELIVERY_FAILURES in src/errors.ts,
 * which decides what is retried, STYLE §7): a 4xx is final (it will refuse the same bytes
 * again), except 408 and 429; 5xx is retried.
 */
export function classifyStatus(status: number): DeliveryError | undefined {
  if (status >= 200 && status < 300) return undefined
  if (status === 408 || status === 429) return new DeliveryError(status === 408 ? 'PARTNER_408' : 'PARTNER_429', `partner answered ${status}`, { httpStatus: status })
  if (status >= 400 && status < 500) return new DeliveryError('PARTNER_4XX', `partner refused the message (${status})`, { httpStatus: status })
  return new DeliveryError('PARTNER_5XX', `partner answered ${status}`, { httpStatus: status })
}

/** Turns anything an adapter threw into a DeliveryError. */
export function classifyError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err
  if (err instanceof undiciErrors.ConnectTimeoutError) return new DeliveryError('CONNECT_TIMEOUT', 'connecting to the partner timed out', { cause: err })
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new DeliveryError('TIMEOUT', 'the partner did not answer in time', { cause: err })
  }
  const code = (err as { code?: string })?.code
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(code)) {
    return new DeliveryError('NETWORK', `network error (${code})`, { cause: err })
  }
  // Unknown failures are retried: losing a message is worse than trying again.
  return new DeliveryError('UNKNOWN', 'delivery failed', { cause: err })
}

/** Exponential backoff with full jitter in [delay/2, delay], capped. */
export function backoffDelay(attemptsMade: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1))
  return Math.round(exp / 2 + (random() * exp) / 2)
}
