import t from 'tap'
import { loadFixtures, personalData } from './fixtures.ts'

// Organisations (组织机构代码, 营业执照, 统一社会信用代码) are not personal data.
const ORGANISATION_ID_TYPES = new Set(['6', '7', '8'])

/** Personal strings of a body: person objects (they carry idNumber) and property locations. */
function collect(value: unknown, out: { names: Set<string>; idNumbers: Set<string>; phones: Set<string>; addresses: Set<string> }): void {
  if (Array.isArray(value)) return value.forEach((v) => collect(v, out))
  if (typeof value !== 'object' || value === null) return
  const o = value as Record<string, unknown>
  const clear = (x: unknown): x is string => typeof x === 'string' && !x.includes('*')
  if ('idNumber' in o && !ORGANISATION_ID_TYPES.has(String(o.idType))) {
    if (clear(o.name)) out.names.add(o.name)
    if (clear(o.idNumber)) out.idNumbers.add(o.idNumber)
    if (clear(o.phone)) out.phones.add(o.phone)
    if (clear(o.address)) out.addresses.add(o.address)
  }
  if (clear(o.location)) out.addresses.add(o.location)
  Object.values(o).forEach((v) => collect(v, out))
}

t.test('personal-data.json lists every personal string the fixtures use', async (t) => {
  const used = { names: new Set<string>(), idNumbers: new Set<string>(), phones: new Set<string>(), addresses: new Set<string>() }
  for (const f of loadFixtures()) collect(f.envelope.body, used)
  const listed = personalData()
  for (const key of ['names', 'idNumbers', 'phones', 'addresses'] as const) {
    t.ok(used[key].size > 0, `fixtures use some ${key}`)
    t.same([...used[key]].filter((s) => !listed[key].includes(s)), [], `every ${key} is listed`)
  }
})

t.test('the personal data is fake but format-valid where it is meant to be', async (t) => {
  const { names, phones } = personalData()
  t.ok(names.every((n) => /^[\u4e00-\u9fff]{2,4}$/u.test(n)), 'names are plain Chinese names')
  t.ok(phones.filter((p) => p.length === 11).every((p) => /^138\d{8}$/.test(p)), 'mobile numbers are 138…')
})
