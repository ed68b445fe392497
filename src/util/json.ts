/**
 * Strict reading of signed JSON (envelopes, JOSE headers, token requests, partner answers).
 *
 * JSON.parse keeps the last of two members with the same name, other parsers keep the first: a
 * signed text with a duplicate key reads as two different messages, one checked by the gateway
 * and another acted on by a recipient. Escaped control characters (`\u0000`) and lone surrogates
 * are valid JSON but not storable text (PostgreSQL refuses U+0000) and read differently from one
 * system to the next. This module refuses all three, with the JSON pointer of the first one, so
 * that every party reads a signed text the same way (docs/protocol.md §3).
 */

/** Why a syntactically valid JSON text is still refused. */
export interface JsonFault {
  readonly pointer: string
  readonly rule: 'duplicate-key' | 'control-character' | 'unicode' | 'depth'
  readonly message: string
}

export type StrictJson =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly syntax: true; readonly message: string }
  | { readonly ok: false; readonly syntax: false; readonly fault: JsonFault }

/** Nesting deeper than this is refused: no message schema comes close, and deep input costs stack elsewhere. */
export const MAX_JSON_DEPTH = 64

const escapePointer = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1')

/** An open object or array; its pointer is built from the frames only when a fault needs it. */
interface Frame {
  readonly object: boolean
  /** The member names seen so far (objects; made with the second member). */
  keys: Set<string> | undefined
  /** The name of the member being read (objects). */
  key: string
  /** The index of the element being read (arrays); the members read so far (objects). */
  index: number
}

class Syntax extends Error {}

/** The JSON pointer of the value being read at nesting `depth` (0: the whole text). */
function pointerOf(stack: readonly Frame[], depth: number): string {
  let p = ''
  for (let k = 0; k < depth; k++) {
    const f = stack[k] as Frame
    p += `/${f.object ? escapePointer(f.key) : String(f.index)}`
  }
  return p
}

// What one string holds once decoded, found while it is read (its text is never built).
const CONTROL = 1
const LONE = 2

/** The fault of a decoded string (a value or a member name) with readString's flags (not 0). */
function stringFault(flags: number, pointer: string, what: string): JsonFault {
  if ((flags & CONTROL) !== 0) return { pointer, rule: 'control-character', message: `${what} contains a control character (U+0000–U+001F other than tab, LF and CR)` }
  return { pointer, rule: 'unicode', message: `${what} contains an unpaired UTF-16 surrogate (\\uD800–\\uDFFF)` }
}

// A run of code units that need no look: not a quote, backslash, control or surrogate.
const PLAIN = /[^"\\\u0000-\u001F\uD800-\uDFFF]*/y

const hexValue = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1)

/**
 * Parses `text` as JSON (RFC 8259) and refuses duplicate member names, control characters other
 * than tab/LF/CR, lone surrogates and nesting deeper than MAX_JSON_DEPTH. The value is
 * JSON.parse's own, so nothing else about the reading changes.
 */
