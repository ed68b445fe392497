import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A message fixture: an envelope without id/from/iat/nonce, and the error it must produce, if any. */
export interface Fixture {
  readonly file: string
  readonly agency: string
  readonly description: string
  readonly envelope: {
    readonly type: string
    readonly v: number
    readonly to?: string
    readonly caseId?: string
    readonly unitCode?: string
    readonly body: Record<string, unknown>
  }
  readonly expect?: { readonly code: string; readonly pointer?: string; readonly rule?: string }
}

const ROOT = fileURLToPath(new URL('../fixtures/', import.meta.url))
const AGENCIES = ['reg', 'tax', 'housing', 'bank', 'court', 'utility', 'enterprise']

let cache: Fixture[] | undefined

/** Every fixture under test/fixtures/<agency>/. */
export function allFixtures(): Fixture[] {
  if (cache) return cache
  cache = []
  for (const agency of AGENCIES) {
    let files: string[] = []
    try {
      files = readdirSync(join(ROOT, agency)).filter((f) => f.endsWith('.json')).sort()
    } catch {
      continue
    }
    for (const f of files) {
      const raw = JSON.parse(readFileSync(join(ROOT, agency, f), 'utf8')) as Omit<Fixture, 'file' | 'agency'>
      cache.push({ ...raw, file: `${agency}/${f}`, agency })
    }
  }
  return cache
}

/** The valid fixture of a type (the first one, or the first that `pick` accepts). */
export function validFixture(type: string, pick: (f: Fixture) => boolean = () => true): Fixture {
  const f = allFixtures().find((x) => x.envelope.type === type && x.expect === undefined && pick(x))
  if (f === undefined) throw new Error(`no valid fixture of type ${type}`)
  return f
}

/** Invalid fixtures, optionally of one type. */
export function invalidFixtures(type?: string): Fixture[] {
  return allFixtures().filter((x) => x.expect !== undefined && (type === undefined || x.envelope.type === type))
}

/** A deep copy of a fixture's body, to edit in a test. */
export function bodyOf(f: Fixture): Record<string, unknown> {
  return structuredClone(f.envelope.body) as Record<string, unknown>
}
