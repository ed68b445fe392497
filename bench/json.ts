/**
 * `npm run bench:json`: the strict reading of signed JSON (src/util/json.ts: duplicate names,
 * control characters, lone surrogates, depth) against JSON.parse alone, measured in the same run,
 * on what the gateway reads per message: a tax.assessment.request envelope (the JWS payload) and
 * a JOSE protected header. Runs the compiled gateway code (dist/, as `tongban serve` does): tsx's
 * transform adds a call per function it creates, which would be measured too.
 *
 *   --ms N   milliseconds per measurement (default 1000); three rounds, the best of each printed
 *
 * Prints a table and one JSON line: µs per call and strict ÷ JSON.parse.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { ms: { type: 'string' } }, strict: true })
const MS = Number(values.ms ?? 1000)
if (!(MS >= 50)) throw new Error('--ms is a number ≥ 50')

const dist = new URL('../dist/src/util/json.js', import.meta.url)
const { parseStrictJson } = (await import(dist.href)) as typeof import('../src/util/json.ts')

const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/reg/tax-assessment-request.valid.json', import.meta.url), 'utf8')) as { envelope: unknown }
const inputs: Array<[string, string]> = [
  ['envelope (tax.assessment.request)', JSON.stringify(fixture.envelope)],
  ['JOSE protected header', JSON.stringify({ alg: 'SM2SM3', typ: 'tongban+jws', kid: 'REG:231202-sign-2026' })],
]

/** Microseconds per call of `fn(text)`, the best of three rounds of about MS ms each. */
function perCall(fn: (text: string) => unknown, text: string): number {
  let best = Infinity
  for (let round = 0; round < 3; round++) {
    let calls = 0
    const start = performance.now()
    let now = start
    while (now - start < MS) {
      for (let k = 0; k < 200; k++) fn(text)
      calls += 200
      now = performance.now()
    }
    best = Math.min(best, ((now - start) * 1000) / calls)
  }
  return best
}

for (const [, text] of inputs) if (!parseStrictJson(text).ok) throw new Error('an input is refused')
console.log(`${'input'.padEnd(36)}${'bytes'.padStart(7)}${'strict µs'.padStart(11)}${'JSON.parse µs'.padStart(15)}${'ratio'.padStart(8)}`)
const json: Record<string, { bytes: number; strictUs: number; jsonParseUs: number; ratio: number }> = {}
for (const [name, text] of inputs) {
  const strict = perCall(parseStrictJson, text)
  const plain = perCall(JSON.parse, text)
  console.log(`${name.padEnd(36)}${String(text.length).padStart(7)}${strict.toFixed(2).padStart(11)}${plain.toFixed(2).padStart(15)}${(strict / plain).toFixed(2).padStart(8)}`)
  json[name] = { bytes: text.length, strictUs: Math.round(strict * 100) / 100, jsonParseUs: Math.round(plain * 100) / 100, ratio: Math.round((strict / plain) * 100) / 100 }
}
console.log(JSON.stringify(json))
