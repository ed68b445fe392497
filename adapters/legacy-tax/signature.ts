/**
 * The link's authentication, the same in both directions and for answers too:
 *
 *   X-Tb-Timestamp: <Unix seconds, decimal>
 *   X-Tb-Signature: lower-case hex of HMAC-SM3(secret, timestamp + "\n" + body)
 *
 * over the exact body bytes, with the timestamp within ±300 s of the receiver's clock. The
 * window bounds replays; inside it a replay is harmless, since both sides drop repeats by 流水号.
 * This file never holds the secret: the caller passes the MAC operation.
 */

export const TIMESTAMP_HEADER = 'x-tb-timestamp'
export const SIGNATURE_HEADER = 'x-tb-signature'
/** How far the sender's timestamp may be from the receiver's clock. */
export const WINDOW_SECONDS = 300

/** The bytes the MAC covers: `timestamp + "\n" + body`. */
export function signingInput(timestamp: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}\n`, 'ascii'), body])
}

/** The two headers that sign `body` at `now`, given the link's MAC operation (hex HMAC-SM3). */
export function signatureHeaders(body: Uint8Array, now: Date, mac: (data: Uint8Array) => string): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000))
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: mac(signingInput(timestamp, body)) }
}

export type SignatureCheck = 'ok' | 'missing' | 'bad' | 'stale'

/**
 * Checks the headers of a request or answer: the MAC first (an unauthenticated caller learns
 * nothing else), then the window. `verify` must compare in constant time.
 */
export function checkSignature(
  headers: Readonly<Record<string, string | undefined>>,
  body: Uint8Array,
  now: Date,
  verify: (data: Uint8Array, macHex: string) => boolean,
): SignatureCheck {
  const timestamp = headers[TIMESTAMP_HEADER]
  const signature = headers[SIGNATURE_HEADER]
  if (timestamp === undefined || signature === undefined) return 'missing'
  if (!/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(signature)) return 'bad'
  if (!verify(signingInput(timestamp, body), signature)) return 'bad'
  return Math.abs(now.getTime() / 1000 - Number(timestamp)) <= WINDOW_SECONDS ? 'ok' : 'stale'
}
