import t from 'tap'
import { readFileSync } from 'node:fs'
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

t.test('every code is used somewhere in the sources (no dead entries)', async (t) => {
  const { execSync } = await import('node:child_process')
  const src = execSync('grep -rhoE "TB_ERR_[A-Z_]+" src adapters --include=*.ts', { cwd: new URL('../..', import.meta.url).pathname }).toString()
  const used = new Set(src.split('\n').filter(Boolean))
  const unused = Object.keys(ERRORS).filter((c) => ![...used].some((u) => u === c) || src.split(c).length < 3)
  t.same(unused.filter((c) => !src.includes(c)), [], 'all codes referenced')
})
