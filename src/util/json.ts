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

// C0 controls other than tab, line feed and carriage return (free text may hold those).
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/
// With the u flag a surrogate matches only when it is not half of a pair.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const STRING = /"(?:[^"\\\u0000-\u001F]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"/y

const escapePointer = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1')

interface Frame {
  readonly kind: 'object' | 'array'
  readonly pointer: string
  readonly keys: Set<string>
  index: number
}

class Syntax extends Error {}

/** The fault of one decoded string (a value or a member name), if any. */
function stringFault(s: string, pointer: string, what: string): JsonFault | null {
  if (CONTROL.test(s)) return { pointer, rule: 'control-character', message: `${what} contains a control character (U+0000–U+001F other than tab, LF and CR)` }
  if (LONE_SURROGATE.test(s)) return { pointer, rule: 'unicode', message: `${what} contains an unpaired UTF-16 surrogate (\\uD800–\\uDFFF)` }
  return null
}

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

/** Walks the text once, iteratively (no recursion, whatever the nesting); returns the first fault. */
function scan(text: string): JsonFault | null {
  const stack: Frame[] = []
  let i = 0
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++
      else break
    }
  }
  const readString = (): string => {
    STRING.lastIndex = i
    const m = STRING.exec(text)
    if (m === null) throw new Syntax(`invalid string at offset ${i}`)
    i = STRING.lastIndex
    const raw = m[0]
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1)
  }
  /** The pointer of the value about to be read, in the innermost container. */
  let pendingKey: string | undefined
  const hereOf = (): string => {
    const top = stack[stack.length - 1]
    if (top === undefined) return ''
    return top.kind === 'array' ? `${top.pointer}/${top.index}` : `${top.pointer}/${escapePointer(pendingKey ?? '')}`
  }

  ws()
  for (;;) {
    // Read one value (opening a container pushes a frame and continues with its first member).
    const here = hereOf()
    const c = text[i]
    if (c === '{' || c === '[') {
      if (stack.length >= MAX_JSON_DEPTH) return { pointer: here, rule: 'depth', message: `nesting deeper than ${MAX_JSON_DEPTH} levels` }
      i++
      stack.push({ kind: c === '{' ? 'object' : 'array', pointer: here, keys: new Set(), index: 0 })
      ws()
      const close = c === '{' ? '}' : ']'
      if (text[i] === close) {
        i++
        stack.pop()
      } else if (c === '{') {
        const f = readMember()
        if (f !== null) return f
        continue
      } else {
        continue
      }
    } else if (c === '"') {
      const f = stringFault(readString(), here, 'a string')
      if (f !== null) return f
    } else if (text.startsWith('true', i)) i += 4
    else if (text.startsWith('false', i)) i += 5
    else if (text.startsWith('null', i)) i += 4
    else {
      NUMBER.lastIndex = i
      if (NUMBER.exec(text) === null) throw new Syntax(`unexpected character at offset ${i}`)
      i = NUMBER.lastIndex
    }
    // After a value: the next member, the end of containers, or the end of the text.
    for (;;) {
      ws()
      const top = stack[stack.length - 1]
      if (top === undefined) {
        if (i !== text.length) throw new Syntax(`unexpected data after the JSON value at offset ${i}`)
        return null
      }
      const ch = text[i]
      if (ch === ',') {
        i++
        ws()
        if (top.kind === 'array') {
          top.index++
          break
        }
        const f = readMember()
        if (f !== null) return f
        break
      }
      if ((top.kind === 'object' && ch === '}') || (top.kind === 'array' && ch === ']')) {
        i++
        stack.pop()
        continue
      }
      throw new Syntax(`expected "," or the end of ${top.kind === 'object' ? 'an object' : 'an array'} at offset ${i}`)
    }
  }

  /** Reads `"name" :` of an object member (the value follows); checks the name. */
  function readMember(): JsonFault | null {
    const top = stack[stack.length - 1] as Frame
    if (text[i] !== '"') throw new Syntax(`expected a member name at offset ${i}`)
    const key = readString()
    const nameFault = stringFault(key, top.pointer, 'a member name')
    if (nameFault !== null) return nameFault
    if (top.keys.has(key)) {
      return { pointer: `${top.pointer}/${escapePointer(key)}`, rule: 'duplicate-key', message: 'this member name appears twice in the same object' }
    }
    top.keys.add(key)
    ws()
    if (text[i] !== ':') throw new Syntax(`expected ":" at offset ${i}`)
    i++
    ws()
    pendingKey = key
    return null
  }
}
