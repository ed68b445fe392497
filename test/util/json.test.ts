import t from 'tap'
import { MAX_JSON_DEPTH, parseStrictJson, type JsonFault } from '../../src/util/json.ts'

/** The outcome in one comparable shape: the value, 'syntax', or the fault's rule and pointer. */
function outcome(text: string): unknown {
  const r = parseStrictJson(text)
  if (r.ok) return { value: r.value }
  if (r.syntax) return 'syntax'
  return { rule: r.fault.rule, pointer: r.fault.pointer }
}

const fault = (rule: JsonFault['rule'], pointer: string) => ({ rule, pointer })

t.test('valid JSON reads as JSON.parse reads it', async (t) => {
  for (const text of ['{}', '[]', ' {"a" : [1, -0, 2.5e-3, 1E+2, true, false, null, "x"] } ', '"\\t\\n\\r\\"\\\\\\/"', '0', '-12.5', '{"😀":"\\ud83d\\ude00","é":"\\u00e9"}', '"\ud83d\\ude00"', '"\\ud83d\ude00"']) {
    t.same(outcome(text), { value: JSON.parse(text) }, text)
  }
})

t.test('not JSON is a syntax error', async (t) => {
  for (const text of ['', ' ', '-', '01', '1.', '1e', '+1', '.5', '"abc', '"a\\x"', '"\\u12g4"', '"\\u12"', '"a\u0001"', '{"a" 1}', '{"a":1,}', '[1,]', '[1 2]', '{a:1}', 'tru', 'nul', '{"a":1}}', '[1]x', '{"a":1', '\ufeff{}']) {
    t.equal(outcome(text), 'syntax', JSON.stringify(text))
    t.throws(() => JSON.parse(text), `JSON.parse agrees: ${JSON.stringify(text)}`)
  }
})

t.test('duplicate member names, at the pointer of the second', async (t) => {
  t.same(outcome('{"a":1,"a":2}'), fault('duplicate-key', '/a'))
  t.same(outcome('{"a":1,"\\u0061":2}'), fault('duplicate-key', '/a'), 'the same name escaped')
  t.same(outcome('{"x":{"b":1,"c":2,"d":3,"c":4}}'), fault('duplicate-key', '/x/c'))
  t.same(outcome('[0,{"a/b~":1,"a/b~":2}]'), fault('duplicate-key', '/1/a~1b~0'), 'pointer escaping (RFC 6901)')
  t.same(outcome('{"a":{"a":1},"b":{"a":1}}'), { value: { a: { a: 1 }, b: { a: 1 } } }, 'the same name in two objects is fine')
})

t.test('control characters other than tab, LF and CR, once decoded', async (t) => {
  t.same(outcome('{"a":"x\\u0000"}'), fault('control-character', '/a'))
  t.same(outcome('{"a":["ok","\\b"]}'), fault('control-character', '/a/1'))
  t.same(outcome('{"a":{"b":"\\f"}}'), fault('control-character', '/a/b'))
  t.same(outcome('"\\u001F"'), fault('control-character', ''))
  t.same(outcome('{"a\\u0007":1}'), fault('control-character', ''), 'in a member name: the pointer of its object')
  t.same(outcome('{"o":{"\\u0000":1}}'), fault('control-character', '/o'))
  t.same(outcome('"\\t\\n\\r\\u0009\\u000a\\u000D"'), { value: '\t\n\r\t\n\r' }, 'tab, LF and CR are free text')
  t.same(outcome('"\\ud800\\u0001"'), fault('control-character', ''), 'a control character is named before a lone surrogate')
})

t.test('lone surrogates, escaped or not; pairs, escaped or not, are fine', async (t) => {
  t.same(outcome('{"a":"\\ud800"}'), fault('unicode', '/a'))
  t.same(outcome('{"a":"\\udc00x"}'), fault('unicode', '/a'))
  t.same(outcome('{"a":"x\ud800"}'), fault('unicode', '/a'))
  t.same(outcome('{"a":"\udc00"}'), fault('unicode', '/a'))
  t.same(outcome('["\\ud800\\ud800\\udc00"]'), fault('unicode', '/0'), 'a high surrogate followed by a pair')
  t.same(outcome('["\\udc00\\ud800"]'), fault('unicode', '/0'), 'a pair in the wrong order')
  t.same(outcome('{"\\ud800":1}'), fault('unicode', ''))
  t.same(outcome('["\\uD83D\\uDE00", "\ud83d\ude00", "\ud83d\\ude00", "\\ud83d\ude00"]'), { value: ['😀', '😀', '😀', '😀'] })
})

