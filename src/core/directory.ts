import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { PkiError, SAMPLE_KEYS, TrustStore, type CertificateInfo, type KeyState, type KeyUse, type PublicKey } from '../crypto/index.ts'
import { systemClock, type Clock } from '../util/ids.ts'
import { AddressSet } from '../util/cidr.ts'
import { checkParticipantId, CREDIT_CODE_ROLES } from './formats.ts'
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
  /**
   * The key deliveries and answers are encrypted to, as chosen at load (encryptionKeyFor decides
   * at each use). Absent for partners that authenticate with a shared secret (they receive
   * through their adapter).
   */
  readonly encryptionKey: PublicKey | undefined
  /** Every encryption key listed (one, or two during a rotation), each with its window. */
  readonly encryptionKeys: readonly ValidKey[]
  /** Who signs what this participant sends: itself, or the gateway attesting it (shared-secret adapters). */
  readonly signedBy: 'self' | 'gateway'
  readonly endpoint: string | undefined
  readonly queryEndpoint: string | undefined
  readonly adapter: string
  readonly adapterOptions: Readonly<Record<string, unknown>>
  readonly send: ReadonlySet<string>
  readonly receive: ReadonlySet<string>
  /** The link is a private network (e.g. 金土工程网): see privateSources. */
  readonly privateNetwork: boolean
  /** On a private network, the source addresses a bare JWS (no encryption) is accepted from. */
  readonly privateSources: AddressSet | undefined
  readonly http: HttpSettings
  /** Budgets overriding the gateway's config quotas for this participant (absent keys: the defaults). */
  readonly quotas?: ParticipantQuotas
  /** Deliveries to this participant in flight at once per gateway process (directory `delivery.concurrency`; absent: config `delivery.concurrency`). */
  readonly deliveryConcurrency?: number
}

/** A participant's own budgets of authenticated calls (directory `quotas`). */
export interface ParticipantQuotas {
  readonly messagesPerMinute?: number
  readonly queriesPerMinute?: number
  readonly queriesInFlight?: number
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
  /**
   * Trust anchors for keys given as certificates (config `pki`); its CRLs are re-read on every
   * load. Without one, bare public keys only.
   */
  readonly trust?: TrustStore
  /** The time certificates are checked against at load (default: the system clock). */
  readonly clock?: Clock
}

const DEFAULT_HTTP: HttpSettings = { connectTimeoutMs: 3_000, headersTimeoutMs: 15_000, bodyTimeoutMs: 15_000, connections: 8 }
const ROUTED_ROLES: readonly Role[] = ['REG', 'TAX', 'HOUSING']

const schema = JSON.parse(readFileSync(new URL('../../schemas/directory.v1.json', import.meta.url), 'utf8')) as object
// strictRequired off: the key's oneOf names properties declared beside it, which strict mode cannot see.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true })
addFormats.default(ajv)
const validate = ajv.compile(schema)

type RawKey = { kid: string; publicKey?: string; publicKeyFile?: string; notBefore?: string; notAfter?: string }
type RawParticipant = {
  id: string; name: string; divisions?: string[]; signingKeys?: RawKey[]; encryptionKey?: RawKey; encryptionKeys?: RawKey[]; endpoint?: string; queryEndpoint?: string
  adapter: string; adapterOptions?: Record<string, unknown>; send: string[]; receive: string[]; privateNetwork?: boolean | { sources: string[] }; http?: Partial<HttpSettings>
  quotas?: ParticipantQuotas
  delivery?: { concurrency?: number }
}
type RawDirectory = { version: 1; participants: RawParticipant[]; operators?: Array<{ id: string; name: string; signingKeys: RawKey[] }> }

/**
 * A participant's private-network mark: `{ sources: [CIDR…] }`, the addresses its link comes
 * from. The bare `true` of earlier directories is refused with a hint: a mark without addresses
 * would waive encryption for anyone holding the participant's token.
 */
function readPrivateNetwork(raw: RawParticipant['privateNetwork'], at: string, problems: string[]): AddressSet | undefined {
  if (raw === undefined || raw === false) return undefined
  if (raw === true) {
    problems.push(`${at}: true is no longer enough: give the link's source addresses, e.g. "privateNetwork": { "sources": ["10.1.0.0/16"] } (a bare JWS is accepted only from them)`)
    return undefined
  }
  const { set, problems: bad } = AddressSet.parse(raw.sources)
  for (const b of bad) problems.push(`${at}/sources/${b.index}: ${b.message}`)
  return set
}

