import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * TOTP (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1, 6 digits, 30-second steps — what every
 * authenticator app reads from an otpauth:// URI. The secret is 20 random bytes (RFC 4226 §4),
 * shown once in base32 (RFC 4648) and stored sealed.
 */
const TOTP_STEP_SECONDS = 30
const DIGITS = 6
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** A new TOTP secret. */
export function newTotpSecret(): Buffer {
  return randomBytes(20)
}

/** Base32 without padding, as authenticator apps take it. */
export function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]
  return out
}

/** Decodes base32 (upper or lower case, spaces and padding ignored); undefined if not base32. */
export function fromBase32(text: string): Buffer | undefined {
  const clean = text.replace(/[\s=]/g, '').toUpperCase()
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const ch of clean) {
    const i = B32.indexOf(ch)
    if (i < 0) return undefined
    value = ((value << 5) | i) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

/** The HOTP value of one counter (RFC 4226 §5.3), as `digits` decimal digits. */
export function hotp(secret: Uint8Array, counter: bigint, digits = DIGITS, hash: 'sha1' | 'sha256' | 'sha512' = 'sha1'): string {
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(counter)
  const mac = createHmac(hash, secret).update(msg).digest()
  const offset = (mac[mac.length - 1] as number) & 0x0f
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits
  return String(code).padStart(digits, '0')
}

/** The time step of an instant. */
export function totpStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_STEP_SECONDS)
}

/**
 * Checks a code against the steps around `at` (one step either side, for clock drift: RFC 6238
 * §5.2) that come after `lastStep`, the last one accepted, so a code is good once. Returns the
 * step it matched, or undefined.
 */
export function checkTotp(secret: Uint8Array, code: string, at: Date, lastStep: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined
  const now = totpStep(at)
  let matched: number | undefined
  for (const step of [now - 1, now, now + 1]) {
    if (step <= lastStep) continue
    // Compare every candidate in constant time, and do not stop at the first match.
    if (timingSafeEqual(Buffer.from(hotp(secret, BigInt(step))), Buffer.from(code)) && matched === undefined) matched = step
  }
  return matched
}

/** The otpauth:// URI an authenticator app scans (Key Uri Format). */
export function otpauthUri(secret: Uint8Array, issuer: string, account: string): string {
  const label = encodeURIComponent(`${issuer}:${account}`)
  return `otpauth://totp/${label}?secret=${base32(secret)}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=${DIGITS}&period=${TOTP_STEP_SECONDS}`
}
