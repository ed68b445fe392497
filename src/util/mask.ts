/**
 * Masks for personal data (GB/T 35273-2020, PIPL art. 28): what may appear in a log or a
 * response to a caller who may not see the clear value.
 */

/**
 * `11010519491231002X` → `110***********002X` (resident IDs, 15 or 18 characters: first 3, last 4).
 * Shorter document numbers (passports, permits…) keep only their last third, at most 4
 * characters: `E12345678` → `******678`, so most of the number is always hidden.
 */
export function maskIdNumber(id: string): string {
  if (id.length >= 15) return id.slice(0, 3) + '*'.repeat(id.length - 7) + id.slice(-4)
  const keep = Math.min(4, Math.floor(id.length / 3))
  return '*'.repeat(id.length - keep) + (keep > 0 ? id.slice(-keep) : '')
}

/** `13812345678` → `138****5678`; landlines keep the last 4. */
export function maskPhone(phone: string): string {
  if (/^1\d{10}$/.test(phone)) return `${phone.slice(0, 3)}****${phone.slice(-4)}`
  return phone.length <= 4 ? '*'.repeat(phone.length) : '*'.repeat(phone.length - 4) + phone.slice(-4)
}

/** `张三丰` → `张**`. */
export function maskName(name: string): string {
  const chars = [...name]
  return chars.length === 0 ? '' : (chars[0] as string) + '*'.repeat(Math.max(1, chars.length - 1))
}

/** Keeps the district prefix (up to and including the first 区/县/市), masks the rest. */
export function maskAddress(address: string): string {
  const m = /^.*?[区县市旗]/u.exec(address)
  const keep = m ? m[0] : [...address].slice(0, 3).join('')
  return `${keep}****`
}

// Resident ID numbers (18 chars, last may be X) and mainland mobile numbers, standing alone.
const ID_RE = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g
const MOBILE_RE = /(?<!\d)1[3-9]\d{9}(?!\d)/g

/** Masks every ID number and mobile number found inside free text. */
export function scrubText(text: string): string {
  return text.replace(ID_RE, (m) => maskIdNumber(m)).replace(MOBILE_RE, (m) => maskPhone(m))
}

/** A unit code as a viewer may see it: its division (the first 6 characters), the rest hidden. */
export function maskUnit(code: string): string {
  return code.length <= 6 ? '*'.repeat(code.length) : code.slice(0, 6) + '*'.repeat(code.length - 6)
}

/** Any other identifier (certificate or application number): its last 4 characters. */
export function maskRef(ref: string): string {
  const chars = [...ref]
  return chars.length <= 4 ? '*'.repeat(chars.length) : '*'.repeat(chars.length - 4) + chars.slice(-4).join('')
}
