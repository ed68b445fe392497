import t from 'tap'
import { createMessageValidator } from '../../src/core/schemas.ts'

const validator = createMessageValidator()
const CJK = /[\u4e00-\u9fff]/u
type Node = Record<string, unknown>
const isNode = (x: unknown): x is Node => typeof x === 'object' && x !== null && !Array.isArray(x)

/**
 * Every subschema with the path that reached it, and whether it describes a value of its own
 * (root, property, array item, $defs entry) or only constrains one (if/then/else, allOf, oneOf …).
 */
function* walk(node: unknown, path: string, own: boolean): Generator<{ node: Node; path: string; own: boolean; property: boolean }> {
  if (!isNode(node)) return
  yield { node, path, own, property: /\/properties\/[^/]+$/.test(path) }
  for (const key of ['properties', '$defs', 'definitions'] as const) {
    const map = node[key]
    if (isNode(map)) for (const [k, v] of Object.entries(map)) yield* walk(v, `${path}/${key}/${k}`, key === 'properties' ? own : true)
  }
  if (node.items !== undefined) yield* walk(node.items, `${path}/items`, own)
  for (const key of ['if', 'then', 'else', 'not', 'contains'] as const) if (node[key] !== undefined) yield* walk(node[key], `${path}/${key}`, false)
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = node[key]
    if (Array.isArray(list)) for (const [i, v] of list.entries()) yield* walk(v, `${path}/${key}/${i}`, false)
  }
}

const schemas = [
  { name: 'envelope.v1', schema: validator.envelopeSchema() },
  ...validator.types().map(({ type, v }) => ({ name: `${type}.v${v}`, schema: validator.schema(type, v) as object })),
]

t.test('every property at every depth has a description with its Chinese term', async (t) => {
  for (const { name, schema } of schemas) {
    let properties = 0
    for (const { node, path, property } of walk(schema, '#', true)) {
      if (!property) continue
      properties++
      const d = node.description
      t.ok(typeof d === 'string' && CJK.test(d), `${name} ${path}`)
    }
    t.ok(properties > 3, `${name}: walked its properties`)
  }
})

t.test('every schema, $defs entry and array item says what it is, in Chinese', async (t) => {
  for (const { name, schema } of schemas) {
    for (const { node, path } of walk(schema, '#', true)) {
      if (path === '#' || /\/\$defs\/[^/]+$/.test(path) || /\/items$/.test(path)) {
        if (typeof node.$ref === 'string') continue
        t.ok(typeof node.description === 'string' && CJK.test(node.description), `${name} ${path}`)
      }
    }
  }
})

t.test('every object that describes a value forbids additional properties', async (t) => {
  for (const { name, schema } of schemas) {
    for (const { node, path, own } of walk(schema, '#', true)) {
      if (!own || node.type !== 'object' || !isNode(node.properties)) continue
      t.equal(node.additionalProperties, false, `${name} ${path}`)
    }
  }
})

t.test('no schema asks for defaults, coercion or removal', async (t) => {
  for (const { name, schema } of schemas) {
    for (const { node, path } of walk(schema, '#', true)) t.notOk('default' in node, `${name} ${path}: no default`)
  }
})

t.test('personal data uses the property names the gateway redacts', async (t) => {
  // Log redaction and response masking key on name, idType, idNumber, phone, address.
  const banned = /^(xm|zjh|zjhm|sfzh|dh|lxdh|mobile|tel|dz|addr|idNo|idCard|personName|fullName)$/i
  for (const { name, schema } of schemas) {
    for (const { path, property } of walk(schema, '#', true)) {
      if (!property) continue
      const key = path.slice(path.lastIndexOf('/') + 1)
      t.notOk(banned.test(key), `${name} ${path}`)
    }
  }
})
