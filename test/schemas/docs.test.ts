import t from 'tap'
import { readFileSync } from 'node:fs'
import { createMessageValidator } from '../../src/core/schemas.ts'

const validator = createMessageValidator()
const doc = readFileSync(new URL('../../docs/message-types.md', import.meta.url), 'utf8')
type Node = Record<string, unknown>

/** Dotted field paths of a schema as docs/message-types.md lists them (`parties[].idNumber`). */
function paths(node: Node, root: Node, prefix = ''): string[] {
  const resolve = (n: Node): Node => {
    const ref = n.$ref
    if (typeof ref !== 'string') return n
    const target = ref.replace(/^#\//, '').split('/').reduce<unknown>((cur, k) => (cur as Node)[k], root) as Node
    return { ...target, ...n }
  }
  const n = resolve(node)
  const props = (n.properties ?? {}) as Record<string, Node>
  return Object.entries(props).flatMap(([name, sub]) => {
    const s = resolve(sub)
    const here = `${prefix}${name}`
    const items = s.type === 'array' && s.items ? resolve(s.items as Node) : undefined
    return [
      here,
      ...(s.type === 'object' ? paths(s, root, `${here}.`) : []),
      ...(items?.type === 'object' ? paths(items, root, `${here}[].`) : []),
    ]
  })
}

/** The part of the doc under "## <title>", up to the next "## ". */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`)
  if (start < 0) return ''
  const end = doc.indexOf('\n## ', start + 4)
  return doc.slice(start, end < 0 ? undefined : end)
}

t.test('docs/message-types.md documents every field of every schema', async (t) => {
  const all = [{ title: 'Envelope', schema: validator.envelopeSchema() as Node }, ...validator.types().map(({ type, v }) => ({ title: type, schema: validator.schema(type, v) as Node }))]
  for (const { title, schema } of all) {
    const text = section(title)
    t.ok(text.length > 0, `a section for ${title}`)
    const missing = paths(schema, schema).filter((p) => !text.includes(`| \`${p}\` |`))
    t.same(missing, [], `${title}: every field is in the table`)
  }
})

t.test('docs/message-types.md lists every fixture with the error it names', async (t) => {
  const { loadFixtures } = await import('./fixtures.ts')
  for (const f of loadFixtures()) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${f.agency}/${f.file}\` |`))
    t.ok(row, `${f.agency}/${f.file} is listed`)
    if (row && f.expect) t.ok(row.includes(`\`${f.expect.pointer}\` \`${f.expect.rule}\``), `${f.file}: with its pointer and rule`)
  }
})