/** The participant directory: who may connect, with which keys, to send and receive what. */
export class Directory {
  // Not readonly: a reload (adopt) replaces them all at once.
  #participants = new Map<string, Participant>()
  #operators = new Map<string, Operator>()
  #keys = new Map<string, { owner: KeyOwner; key: ValidKey }>()
  #routes = new Map<string, Participant>()
  #trust: TrustStore
  #notices: readonly string[]
  #version = 1

  private constructor(participants: Participant[], operators: Operator[], trust: TrustStore, notices: readonly string[]) {
    this.#trust = trust
    this.#notices = notices
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
    const notices: string[] = []
    const trust = checks.trust ?? TrustStore.empty()
    const now = (checks.clock ?? systemClock).now()
    // A new directory is checked against the CRLs as they are now (all or nothing: a bad CRL
    // file is a fault of this load, and the CRLs in force stay as they were).
    try {
      notices.push(...trust.reloadCrls(now))
    } catch (err) {
      if (!(err instanceof PkiError)) throw err
      problems.push(...err.problems.map((p) => `(configuration) ${p}`))
    }
    const kids = new Set<string>()
    const routes = new Map<string, string>()

    const readKey = (k: RawKey, owner: string, at: string, use: KeyUse): ValidKey | undefined => {
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
      // A certificate must chain to an anchor, fit `use` and be valid now (src/crypto/pki.ts).
      const read = trust.readKey(k.kid, pem ?? '', use, now)
      if (!read.ok) {
        problems.push(`${at}: ${read.problem}`)
        return undefined
      }
      notices.push(...read.notices.map((n) => `${at}: ${n}`))
      // The window a key is used in: the entry's notBefore/notAfter within its certificate's.
      const notBefore = latest(k.notBefore === undefined ? undefined : new Date(k.notBefore), read.certificate?.notBefore)
      const notAfter = earliest(k.notAfter === undefined ? undefined : new Date(k.notAfter), read.certificate?.notAfter)
      return { key: read.key, ...(notBefore ? { notBefore } : {}), ...(notAfter ? { notAfter } : {}) }
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
      const divisions = p.divisions ?? (CREDIT_CODE_ROLES.has(parts.role) ? [] : [parts.code])
      // A court's divisions are where it opens cases (a J serial of theirs): one court per division,
      // so two courts never number into one namespace.
      // A utility company's divisions are where it supplies its service: one company per service
      // and division, so a transfer notice has one recipient.
      if (ROUTED_ROLES.includes(parts.role) || parts.role === 'COURT' || parts.role === 'UTILITY') {
        const what = parts.role === 'UTILITY' ? `UTILITY (${parts.subsystem ?? ''})` : parts.role
        for (const d of divisions) {
          const other = routes.get(`${what}/${d}`)
          if (other !== undefined) problems.push(`${at}/divisions: ${what} for division ${d} is already ${other}`)
          routes.set(`${what}/${d}`, p.id)
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
      if (jose && p.encryptionKey === undefined && p.encryptionKeys === undefined) problems.push(`${at}/encryptionKey: required (the ${p.adapter} adapter encrypts to the partner)`)
      if (p.encryptionKey !== undefined && p.encryptionKeys !== undefined) problems.push(`${at}/encryptionKeys: give either encryptionKey or encryptionKeys (a rotation), not both`)
      if (!jose && (p.signingKeys ?? []).length > 0) problems.push(`${at}/signingKeys: not used with the ${p.adapter} adapter (its partners authenticate with a shared secret; the gateway signs for them)`)
      // Without JOSE the adapter's own format carries the content in clear: only over TLS, or on a
      // link the directory marks as a private network (e.g. 金土工程网).
      const privateSources = readPrivateNetwork(p.privateNetwork, `${at}/privateNetwork`, problems)
      if (!jose && p.endpoint !== undefined && !p.endpoint.startsWith('https://') && privateSources === undefined) {
        problems.push(`${at}/endpoint: the ${p.adapter} adapter sends content in clear: use https, or mark the link privateNetwork`)
      }
      if (!jose && checks.hasPartnerSecret !== undefined && !checks.hasPartnerSecret(p.id)) {
        problems.push(`${at}/adapter: the ${p.adapter} adapter needs the secret shared with ${p.id} in the gateway's keys folder (partners/${p.id.replace(/:/g, '_')}.secret)`)
      }
      const signingKeys = (p.signingKeys ?? []).map((k, j) => readKey(k, p.id, `${at}/signingKeys/${j}`, 'signing')).filter((k): k is ValidKey => k !== undefined)
      const rawEnc: Array<[RawKey, string]> = p.encryptionKeys !== undefined
        ? p.encryptionKeys.map((k, j) => [k, `${at}/encryptionKeys/${j}`])
        : p.encryptionKey !== undefined ? [[p.encryptionKey, `${at}/encryptionKey`]] : []
      const encryptionKeys = rawEnc.map(([k, where]) => readKey(k, p.id, where, 'encryption'))
      if (encryptionKeys.some((k) => k === undefined)) return
      const encs = encryptionKeys as ValidKey[]
      if (new Set(encs.map((k) => k.key.jweAlg)).size > 1) problems.push(`${at}/encryptionKeys: both keys of a rotation must take the same algorithm`)
      // At load, the key a use now would pick (the newest valid), else the first listed.
      const enc = newestValid(encs, now, trust) ?? encs[0]
      const participant: Participant = {
        id: p.id,
        role: parts.role,
        name: p.name,
        divisions,
        signingKeys,
        encryptionKey: enc?.key,
        encryptionKeys: encs,
        signedBy: jose ? 'self' : 'gateway',
        endpoint: p.endpoint,
        queryEndpoint: p.queryEndpoint ?? p.endpoint,
        adapter: p.adapter,
        adapterOptions: Object.freeze({ ...(p.adapterOptions ?? {}) }),
        send: new Set(p.send),
        receive: new Set(p.receive),
        privateNetwork: privateSources !== undefined,
        privateSources,
        http: { ...DEFAULT_HTTP, ...(p.http ?? {}) },
        ...(p.quotas ? { quotas: Object.freeze({ ...p.quotas }) } : {}),
        ...(p.delivery?.concurrency !== undefined ? { deliveryConcurrency: p.delivery.concurrency } : {}),
      }
      problems.push(...plainHttpProblems(participant, at))
      participants.push(participant)
    })

    const operators: Operator[] = []
    ;(dir.operators ?? []).forEach((o, i) => {
      if (seen.has(o.id)) problems.push(`/operators/${i}/id: id used twice`)
      seen.add(o.id)
      const signingKeys = o.signingKeys.map((k, j) => readKey(k, o.id, `/operators/${i}/signingKeys/${j}`, 'signing')).filter((k): k is ValidKey => k !== undefined)
      operators.push({ id: o.id, name: o.name, signingKeys })
    })

    if (problems.length > 0) throw new DirectoryError(where.file, problems)
    return new Directory(participants, operators, trust, notices)
  }

  /** Warnings of the load, for the log: a stale CRL, a key whose certificate is revoked. */
  get notices(): readonly string[] {
    return this.#notices
  }

  /** Counts the loads this object has taken (1 at boot, one more per successful reload). */
  get version(): number {
    return this.#version
  }

  /**
   * A reload: this directory takes over `next`'s content in one synchronous step, so that every
   * service holding this object sees the new directory at once, and a request sees the old one or
   * the new one, never a mixture within one call. `next` was built and validated whole before.
   */
  adopt(next: Directory): void {
    this.#participants = next.#participants
    this.#operators = next.#operators
    this.#keys = next.#keys
    this.#routes = next.#routes
    this.#trust = next.#trust
    this.#notices = next.#notices
    this.#version += 1
  }

  /**
   * The key to encrypt to for `p` at `now`: of its encryption keys those within their window and
   * not revoked, the newest (latest notBefore; on a tie, the one listed last). Undefined when
   * none may be used (or the participant has none).
   */
  encryptionKeyFor(p: Participant, now: Date): PublicKey | undefined {
    return newestValid(p.encryptionKeys, now, this.#trust)?.key
  }

  /**
   * Keys of this directory (participants', operators', and the trust anchors') that are published
   * samples of certs-example/ (SAMPLE_KEYS): their private halves are public, so anyone could sign
   * as that participant or operator — or issue certificates under that anchor.
   */
  sampleKeys(): Array<{ where: string; sample: string }> {
    const out: Array<{ where: string; sample: string }> = []
    const check = (where: string, fingerprint: string): void => {
      const sample = SAMPLE_KEYS.get(fingerprint)
      if (sample !== undefined) out.push({ where, sample })
    }
    for (const p of this.#participants.values()) {
      for (const k of p.signingKeys) check(k.key.kid, k.key.fingerprint)
      for (const k of p.encryptionKeys) check(k.key.kid, k.key.fingerprint)
    }
    for (const o of this.#operators.values()) for (const k of o.signingKeys) check(k.key.kid, k.key.fingerprint)
    for (const a of this.#trust.anchorFingerprints()) check(`trust anchor ${a.at}`, a.fingerprint)
    return out
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
    const found = this.signingKeyStatus(kid, now)
    return found.state === 'valid' ? { owner: found.owner, key: found.key } : undefined
  }

  /**
   * The signing key `kid`, its owner and whether it may be used at `now`: within its window
   * (the entry's notBefore/notAfter and its certificate's) and not revoked by the CRLs in force.
   */
  signingKeyStatus(kid: string, now: Date): { state: 'unknown' } | { state: KeyState; owner: KeyOwner; key: PublicKey } {
    const entry = this.#keys.get(kid)
    if (entry === undefined) return { state: 'unknown' }
    return { state: stateAt(entry.key, now, this.#trust), owner: entry.owner, key: entry.key.key }
  }

  /** Whether a key of this directory (e.g. an encryption key) may be used at `now`: its certificate's validity and the CRLs in force. */
  keyState(key: PublicKey, now: Date): KeyState {
    return this.#trust.state(key, now)
  }

  /** The trust store the directory was checked with (its CRLs can be re-read without a directory reload). */
  get trust(): TrustStore {
    return this.#trust
  }

  /** Every key given as a certificate, with its owner and use (`tongban directory check` reports on them). */
  certifiedKeys(): Array<{ owner: string; kid: string; use: KeyUse; key: PublicKey; certificate: CertificateInfo }> {
    const keys: Array<{ owner: string; use: KeyUse; key: PublicKey }> = []
    for (const p of this.#participants.values()) {
      for (const k of p.signingKeys) keys.push({ owner: p.id, use: 'signing', key: k.key })
      for (const k of p.encryptionKeys) keys.push({ owner: p.id, use: 'encryption', key: k.key })
    }
    for (const o of this.#operators.values()) for (const k of o.signingKeys) keys.push({ owner: o.id, use: 'signing', key: k.key })
    return keys.flatMap((k) => {
      const certificate = this.#trust.certificate(k.key)
      return certificate === undefined ? [] : [{ ...k, kid: k.key.kid, certificate }]
    })
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
        ...(p.encryptionKeys.length > 1 ? {
          encryptionKeys: p.encryptionKeys.map((k) => ({
            kid: k.key.kid, publicKey: k.key.toPem(), fingerprint: k.key.fingerprint,
            ...(k.notBefore ? { notBefore: k.notBefore.toISOString() } : {}), ...(k.notAfter ? { notAfter: k.notAfter.toISOString() } : {}),
          })),
        } : {}),
        signedBy: p.signedBy,
        send: [...p.send].sort(),
        receive: [...p.receive].sort(),
      })),
    }
  }
}

/** Whether a directory key may be used at `now`: not revoked, and within its window (the entry's within its certificate's). */
function stateAt(k: ValidKey, now: Date, trust: TrustStore): KeyState {
  const certified = trust.state(k.key, now)
  if (certified === 'revoked') return 'revoked'
  if (k.notBefore !== undefined && now < k.notBefore) return 'not-yet-valid'
  if (k.notAfter !== undefined && now > k.notAfter) return 'expired'
  return certified
}

/** Of `keys`, the newest that may be used at `now` (latest notBefore; on a tie, the one listed last). */
function newestValid(keys: readonly ValidKey[], now: Date, trust: TrustStore): ValidKey | undefined {
  let best: ValidKey | undefined
  for (const k of keys) {
    if (stateAt(k, now, trust) !== 'valid') continue
    if (best === undefined || (k.notBefore?.getTime() ?? -Infinity) >= (best.notBefore?.getTime() ?? -Infinity)) best = k
  }
  return best
}

function latest(a: Date | undefined, b: Date | undefined): Date | undefined {
  return a === undefined ? b : b === undefined || a > b ? a : b
}

function earliest(a: Date | undefined, b: Date | undefined): Date | undefined {
  return a === undefined ? b : b === undefined || a < b ? a : b
}

/**
 * Deliveries and queries over plain http expose who talks to whom, and the headers, to the
 * network: only on a link marked as a private network, or to a loopback host (nothing crosses a
 * network: tests, local trials). Partners of shared-secret adapters have a stricter rule above.
 */
function plainHttpProblems(p: Participant, at: string): string[] {
  if (p.signedBy === 'gateway' || p.privateNetwork) return []
  const endpoints: Array<[string, string | undefined]> = [['endpoint', p.endpoint]]
  if (p.queryEndpoint !== p.endpoint) endpoints.push(['queryEndpoint', p.queryEndpoint])
  return endpoints
    .filter(([, url]) => url !== undefined && url.startsWith('http://') && !isLoopback(url))
    .map(([key]) => `${at}/${key}: plain http outside a private network: use https, or mark the link privateNetwork with its source addresses (plain http is allowed to a loopback host only)`)
}

/** Whether `url` names this machine: 127.0.0.0/8, ::1 or localhost. */
function isLoopback(url: string): boolean {
  let host: string
  try {
    host = new URL(url).hostname
  } catch {
    return false
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
