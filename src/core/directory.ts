import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { PublicKey } from '../crypto/index.ts'
import { checkParticipantId } from './formats.ts'
import { splitParticipantId, type Role } from './roles.ts'

export interface HttpSettings {
  readonly connectTimeoutMs: number
  readonly headersTimeoutMs: number
  readonly bodyTimeoutMs: number
  readonly connections: number
}

interface ValidKey {
  readonly key: PublicKey
  readonly notBefore?: Date
  readonly notAfter?: Date
}

/** A participant as the gateway knows it after boot. */
export interface Participant {
  readonly id: string
  readonly role: Role
  readonly name: string
  readonly divisions: readonly string[]
  readonly signingKeys: readonly ValidKey[]
  /** Absent for partners that authenticate with a shared secret (they receive through their adapter). */
  readonly encryptionKey: PublicKey | undefined
  /** Who signs what this participant sends: itself, or the gateway attesting it (shared-secret adapters). */
  readonly signedBy: 'self' | 'gateway'
  readonly endpoint: string | undefined
  readonly queryEndpoint: string | undefined
  readonly adapter: string
  readonly adapterOptions: Readonly<Record<string, unknown>>
  readonly send: ReadonlySet<string>
  readonly receive: ReadonlySet<string>
  readonly privateNetwork: boolean
  readonly http: HttpSettings
}

export interface Operator {
  readonly id: string
  readonly name: string
  readonly signingKeys: readonly ValidKey[]
}

/** The subject a verified key belongs to. */
export type KeyOwner = { readonly kind: 'participant'; readonly participant: Participant } | { readonly kind: 'operator'; readonly operator: Operator }

/** A directory fault with the JSON pointer where it was found. */
export class DirectoryError extends Error {
  readonly problems: readonly string[]
  constructor(file: string, problems: readonly string[]) {
    super(`invalid participant directory ${file}:\n  - ${problems.join('\n  - ')}`)
    this.name = 'DirectoryError'
    this.problems = problems
  }
}

export interface DirectoryChecks {
  /** The adapters that exist (folders under adapters/), with how their partners authenticate and what they carry. */
  readonly adapters: ReadonlyMap<string, { readonly auth: 'jose' | 'shared-secret'; readonly types?: readonly string[] }>
  /** Whether a message type exists (any version). */
  readonly knownType: (type: string) => boolean
  /** Whether the gateway holds the secret it shares with a participant (shared-secret adapters). */
  readonly hasPartnerSecret?: (participant: string) => boolean
}

const DEFAULT_HTTP: HttpSettings = { connectTimeoutMs: 3_000, headersTimeoutMs: 15_000, bodyTimeoutMs: 15_000, connections: 8 }
const ROUTED_ROLES: readonly Role[] = ['REG', 'TAX', 'HOUSING']

const schema = JSON.parse(readFileSync(new URL('../../schemas/directory.v1.json', import.meta.url), 'utf8')) as object
// strictRequired off: the key's oneOf names properties declared beside it, which strict mode cannot see.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false })
addFormats.default(ajv)
const validate = ajv.compile(schema)

type RawKey = { kid: string; publicKey?: string; publicKeyFile?: string; notBefore?: string; notAfter?: string }
type RawParticipant = {
  id: string; name: string; divisions?: string[]; signingKeys?: RawKey[]; encryptionKey?: RawKey; endpoint?: string; queryEndpoint?: string
  adapter: string; adapterOptions?: Record<string, unknown>; send: string[]; receive: string[]; privateNetwork?: boolean; http?: Partial<HttpSettings>
}
type RawDirectory = { version: 1; participants: RawParticipant[]; operators?: Array<{ id: string; name: string; signingKeys: RawKey[] }> }

/** The participant directory: who may connect, with which keys, to send and receive what. */
export class Directory {
  readonly #participants = new Map<string, Participant>()
  readonly #operators = new Map<string, Operator>()
  readonly #keys = new Map<string, { owner: KeyOwner; key: ValidKey }>()
  readonly #routes = new Map<string, Participant>()

  private constructor(participants: Participant[], operators: Operator[]) {
    for (const p of participants) {
      this.#participants.set(p.id, p)
      for (const k of p.signingKeys) this.#keys.set(k.key.kid, { owner: { kind: 'participant', participant: p }, key: k })
      if (ROUTED_ROLES.includes(p.role)) for (const d of p.divisions) this.#routes.set(`${p.role}/${d}`, p)
    }
    for (const o of operators) {
      this.#operators.set(o.id, o)
      for (const k of o.signingKeys) this.#keys.set(k.key.kid, { owner: { kind: 'operator', operator: o }, key: k })
    }
  }

