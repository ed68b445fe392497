/**
 * Exact conversions between the vendor's units and the standard ones: money in 元 strings and
 * 万元 numbers, vendor local times (China Standard Time, no offset) and RFC 3339.
 *
 * Money is converted by moving the decimal point in the digits, never by multiplying a
 * float: 12.65 × 10000 is 126500.00000000001 in binary floating point.
 */

const YUAN = /^(0|[1-9]\d{0,14})(?:\.(\d{1,2}))?$/
const MONEY = /^(0|[1-9]\d{0,14})\.(\d{2})$/
// What String() of a 万元 number may look like: no exponent, at most 6 decimals (a fen), at
// most 15 significant digits (below 10^9 万元), so that it is exactly the literal the vendor wrote.
const WAN_TEXT = /^(0|[1-9]\d{0,8})(?:\.(\d{1,6}))?$/

/** A vendor 元 string ("4200", "4200.5", "4200.50") as standard money ("4200.00"); undefined for anything finer than a fen. */
export function yuanFromVendor(text: string): string | undefined {
  const m = YUAN.exec(text)
  if (m === null) return undefined
  return `${m[1]}.${(m[2] ?? '').padEnd(2, '0')}`
}

/**
 * A 万元 number as standard money, exactly: 12.65 → "126500.00", 0.000001 → "0.01".
 * undefined when it is negative, not finite, or finer than a fen (more than 6 decimals).
 * Exact because String() of a double gives back the shortest decimal that reads as it, which
 * is the literal the vendor wrote whenever that literal has at most 15 significant digits
 * (vendor.ts refuses longer literals before parsing).
 */
export function yuanFromWan(wan: number): string | undefined {
  if (!Number.isFinite(wan) || wan < 0) return undefined
  const m = WAN_TEXT.exec(String(wan))
  if (m === null) return undefined
  const frac = (m[2] ?? '').padEnd(6, '0')
  const yuan = `${m[1]}${frac.slice(0, 4)}`.replace(/^0+(?=\d)/, '')
  return `${yuan}.${frac.slice(4)}`
}

/** Standard money as a 万元 number, exactly: "126500.00" → 12.65. Throws RangeError if a double cannot carry it. */
export function wanFromYuan(money: string): number {
  const m = MONEY.exec(money)
  if (m === null) throw new RangeError('not a money string (yuan with two decimals)')
  const digits = (m[1] as string).padStart(5, '0')
  const int = digits.slice(0, -4).replace(/^0+(?=\d)/, '')
  const frac = `${digits.slice(-4)}${m[2] as string}`.replace(/0+$/, '')
  const text = frac === '' ? int : `${int}.${frac}`
  const wan = Number(text)
  // Beyond 15 significant digits (10^13 yuan) a double may round: refuse rather than drift.
  if (String(wan) !== text) throw new RangeError('the amount is too large to be written exactly in 万元')
  return wan
}

const VENDOR_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/
const VENDOR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

function isCalendarDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d))
  return y >= 1900 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d
}

/** A vendor time `YYYY-MM-DD HH:mm:ss` (China Standard Time) as RFC 3339 with +08:00; undefined if it is not a real time. */
export function timeFromVendor(text: string): string | undefined {
  const m = VENDOR_TIME.exec(text)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number]
  if (!isCalendarDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined
  return `${text.slice(0, 10)}T${text.slice(11)}+08:00`
}

/** An RFC 3339 date-time (any offset) as vendor local time in China Standard Time; fractions of a second are dropped. */
export function timeToVendor(rfc3339: string): string {
  // Date.parse reads at most milliseconds: cut finer fractions first (they are dropped anyway).
  const ms = Date.parse(rfc3339.replace(/(\.\d{3})\d+/, '$1'))
  if (Number.isNaN(ms)) throw new RangeError('not an RFC 3339 date-time')
  const cst = new Date(Math.floor(ms / 1000) * 1000 + 8 * 3600_000).toISOString()
  const text = `${cst.slice(0, 10)} ${cst.slice(11, 19)}`
  if (!VENDOR_TIME.test(text)) throw new RangeError('the time is outside the years the vendor format can write')
  return text
}

/** Whether `text` is a vendor date `YYYY-MM-DD` that exists in the calendar. */
export function isVendorDate(text: string): boolean {
  const m = VENDOR_DATE.exec(text)
  return m !== null && isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))
}
