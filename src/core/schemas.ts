import { readdirSync, readFileSync } from 'node:fs'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { Violation } from '../errors.ts'
import { FORMAT_FAULTS } from './formats.ts'

/** The outcome of a validation: the violations never contain the offending values. */
export type ValidationResult = { ok: true } | { ok: false; violations: Violation[] }

/** Validates envelopes and message bodies against the versioned schemas under schemas/. */
export interface MessageValidator {
  /** Every (type, version) with a body schema. */
  types(): ReadonlyArray<{ type: string; v: number }>
  /** Whether schemas/<type>.v<v>.json exists. */
  hasType(type: string, v: number): boolean
  /** Against schemas/envelope.v1.json. */
  validateEnvelope(payload: unknown): ValidationResult
  /** Against schemas/<type>.v<v>.json; pointers are prefixed with /body. */
  validateBody(type: string, v: number, body: unknown): ValidationResult
  /** The body schema (frozen), for the OpenAPI document and the docs. */
  schema(type: string, v: number): object | undefined
  /** The envelope schema (frozen). */
  envelopeSchema(): object
}

const SCHEMA_DIR = new URL('../../schemas/', import.meta.url)
// envelope, config and directory have no dot in their name, so they never match a type.
const TYPE_FILE = /^([a-z]+(?:\.[a-z]+)+)\.v([1-9]\d*)\.json$/

/** Builds the validator from every schemas/<type>.v<N>.json (and the envelope schema). */
export function createMessageValidator(options: { dir?: URL } = {}): MessageValidator {
  const dir = options.dir ?? SCHEMA_DIR
  const ajv = newAjv()
  const read = (file: string): object => deepFreeze(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as object)

  const envelopeSchema = read('envelope.v1.json')
  const envelope = ajv.compile(envelopeSchema)
  const bodies = new Map<string, { schema: object; validate: ValidateFunction }>()
  for (const file of readdirSync(dir).sort()) {
    const m = TYPE_FILE.exec(file)
    if (m === null) continue
    const schema = read(file)
    try {
      bodies.set(`${m[1]}@${m[2]}`, { schema, validate: ajv.compile(schema) })
    } catch (err) {
      throw new Error(`schemas/${file}: ${(err as Error).message}`, { cause: err })
    }
  }
  const types = [...bodies.keys()].map((k) => {
    const [type = '', v = ''] = k.split('@')
    return Object.freeze({ type, v: Number(v) })
  })

  return {
    types: () => types,
    hasType: (type, v) => bodies.has(`${type}@${v}`),
    validateEnvelope: (payload) => run(envelope, payload, ''),
    validateBody: (type, v, body) => {
      const entry = bodies.get(`${type}@${v}`)
      if (entry === undefined) return { ok: false, violations: [{ pointer: '/type', rule: 'unknown-type', message: 'no body schema for this type and version' }] }
      return run(entry.validate, body, '/body')
    },
    schema: (type, v) => bodies.get(`${type}@${v}`)?.schema,
    envelopeSchema: () => envelopeSchema,
  }
}

/**
 * The token request's payload (schemas/token-request.v1.json), and its `aud`, which must be
 * `gatewayId`. Violations as for messages (never the values).
 */
export function tokenRequestValidator(gatewayId: string, options: { dir?: URL } = {}): (claims: unknown) => ValidationResult {
  const schema = JSON.parse(readFileSync(new URL('token-request.v1.json', options.dir ?? SCHEMA_DIR), 'utf8')) as object
  const validate = newAjv().compile(schema)
  return (claims) => {
    const r = run(validate, claims, '')
    const audWrong = typeof claims === 'object' && claims !== null && typeof (claims as { aud?: unknown }).aud === 'string' && (claims as { aud: string }).aud !== gatewayId
    if (!audWrong) return r
    const violation = { pointer: '/aud', rule: 'const', message: `aud must be this gateway's id, "${gatewayId}" (gateway.id of GET /v1/directory)` }
    return { ok: false, violations: [...(r.ok ? [] : r.violations), violation] }
  }
}

/** A payload against one schema file of schemas/. Violations as for messages (never the values). */
function fileValidator(file: string, dir: URL = SCHEMA_DIR): (payload: unknown) => ValidationResult {
  const validate = newAjv().compile(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as object)
  return (payload) => run(validate, payload, '')
}

/** The payload of a batch (schemas/batch.v1.json). */
export function batchValidator(options: { dir?: URL } = {}): (payload: unknown) => ValidationResult {
  return fileValidator('batch.v1.json', options.dir)
}

/** The key header of an attachment stream (schemas/attachment-key.v1.json). */
export function attachmentKeyValidator(options: { dir?: URL } = {}): (payload: unknown) => ValidationResult {
  return fileValidator('attachment-key.v1.json', options.dir)
}

/** ajv as DESIGN wants it: strict, every error, no coercion, no defaults, nothing removed. */
function newAjv(): Ajv {
  // verbose: errors then carry their schema, which the oneOf/contains messages are built from.
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, coerceTypes: false, useDefaults: false, removeAdditional: false })
  // Only `date` comes from ajv-formats: our date-time and uuid are stricter (see formats.ts).
  addFormats.default(ajv, ['date'])
  for (const [name, check] of Object.entries(FORMAT_FAULTS)) {
    ajv.addFormat(name, { type: 'string', validate: (value: string) => check(value) === null })
  }
  return ajv
}