  /** Reads, validates and builds the directory; every fault is reported with its JSON pointer. */
  static load(file: string, checks: DirectoryChecks): Directory {
    let raw: unknown
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new DirectoryError(file, [`/: ${(err as Error).message}`])
    }
    return Directory.fromJson(raw, checks, { file, baseDir: dirname(resolve(file)) })
  }

  /** Builds the directory from parsed JSON (key files resolve against `baseDir`). */
  static fromJson(raw: unknown, checks: DirectoryChecks, where: { file: string; baseDir: string }): Directory {
    if (!validate(raw)) {
      throw new DirectoryError(where.file, (validate.errors ?? []).map((e) => {
        const extra = e.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty: string }).additionalProperty)}"` : ''
        return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`
      }))
    }
    const dir = raw as RawDirectory
    const problems: string[] = []
    const kids = new Set<string>()
    const routes = new Map<string, string>()

    const readKey = (k: RawKey, owner: string, at: string): ValidKey | undefined => {
      if (!k.kid.startsWith(`${owner}#`)) problems.push(`${at}/kid: must start with "${owner}#"`)
      if (kids.has(k.kid)) problems.push(`${at}/kid: key id used twice`)
      kids.add(k.kid)
      let pem = k.publicKey
      if (pem === undefined && k.publicKeyFile !== undefined) {
        try {
          pem = readFileSync(resolve(where.baseDir, k.publicKeyFile), 'utf8')
        } catch {
          problems.push(`${at}/publicKeyFile: cannot read ${k.publicKeyFile}`)
          return undefined
        }
      }
      try {
        const key = PublicKey.fromPem(k.kid, pem ?? '')
        return {
          key,
          ...(k.notBefore !== undefined ? { notBefore: new Date(k.notBefore) } : {}),
          ...(k.notAfter !== undefined ? { notAfter: new Date(k.notAfter) } : {}),
        }
      } catch (err) {
        problems.push(`${at}: ${(err as Error).message}`)
        return undefined
      }
    }

    const participants: Participant[] = []
    const seen = new Set<string>()
    dir.participants.forEach((p, i) => {
      const at = `/participants/${i}`
      const idProblem = checkParticipantId(p.id)
      const parts = splitParticipantId(p.id)
      if (idProblem !== null || parts === undefined) {
        problems.push(`${at}/id: ${idProblem ?? 'not a participant id'}`)
        return
      }
      if (seen.has(p.id)) problems.push(`${at}/id: participant listed twice`)
      seen.add(p.id)
      const divisions = p.divisions ?? (parts.role === 'BANK' ? [] : [parts.code])
      if (ROUTED_ROLES.includes(parts.role)) {
        for (const d of divisions) {
          const other = routes.get(`${parts.role}/${d}`)
          if (other !== undefined) problems.push(`${at}/divisions: ${parts.role} for division ${d} is already ${other}`)
          routes.set(`${parts.role}/${d}`, p.id)
        }
      }
      const adapter = checks.adapters.get(p.adapter)
      if (adapter === undefined) problems.push(`${at}/adapter: no adapter "${p.adapter}" (known: ${[...checks.adapters.keys()].join(', ')})`)
      p.send.forEach((t, j) => { if (!checks.knownType(t)) problems.push(`${at}/send/${j}: unknown message type ${t}`) })
      p.receive.forEach((t, j) => {
        if (!checks.knownType(t)) problems.push(`${at}/receive/${j}: unknown message type ${t}`)
        else if (adapter?.types !== undefined && !adapter.types.includes(t)) problems.push(`${at}/receive/${j}: the ${p.adapter} adapter cannot deliver ${t}`)
      })
      if (p.receive.length > 0 && p.endpoint === undefined) problems.push(`${at}/endpoint: required for a participant that receives messages`)
      const jose = adapter?.auth !== 'shared-secret'
      if (jose && (p.signingKeys ?? []).length === 0) problems.push(`${at}/signingKeys: required (the ${p.adapter} adapter's partners sign their own messages)`)
      if (jose && p.encryptionKey === undefined) problems.push(`${at}/encryptionKey: required (the ${p.adapter} adapter encrypts to the partner)`)
      if (!jose && (p.signingKeys ?? []).length > 0) problems.push(`${at}/signingKeys: not used with the ${p.adapter} adapter (its partners authenticate with a shared secret; the gateway signs for them)`)
      // Without JOSE the adapter's own format carries the content in clear: only over TLS, or on a
      // link the directory marks as a private network (e.g. 金土工程网).
      if (!jose && p.endpoint !== undefined && !p.endpoint.startsWith('https://') && p.privateNetwork !== true) {
        problems.push(`${at}/endpoint: the ${p.adapter} adapter sends content in clear: use https, or mark the link privateNetwork`)
      }
      if (!jose && checks.hasPartnerSecret !== undefined && !checks.hasPartnerSecret(p.id)) {
        problems.push(`${at}/adapter: the ${p.adapter} adapter needs the secret shared with ${p.id} in the gateway's keys folder (partners/${p.id.replace(/:/g, '_')}.secret)`)
      }
      const signingKeys = (p.signingKeys ?? []).map((k, j) => readKey(k, p.id, `${at}/signingKeys/${j}`)).filter((k): k is ValidKey => k !== undefined)
      const enc = p.encryptionKey === undefined ? undefined : readKey(p.encryptionKey, p.id, `${at}/encryptionKey`)
      if (p.encryptionKey !== undefined && enc === undefined) return
      participants.push({
        id: p.id,
        role: parts.role,
        name: p.name,
        divisions,
        signingKeys,
        encryptionKey: enc?.key,
        signedBy: jose ? 'self' : 'gateway',
        endpoint: p.endpoint,
        queryEndpoint: p.queryEndpoint ?? p.endpoint,
        adapter: p.adapter,
        adapterOptions: Object.freeze({ ...(p.adapterOptions ?? {}) }),
        send: new Set(p.send),
        receive: new Set(p.receive),
        privateNetwork: p.privateNetwork ?? false,
        http: { ...DEFAULT_HTTP, ...(p.http ?? {}) },
      })
    })

    const operators: Operator[] = []
    ;(dir.operators ?? []).forEach((o, i) => {
      if (seen.has(o.id)) problems.push(`/operators/${i}/id: id used twice`)
      seen.add(o.id)
      const signingKeys = o.signingKeys.map((k, j) => readKey(k, o.id, `/operators/${i}/signingKeys/${j}`)).filter((k): k is ValidKey => k !== undefined)
      operators.push({ id: o.id, name: o.name, signingKeys })
    })

    if (problems.length > 0) throw new DirectoryError(where.file, problems)
    return new Directory(participants, operators)
  }

  /** A participant by id. */
  participant(id: string): Participant | undefined {
    return this.#participants.get(id)
  }

  /** Every participant. */
  participants(): Participant[] {
    return [...this.#participants.values()]
  }

  /** An operator by id. */
  operator(id: string): Operator | undefined {
    return this.#operators.get(id)
  }

  /** The agency of `role` that serves `division` (属地), if any. */
  forDivision(role: Role, division: string): Participant | undefined {
    return this.#routes.get(`${role}/${division}`)
  }

  /** The signing key `kid` and its owner, if the key is valid at `now`. */
  signingKey(kid: string, now: Date): { owner: KeyOwner; key: PublicKey } | undefined {
    const entry = this.#keys.get(kid)
    if (entry === undefined) return undefined
    const { notBefore, notAfter } = entry.key
    if ((notBefore !== undefined && now < notBefore) || (notAfter !== undefined && now > notAfter)) return undefined
    return { owner: entry.owner, key: entry.key.key }
  }

  /** What every participant may know about the others (no endpoints, no adapter options). */
  publicView(): object {
    return {
      version: 1,
      participants: this.participants().map((p) => ({
        id: p.id,
        name: p.name,
        role: p.role,
        divisions: p.divisions,
        signingKeys: p.signingKeys.map((k) => ({
          kid: k.key.kid,
          publicKey: k.key.toPem(),
          fingerprint: k.key.fingerprint,
          ...(k.notBefore ? { notBefore: k.notBefore.toISOString() } : {}),
          ...(k.notAfter ? { notAfter: k.notAfter.toISOString() } : {}),
        })),
        ...(p.encryptionKey ? { encryptionKey: { kid: p.encryptionKey.kid, publicKey: p.encryptionKey.toPem(), fingerprint: p.encryptionKey.fingerprint } } : {}),
        signedBy: p.signedBy,
        send: [...p.send].sort(),
        receive: [...p.receive].sort(),
      })),
    }
  }
}
