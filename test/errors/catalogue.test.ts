import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ERRORS } from '../../src/errors.ts'

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
const rows = new Map<string, { status: number; fault: string }>()
for (const m of doc.matchAll(/^\| `(TB_ERR_[A-Z_]+)` \| (\d{3}) \| (\w+) \|/gm)) {
  rows.set(m[1] as string, { status: Number(m[2]), fault: m[3] as string })
}

t.test('every catalogue code is documented with its status and fault', async (t) => {
  for (const [code, entry] of Object.entries(ERRORS)) {
    const row = rows.get(code)
    t.ok(row, `${code} is in docs/errors.md`)
    if (row) t.same(row, { status: entry.status, fault: entry.fault }, `${code} documented as ${entry.status}/${entry.fault}`)
  }
})

t.test('the docs list no code the catalogue lacks', async (t) => {
  for (const code of rows.keys()) t.ok(code in ERRORS, `${code} exists in src/errors.ts`)
})

// Files that list every code, or name codes to describe them, are no evidence that a code is
// raised: the catalogue itself, and the OpenAPI generator (it names what each route may answer).
const LISTINGS = ['src/errors.ts', 'src/inbound/openapi.ts', 'src/inbound/route-errors.ts']

/** Codes named in the sources (src/, adapters/) outside the listings: the ones actually used. */
function codesInUse(): Set<string> {
  const root = new URL('../..', import.meta.url).pathname
  const files = execFileSync('grep', ['-rlE', 'TB_ERR_[A-Z_]+', 'src', 'adapters', '--include=*.ts'], { cwd: root }).toString().split('\n').filter(Boolean)
  const used = new Set<string>()
  for (const f of files.filter((f) => !LISTINGS.includes(f))) {
    for (const m of readFileSync(join(root, f), 'utf8').matchAll(/TB_ERR_[A-Z_]+/g)) used.add(m[0])
  }
  return used
}

t.test('every code is used somewhere in the sources (no dead entries)', async (t) => {
  const used = codesInUse()
  t.ok(used.size > 20, 'the sources were read')
  t.same(Object.keys(ERRORS).filter((c) => !used.has(c)), [], 'every catalogue code is raised or checked outside the catalogue')
})