export function parseStrictJson(text: string): StrictJson {
  try {
    const fault = scan(text)
    if (fault !== null) return { ok: false, syntax: false, fault }
  } catch (err) {
    if (err instanceof Syntax) return { ok: false, syntax: true, message: err.message }
    throw err
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (err) {
    // The scanner follows the RFC; JSON.parse agreeing is what makes the value trustworthy.
    return { ok: false, syntax: true, message: (err as Error).message }
  }
}

/** Decodes UTF-8 bytes strictly: invalid sequences and a byte-order mark are refused (undefined). */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    // ignoreBOM keeps a BOM in the text, where JSON parsing then refuses it (RFC 8259 §8.1).
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * Walks the text once, iteratively (no recursion, whatever the nesting); returns the first fault.
 * It builds no string but member names (for the duplicate check) and a fault's pointer: the
 * decoded code units of each string are checked as they are read.
 */
function scan(text: string): JsonFault | null {
  const n = text.length
  const stack: Frame[] = []
  let i = 0
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++
      else break
    }
  }
  /** Reads the string at `i` (its opening quote); returns CONTROL and LONE of its decoded code units. */
  const readString = (): number => {
    const start = i
    let j = i + 1
    let flags = 0
    let high = false
    for (;;) {
      if (!high) {
        // (Always matches, maybe nothing; test() allocates no match.)
        PLAIN.lastIndex = j
        PLAIN.test(text)
        j = PLAIN.lastIndex
      }
      if (j >= n) throw new Syntax(`invalid string at offset ${start}`)
      let unit = text.charCodeAt(j)
      if (unit === 0x22) break
      if (unit < 0x20) throw new Syntax(`invalid string at offset ${start}`)
      if (unit === 0x5c) {
        const e = text.charCodeAt(j + 1)
        if (e === 0x75) {
          const a = hexValue(text.charCodeAt(j + 2))
          const b = hexValue(text.charCodeAt(j + 3))
          const c = hexValue(text.charCodeAt(j + 4))
          const d = hexValue(text.charCodeAt(j + 5))
          if ((a | b | c | d) < 0) throw new Syntax(`invalid string at offset ${start}`)
          unit = (a << 12) | (b << 8) | (c << 4) | d
          j += 6
        } else {
          unit = e === 0x22 || e === 0x5c || e === 0x2f ? e : e === 0x62 ? 0x08 : e === 0x66 ? 0x0c : e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : e === 0x74 ? 0x09 : -1
          if (unit < 0) throw new Syntax(`invalid string at offset ${start}`)
          j += 2
        }
      } else {
        j++
      }
      // The decoded code unit: a low surrogate completes a pending high one; anything else leaves it unpaired.
      if (high) {
        high = false
        if (unit >= 0xdc00 && unit <= 0xdfff) continue
        flags |= LONE
      }
      if (unit >= 0xd800 && unit <= 0xdbff) high = true
      else if (unit >= 0xdc00 && unit <= 0xdfff) flags |= LONE
      else if (unit < 0x20 && unit !== 0x09 && unit !== 0x0a && unit !== 0x0d) flags |= CONTROL
    }
    if (high) flags |= LONE
    i = j + 1
    return flags
  }
  /** Reads a number at `i`: the longest prefix that is one (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?). */
  const readNumber = (): void => {
    const start = i
    let j = i
    const digits = (from: number): number => {
      let k = from
      while (k < n && text.charCodeAt(k) >= 0x30 && text.charCodeAt(k) <= 0x39) k++
      return k
    }
    if (text.charCodeAt(j) === 0x2d) j++
    const c = text.charCodeAt(j)
    if (c === 0x30) j++
    else if (c >= 0x31 && c <= 0x39) j = digits(j + 1)
    else throw new Syntax(`unexpected character at offset ${start}`)
    if (text.charCodeAt(j) === 0x2e) {
      const k = digits(j + 1)
      if (k > j + 1) j = k
    }
    const e = text.charCodeAt(j)
    if (e === 0x65 || e === 0x45) {
      const s = text.charCodeAt(j + 1)
      const from = s === 0x2b || s === 0x2d ? j + 2 : j + 1
      const k = digits(from)
      if (k > from) j = k
    }
    i = j
  }

  ws()
  for (;;) {
    // Read one value (opening a container pushes a frame and continues with its first member).
    const c = text.charCodeAt(i)
    if (c === 0x7b || c === 0x5b) {
      if (stack.length >= MAX_JSON_DEPTH) return { pointer: pointerOf(stack, stack.length), rule: 'depth', message: `nesting deeper than ${MAX_JSON_DEPTH} levels` }
      i++
      const object = c === 0x7b
      stack.push({ object, keys: undefined, key: '', index: 0 })
      ws()
      if (text.charCodeAt(i) === (object ? 0x7d : 0x5d)) {
        i++
        stack.pop()
      } else if (object) {
        const f = readMember()
        if (f !== null) return f
        continue
      } else {
        continue
      }
    } else if (c === 0x22) {
      const flags = readString()
      if (flags !== 0) return stringFault(flags, pointerOf(stack, stack.length), 'a string')
    } else if (text.startsWith('true', i)) i += 4
    else if (text.startsWith('false', i)) i += 5
    else if (text.startsWith('null', i)) i += 4
    else readNumber()
    // After a value: the next member, the end of containers, or the end of the text.
    for (;;) {
      ws()
      const top = stack[stack.length - 1]
      if (top === undefined) {
        if (i !== n) throw new Syntax(`unexpected data after the JSON value at offset ${i}`)
        return null
      }
      const ch = text.charCodeAt(i)
      if (ch === 0x2c) {
        i++
        ws()
        if (!top.object) {
          top.index++
          break
        }
        const f = readMember()
        if (f !== null) return f
        break
      }
      if (ch === (top.object ? 0x7d : 0x5d)) {
        i++
        stack.pop()
        continue
      }
      throw new Syntax(`expected "," or the end of ${top.object ? 'an object' : 'an array'} at offset ${i}`)
    }
  }

  /** Reads `"name" :` of an object member (the value follows); checks the name. */
  function readMember(): JsonFault | null {
    const top = stack[stack.length - 1] as Frame
    if (text.charCodeAt(i) !== 0x22) throw new Syntax(`expected a member name at offset ${i}`)
    const start = i
    const flags = readString()
    if (flags !== 0) return stringFault(flags, pointerOf(stack, stack.length - 1), 'a member name')
    const raw = text.slice(start + 1, i - 1)
    const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw
    if (top.index > 0) {
      // (The set is made with the second member: the first's name is still top.key.)
      top.keys ??= new Set([top.key])
      if (top.keys.has(key)) return { pointer: `${pointerOf(stack, stack.length - 1)}/${escapePointer(key)}`, rule: 'duplicate-key', message: 'this member name appears twice in the same object' }
      top.keys.add(key)
    }
    top.index++
    top.key = key
    ws()
    if (text.charCodeAt(i) !== 0x3a) throw new Syntax(`expected ":" at offset ${i}`)
    i++
    ws()
    return null
  }
}