function run(validate: ValidateFunction, data: unknown, prefix: string): ValidationResult {
  if (validate(data)) return { ok: true }
  return { ok: false, violations: toViolations(validate.errors ?? [], data, prefix) }
}

// Keywords whose subschema errors are only the cause of their own error.
const COMBINATORS = new Set(['oneOf', 'anyOf', 'contains', 'not'])

/**
 * ajv errors → violations. Removes the noise one fault makes: the `if` that only says "then
 * failed", the errors under a failed oneOf/anyOf/contains/not (the combinator speaks for them), and
 * every other error at a pointer whose type is already wrong. Never reads the value into text.
 */
export function toViolations(errors: readonly ErrorObject[], data: unknown, prefix: string): Violation[] {
  const combinators = errors.filter((e) => COMBINATORS.has(e.keyword))
  // Same schema path under the combinator and same or deeper instance: a $def used twice stays apart.
  const inBranch = (e: ErrorObject): boolean => combinators.some((c) =>
    c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`) && (e.instancePath === c.instancePath || e.instancePath.startsWith(`${c.instancePath}/`)))
  const kept = errors.filter((e) => e.keyword !== 'if' && !inBranch(e))
  const mistyped = new Set(kept.filter((e) => e.keyword === 'type').map((e) => e.instancePath))

  const out: Violation[] = []
  const seen = new Set<string>()
  for (const e of kept) {
    if (e.keyword !== 'type' && mistyped.has(e.instancePath)) continue
    const v = { pointer: prefix + pointerOf(e), rule: ruleOf(e), message: messageOf(e, data) }
    const key = `${v.pointer}\u0000${v.rule}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(v)
  }
  return out
}

const escape = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1')

/** A missing or extra property is reported at its own pointer, not its parent's. */
function pointerOf(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>
  if (e.keyword === 'required') return `${e.instancePath}/${escape(String(p.missingProperty))}`
  if (e.keyword === 'additionalProperties') return `${e.instancePath}/${escape(String(p.additionalProperty))}`
  return e.instancePath
}

function ruleOf(e: ErrorObject): string {
  if (e.keyword === 'format') return `format:${String((e.params as { format: string }).format)}`
  // A property set to `false` in a then-branch: present where the other properties forbid it.
  if (e.keyword === 'false schema') return 'forbidden'
  return e.keyword
}

/** Human text built from the schema side only (limits, allowed values, format reasons). */
function messageOf(e: ErrorObject, data: unknown): string {
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    // Property names in `required` come from the schema, never from the data: safe to name.
    case 'required': return `the required property ${JSON.stringify(p.missingProperty)} is missing`
    case 'additionalProperties': return 'this property is not allowed by the schema'
    case 'false schema': return 'this property is not allowed together with the other values of this object'
    case 'type': return `must be of type ${String(p.type)}`
    case 'enum': return `must be one of: ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`
    case 'const': return `must be ${JSON.stringify(p.allowedValue)}`
    case 'pattern': return `must match the pattern ${String(p.pattern)}`
    case 'format': return formatMessage(String(p.format), valueAt(data, e.instancePath))
    case 'oneOf': return oneOfMessage(e)
    case 'anyOf': return 'must match at least one of the allowed alternatives'
    case 'minItems': return `must have at least ${String(p.limit)} item(s)`
    case 'maxItems': return `must have at most ${String(p.limit)} item(s)`
    case 'minLength': return `must be at least ${String(p.limit)} character(s) long`
    case 'maxLength': return `must be at most ${String(p.limit)} character(s) long`
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return `must be ${String(p.comparison)} ${String(p.limit)}`
    case 'uniqueItems': return 'items must be unique'
    case 'contains': return containsMessage(e)
    default: return e.message ?? `breaks the rule ${e.keyword}`
  }
}

function formatMessage(format: string, value: unknown): string {
  const check = FORMAT_FAULTS[format]
  if (check !== undefined && typeof value === 'string') return check(value)?.message ?? `must be a valid ${format}`
  if (format === 'date') return 'must be a calendar date YYYY-MM-DD'
  return `must be a valid ${format}`
}

/** "Exactly one of A, B" when every branch only requires properties (e.g. unitCode | certificateNumber). */
function oneOfMessage(e: ErrorObject): string {
  const branches = Array.isArray(e.schema) ? (e.schema as Array<{ required?: string[] }>) : []
  const names = branches.flatMap((b) => b.required ?? [])
  const passing = (e.params as { passingSchemas: number[] | null }).passingSchemas
  if (names.length === 0 || names.length !== branches.length) return 'must match exactly one of the alternatives'
  return passing === null
    ? `exactly one of ${names.join(', ')} must be given; none is`
    : `exactly one of ${names.join(', ')} must be given; more than one is`
}

/** "must contain an item with side transferee" when the contains schema is one const property. */
function containsMessage(e: ErrorObject): string {
  const props = (e.parentSchema as { contains?: { properties?: Record<string, { const?: unknown }> } }).contains?.properties ?? {}
  const entries = Object.entries(props).filter(([, s]) => s.const !== undefined)
  if (entries.length !== 1) return 'must contain at least one item of the required kind'
  const [name, s] = entries[0] as [string, { const: unknown }]
  return `must contain at least one item with ${name} ${JSON.stringify(s.const)}`
}

/** The value at a JSON pointer (to explain a format failure; the value itself is never reported). */
function valueAt(data: unknown, pointer: string): unknown {
  let cur = data
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
