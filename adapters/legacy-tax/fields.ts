/**
 * A small engine for declarative field tables: one table per message kind (mapping.ts) says,
 * for every vendor field, the standard field it maps to (a JSON pointer) and how its value
 * converts. The same table maps both ways, validates the vendor's side, and names the vendor
 * field behind a standard JSON pointer (so the gateway's schema errors reach the vendor in its
 * own field names).
 */
import { safeFieldName, type VendorFault } from './vendor.ts'

/** How one field's value converts between the standard and the vendor's. */
export interface Conv {
  /** What the vendor must send, for error answers (it never includes the value). */
  readonly rule: string
  /** Standard value → vendor value; throws RangeError when the vendor format cannot carry it. */
  toVendor(std: unknown): unknown
  /** Vendor value → standard value; undefined when it breaks `rule`. */
  fromVendor(vendor: unknown): unknown
}

/** A scalar field. */
export interface ScalarField {
  readonly vendor: string
  /** JSON pointer into the standard view (e.g. /body/totals/due). */
  readonly std: string
  readonly conv: Conv
  readonly required?: boolean
}

/** A list of flat records (e.g. 交易方信息 jyfxx, 税种明细 mxxx). */
export interface ListField {
  readonly vendor: string
  readonly std: string
  readonly items: FieldTable
  readonly required?: boolean
  readonly min: number
  readonly max: number
}

export type FieldTable = ReadonlyArray<ScalarField | ListField>

const isList = (f: ScalarField | ListField): f is ListField => 'items' in f

function segments(pointer: string): string[] {
  return pointer.split('/').slice(1)
}

function get(obj: unknown, pointer: string): unknown {
  let cur = obj
  for (const s of segments(pointer)) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[s]
  }
  return cur
}

function set(obj: Record<string, unknown>, pointer: string, value: unknown): void {
  const path = segments(pointer)
  let cur = obj
  for (const s of path.slice(0, -1)) {
    const next = cur[s]
    if (typeof next === 'object' && next !== null) cur = next as Record<string, unknown>
    else cur = cur[s] = {}
  }
  cur[path.at(-1) as string] = value
}

/** Maps a standard view to the vendor's flat record. Absent optional values stay absent. */
export function toVendor(table: FieldTable, std: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of table) {
    const v = get(std, f.std)
    if (v === undefined) continue
    out[f.vendor] = isList(f) ? (v as unknown[]).map((item) => toVendor(f.items, item)) : f.conv.toVendor(v)
  }
  return out
}

/**
 * Validates a vendor record against its table and maps it to the standard view, or names the
 * first field at fault. Unknown fields are refused (a misspelt field would otherwise be lost);
 * null and "" count as absent, as vendor systems often send them for empty optional fields.
 */
export function fromVendor(table: FieldTable, record: unknown, prefix = ''): { ok: true; value: Record<string, unknown> } | { ok: false; fault: VendorFault } {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return { ok: false, fault: { field: prefix === '' ? '(body)' : prefix.slice(0, -1), rule: 'must be a JSON object' } }
  }
  const known = new Set(table.map((f) => f.vendor))
  for (const key of Object.keys(record)) {
    if (!known.has(key)) return { ok: false, fault: { field: `${prefix}${safeFieldName(key)}`, rule: 'is not a field of this message' } }
  }
  const out: Record<string, unknown> = {}
  for (const f of table) {
    const field = `${prefix}${f.vendor}`
    const v = (record as Record<string, unknown>)[f.vendor]
    if (v === undefined || v === null || v === '') {
      if (f.required) return { ok: false, fault: { field, rule: 'is required' } }
      continue
    }
    if (isList(f)) {
      if (!Array.isArray(v) || v.length < f.min || v.length > f.max) return { ok: false, fault: { field, rule: `must be a list of ${f.min}–${f.max} records` } }
      const items: unknown[] = []
      for (const [i, item] of v.entries()) {
        const r = fromVendor(f.items, item, `${field}[${i}].`)
        if (!r.ok) return r
        items.push(r.value)
      }
      set(out, f.std, items)
      continue
    }
    const std = f.conv.fromVendor(v)
    if (std === undefined) return { ok: false, fault: { field, rule: f.conv.rule } }
    set(out, f.std, std)
  }
  return { ok: true, value: out }
}

/** The vendor field behind a standard JSON pointer (e.g. /body/items/0/paid → mxxx[0].sjnse), if the table has one. */
export function vendorFieldOf(table: FieldTable, pointer: string, prefix = ''): string | undefined {
  for (const f of table) {
    if (isList(f)) {
      if (pointer === f.std) return `${prefix}${f.vendor}`
      const m = new RegExp(`^${escapeRe(f.std)}/(\\d+)(/.*)?$`).exec(pointer)
      if (m === null) continue
      const inner = m[2] === undefined ? undefined : vendorFieldOf(f.items, m[2], `${prefix}${f.vendor}[${m[1]}].`)
      return inner ?? `${prefix}${f.vendor}[${m[1]}]`
    }
    if (pointer === f.std || pointer.startsWith(`${f.std}/`)) return `${prefix}${f.vendor}`
  }
  // A pointer to a parent object (e.g. /body/invoice) is named by the first field under it.
  const child = table.find((f) => f.std.startsWith(`${pointer}/`))
  return child === undefined ? undefined : `${prefix}${child.vendor}`
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The vendor fields of a table, in order (for the README and tests). */
export function vendorFields(table: FieldTable, prefix = ''): string[] {
  return table.flatMap((f) => (isList(f) ? [`${prefix}${f.vendor}`, ...vendorFields(f.items, `${prefix}${f.vendor}[].`)] : [`${prefix}${f.vendor}`]))
}