t.test(`nesting deeper than ${MAX_JSON_DEPTH} levels`, async (t) => {
  const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`
  t.ok(parseStrictJson(deep(MAX_JSON_DEPTH)).ok, `${MAX_JSON_DEPTH} levels are fine`)
  t.same(outcome(deep(MAX_JSON_DEPTH + 1)), fault('depth', `/${Array(MAX_JSON_DEPTH).fill(0).join('/')}`))
  t.same(outcome(`{"a":${deep(MAX_JSON_DEPTH)}}`), fault('depth', `/a/${Array(MAX_JSON_DEPTH - 1).fill(0).join('/')}`))
  t.same(outcome(`${'['.repeat(100_000)}`), fault('depth', `/${Array(MAX_JSON_DEPTH).fill(0).join('/')}`), 'no recursion: a huge nesting is refused, not a stack overflow')
})

// ---- Generated texts, checked against an oracle that knows what it generated ----

type Node =
  | { readonly t: 'str'; readonly units: readonly number[] }
  | { readonly t: 'lit'; readonly text: string }
  | { readonly t: 'arr'; readonly items: readonly Node[] }
  | { readonly t: 'obj'; readonly members: ReadonlyArray<readonly [readonly number[], Node]> }

let seed = 20261207
const rnd = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return seed / 2 ** 32
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T

/** A code unit: mostly letters, sometimes a control, a surrogate, a quote, a backslash or anything. */
function unit(): number {
  const r = rnd()
  if (r < 0.5) return 0x61 + Math.floor(rnd() * 3)
  if (r < 0.57) return Math.floor(rnd() * 0x20)
  if (r < 0.64) return 0xd800 + Math.floor(rnd() * 0x800)
  if (r < 0.7) return pick([0x22, 0x5c, 0x2f, 0x7e])
  return 0x20 + Math.floor(rnd() * 0xffdf)
}
const units = (): number[] => Array.from({ length: Math.floor(rnd() * 5) }, unit)

function node(depth: number): Node {
  const r = rnd()
  if (depth > 4 || r < 0.4) {
    if (r < 0.2) return { t: 'str', units: units() }
    return { t: 'lit', text: pick(['0', '-0', '12', '1.5', '-3e5', '2E-3', '1e+2', 'true', 'false', 'null']) }
  }
  if (r < 0.7) {
    const names: number[][] = []
    for (let k = Math.floor(rnd() * 4); k > 0; k--) names.push(rnd() < 0.12 && names.length > 0 ? pick(names) : units())
    return { t: 'obj', members: names.map((n) => [n, node(depth + 1)] as const) }
  }
  return { t: 'arr', items: Array.from({ length: Math.floor(rnd() * 4) }, () => node(depth + 1)) }
}

const SHORT: Record<number, string> = { 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x22: '\\"', 0x5c: '\\\\', 0x2f: '\\/' }
/** A string written with each code unit raw where JSON allows it, or escaped (short or \u, either case) at random. */
function write(us: readonly number[]): string {
  let s = '"'
  for (const u of us) {
    const mustEscape = u < 0x20 || u === 0x22 || u === 0x5c
    if (!mustEscape && rnd() < 0.7) s += String.fromCharCode(u)
    else if (SHORT[u] !== undefined && rnd() < 0.5) s += SHORT[u]
    else { const hex = u.toString(16).padStart(4, '0'); s += `\\u${rnd() < 0.5 ? hex : hex.toUpperCase()}` }
  }
  return `${s}"`
}
const ws = (): string => pick(['', '', ' ', '\n', '\t ', '\r\n'])
function text(n: Node): string {
  if (n.t === 'str') return write(n.units)
  if (n.t === 'lit') return n.text
  if (n.t === 'arr') return `[${ws()}${n.items.map(text).join(`${ws()},${ws()}`)}${ws()}]`
  return `{${ws()}${n.members.map(([k, v]) => `${write(k)}${ws()}:${ws()}${text(v)}`).join(`${ws()},${ws()}`)}${ws()}}`
}

/** What a string's code units hold: control characters come first, then unpaired surrogates. */
function unitsRule(us: readonly number[]): JsonFault['rule'] | undefined {
  if (us.some((u) => u < 0x20 && u !== 0x09 && u !== 0x0a && u !== 0x0d)) return 'control-character'
  for (let k = 0; k < us.length; k++) {
    const u = us[k] as number
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = us[k + 1]
      if (next !== undefined && next >= 0xdc00 && next <= 0xdfff) k++
      else return 'unicode'
    } else if (u >= 0xdc00 && u <= 0xdfff) return 'unicode'
  }
  return undefined
}
const segment = (s: string): string => s.replaceAll('~', '~0').replaceAll('/', '~1')

