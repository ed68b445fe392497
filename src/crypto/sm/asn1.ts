/**
 * The little DER the SM2 formats need (GM/T 0009 signatures and ciphertexts, SPKI, PKCS#8,
 * SEC1). Strict: definite minimal lengths, no trailing bytes; anything else throws RangeError.
 */

export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30 } as const

/** One DER element. */
export interface Der {
  readonly tag: number
  readonly value: Buffer
}

function readOne(b: Buffer, at: number): { el: Der; end: number } {
  if (at + 2 > b.length) throw new RangeError('DER: truncated')
  const tag = b[at] as number
  if ((tag & 0x1f) === 0x1f) throw new RangeError('DER: multi-byte tags are not supported')
  let len = b[at + 1] as number
  let off = at + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || off + n > b.length) throw new RangeError('DER: bad length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (b[off + i] as number)
    if (len < 0x80 || (n > 1 && b[off] === 0)) throw new RangeError('DER: length not minimal')
    off += n
  }
  if (off + len > b.length) throw new RangeError('DER: truncated')
  return { el: { tag, value: b.subarray(off, off + len) }, end: off + len }
}

/** Parses exactly one element filling `b`. */
export function parse(b: Uint8Array): Der {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  const { el, end } = readOne(buf, 0)
  if (end !== buf.length) throw new RangeError('DER: trailing bytes')
  return el
}

/** The elements inside a constructed element (or any run of elements). */
export function children(b: Buffer): Der[] {
  const out: Der[] = []
  for (let at = 0; at < b.length;) {
    const { el, end } = readOne(b, at)
    out.push(el)
    at = end
  }
  return out
}

/** Parses a SEQUENCE and returns its elements. */
export function sequence(b: Uint8Array | Der): Der[] {
  const el = b instanceof Uint8Array ? parse(b) : b
  if (el.tag !== TAG.SEQUENCE) throw new RangeError('DER: expected a SEQUENCE')
  return children(el.value)
}

/** The unsigned magnitude of a positive, minimally encoded INTEGER. */
export function unsignedInteger(el: Der | undefined): Buffer {
  if (!el || el.tag !== TAG.INTEGER || el.value.length === 0) throw new RangeError('DER: expected an INTEGER')
  const v = el.value
  if ((v[0] as number) & 0x80) throw new RangeError('DER: negative INTEGER')
  if (v.length > 1 && v[0] === 0 && !((v[1] as number) & 0x80)) throw new RangeError('DER: INTEGER not minimal')
  return v[0] === 0 && v.length > 1 ? v.subarray(1) : v
}

/** The dotted form of an OBJECT IDENTIFIER. */
export function oid(el: Der | undefined): string {
  if (!el || el.tag !== TAG.OID || el.value.length === 0) throw new RangeError('DER: expected an OBJECT IDENTIFIER')
  const parts: number[] = []
  let acc = 0
  for (const byte of el.value) {
    acc = acc * 128 + (byte & 0x7f)
    if (!(byte & 0x80)) {
      parts.push(acc)
      acc = 0
    }
  }
  const first = parts.shift() ?? 0
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80]
  return [...head, ...parts].join('.')
}

/** Encodes one element. */
export function encode(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content)
  const n = body.length
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : n < 0x10000 ? Buffer.from([0x82, n >> 8, n & 0xff]) : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), len, body])
}

/** A positive INTEGER from unsigned big-endian bytes. */
export function encodeUnsigned(bytes: Uint8Array): Buffer {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0) i++
  const v = Buffer.from(bytes.subarray(i))
  return encode(TAG.INTEGER, (v[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v)
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function encodeOid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const bytes: number[] = []
  for (const n of [a * 40 + b, ...rest]) {
    const groups = [n & 0x7f]
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80)
    bytes.push(...groups)
  }
  return encode(TAG.OID, Buffer.from(bytes))
}

/** Left-pads an unsigned magnitude to `length` bytes; throws when it is longer. */
export function pad(v: Buffer, length: number): Buffer {
  if (v.length > length) throw new RangeError('DER: integer too large')
  return Buffer.concat([Buffer.alloc(length - v.length), v])
}
