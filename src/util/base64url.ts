const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const CHARS = /^[A-Za-z0-9_-]*$/

/**
 * True when `s` is base64url without padding (RFC 7515 §2) in its one canonical form: no length
 * that leaves a lone character, and no bit set after the last byte. A decoder ignores such bits,
 * so without this check several texts would carry the same bytes: the same signature or tag
 * written another way would pass as another message.
 */
export function isCanonicalBase64url(s: string): boolean {
  if (!CHARS.test(s)) return false
  const rest = s.length % 4
  if (rest === 0) return true
  if (rest === 1) return false
  const last = ALPHABET.indexOf(s[s.length - 1] as string)
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0
}