/** The first fault in document order, as the rules say: a name (its object's pointer), a repeat of it, then the value. */
function expected(n: Node, pointer: string): { rule: JsonFault['rule']; pointer: string } | undefined {
  if (n.t === 'str') { const rule = unitsRule(n.units); return rule && { rule, pointer } }
  if (n.t === 'arr') {
    for (const [k, item] of n.items.entries()) { const f = expected(item, `${pointer}/${k}`); if (f) return f }
    return undefined
  }
  if (n.t === 'obj') {
    const seen = new Set<string>()
    for (const [k, v] of n.members) {
      const rule = unitsRule(k)
      if (rule) return { rule, pointer }
      const name = String.fromCharCode(...k)
      if (seen.has(name)) return { rule: 'duplicate-key', pointer: `${pointer}/${segment(name)}` }
      seen.add(name)
      const f = expected(v, `${pointer}/${segment(name)}`)
      if (f) return f
    }
  }
  return undefined
}

t.test('generated texts: the first fault and its pointer are the ones the oracle expects; the rest reads as JSON.parse', async (t) => {
  let wrong = 0
  const seen = new Map<string, number>()
  for (let k = 0; k < 20_000; k++) {
    const n = node(0)
    const s = `${ws()}${text(n)}${ws()}`
    const want = expected(n, '')
    const got = outcome(s)
    const ok = want === undefined ? JSON.stringify(got) === JSON.stringify({ value: JSON.parse(s) }) : JSON.stringify(got) === JSON.stringify(want)
    if (!ok && wrong++ < 5) t.fail(`${JSON.stringify(s)}: expected ${JSON.stringify(want ?? 'its JSON.parse value')}, got ${JSON.stringify(got)}`)
    const kind = want?.rule ?? 'valid'
    seen.set(kind, (seen.get(kind) ?? 0) + 1)
  }
  t.equal(wrong, 0, '20,000 texts')
  for (const kind of ['valid', 'duplicate-key', 'control-character', 'unicode']) t.ok((seen.get(kind) ?? 0) > 500, `${kind}: ${seen.get(kind)} texts`)
})

t.test('generated texts cut or changed at random: never a value JSON.parse refuses, never a syntax error JSON.parse reads', async (t) => {
  let wrong = 0
  let syntax = 0
  for (let k = 0; k < 20_000; k++) {
    const s = text(node(0))
    const at = Math.floor(rnd() * (s.length + 1))
    const r = rnd()
    const m = r < 0.3 ? s.slice(0, at) + s.slice(at + 1) : r < 0.6 ? s.slice(0, at) + pick(['"', '\\', '{', '}', '[', ']', ',', ':', '1', '-', '.', 'e', 'u', ' ']) + s.slice(at) : s.slice(0, at)
    let parsed: { value: unknown } | undefined
    try { parsed = { value: JSON.parse(m) } } catch { parsed = undefined }
    const got = parseStrictJson(m)
    if (!got.ok && got.syntax) syntax++
    const bad = (got.ok && (parsed === undefined || JSON.stringify(parsed.value) !== JSON.stringify(got.value))) || (!got.ok && got.syntax && parsed !== undefined)
    if (bad && wrong++ < 5) t.fail(`${JSON.stringify(m)}: ${JSON.stringify(got)} while JSON.parse ${parsed === undefined ? 'refuses it' : 'reads it'}`)
  }
  t.equal(wrong, 0, '20,000 texts')
  t.ok(syntax > 2_000, `${syntax} of them are not JSON`)
})
