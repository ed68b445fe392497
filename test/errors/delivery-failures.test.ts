import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DELIVERY_FAILURES, type DeliveryFailureCode } from '../../src/errors.ts'
import { DeliveryError } from '../../src/outbound/adapter.ts'
import { classifyError, classifyStatus } from '../../src/outbound/retry.ts'

// Issue 7, "one failure catalogue": delivery failure codes used to be free strings that meant
// different things in different adapters (PARTNER_BAD_ANSWER was retried by one, final in the
// other). The catalogue decides the retry rule once; docs/adapters.md lists every code with it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const doc = readFileSync(new URL('../../docs/adapters.md', import.meta.url), 'utf8')
const documented = new Map<string, boolean>()
for (const m of doc.matchAll(/^\| `([A-Z0-9_]+)` \| (retry|final) \|/gm)) documented.set(m[1] as string, m[2] === 'retry')
const codes = Object.keys(DELIVERY_FAILURES) as DeliveryFailureCode[]

t.test('docs/adapters.md lists every failure code with the catalogue\'s retry rule, and no other', async (t) => {
  t.same(codes.filter((c) => documented.get(c) !== DELIVERY_FAILURES[c].retry), [], 'documented with the same rule')
  t.same([...documented.keys()].filter((c) => !(c in DELIVERY_FAILURES)), [], 'no code the catalogue lacks')
})

t.test('a DeliveryError takes its retry rule from the catalogue, whatever the adapter', async (t) => {
  t.same(codes.filter((c) => new DeliveryError(c, 'x').retry !== DELIVERY_FAILURES[c].retry), [])
  t.same([400, 404, 408, 429, 500, 503].map((s) => { const e = classifyStatus(s); return e && [e.code, e.retry] }),
    [['PARTNER_4XX', false], ['PARTNER_4XX', false], ['PARTNER_408', true], ['PARTNER_429', true], ['PARTNER_5XX', true], ['PARTNER_5XX', true]])
  t.equal(classifyStatus(204), undefined, 'a 2xx is delivery')
  t.same([classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).code, classifyError(new Error('?')).code], ['NETWORK', 'UNKNOWN'])
})

t.test('every code is used outside the catalogue (no dead entries)', async (t) => {
  // src/errors.ts itself is left out: it names every code, so a grep over it could never fail.
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'src', 'adapters'], { cwd: ROOT }).toString().split('\n')
    .filter((f) => f.endsWith('.ts') && f !== 'src/errors.ts')
  const text = files.map((f) => readFileSync(`${ROOT}/${f}`, 'utf8')).join('\n')
  t.ok(files.length > 20, 'the grep sees the sources')
  t.same(codes.filter((c) => !new RegExp(`'${c}'|\\b${c}\\b`).test(text)), [])
})
