import { parseJws, PublicKey, verifyJws, type JweAlg } from '../crypto/index.ts'
import { TongbanClientError } from './errors.ts'

/** A participant as the gateway publishes it. */
export interface PublishedParticipant {
  readonly id: string
  readonly name: string
  readonly role: string
  readonly divisions: readonly string[]
  readonly signingKeys: ReadonlyArray<{ kid: string; publicKey: string; fingerprint: string; notBefore?: string; notAfter?: string }>
  readonly encryptionKey?: { kid: string; publicKey: string; fingerprint: string }
  /** 'gateway' for a partner behind a shared-secret adapter: the gateway signs what it sends. */
  readonly signedBy: 'self' | 'gateway'
  readonly send: readonly string[]
  readonly receive: readonly string[]
}

interface DirectoryDoc {
  readonly gateway: {
    readonly id: string
    readonly signingKeys: ReadonlyArray<{ kid: string; publicKey: string }>
    readonly encryptionKeys: ReadonlyArray<{ kid: string; alg: JweAlg; publicKey: string }>
  }
  readonly participants: readonly PublishedParticipant[]
  readonly issuedAt: string
}

/** The gateway's signed directory, verified against pinned gateway keys. */
export class PublishedDirectory {
  readonly gatewayId: string
  readonly issuedAt: string
  readonly gatewaySigningKeys: readonly PublicKey[]
  readonly gatewayEncryptionKeys: readonly PublicKey[]
  readonly #participants: Map<string, PublishedParticipant>
  readonly #keys = new Map<string, PublicKey>()

  private constructor(doc: DirectoryDoc) {
    this.gatewayId = doc.gateway.id
    this.issuedAt = doc.issuedAt
    this.gatewaySigningKeys = doc.gateway.signingKeys.map((k) => PublicKey.fromPem(k.kid, k.publicKey))
    this.gatewayEncryptionKeys = doc.gateway.encryptionKeys.map((k) => PublicKey.fromPem(k.kid, k.publicKey))
    this.#participants = new Map(doc.participants.map((p) => [p.id, p]))
  }

  /** Verifies a directory JWS with one of the pinned gateway signing keys. */
  static async verify(jws: string, pinned: readonly PublicKey[]): Promise<PublishedDirectory> {
    const parsed = parseJws(jws)
    const key = pinned.find((k) => k.kid === parsed.header.kid)
    if (key === undefined || parsed.header.typ !== 'tongban+directory' || !(await verifyJws(parsed, key))) {
      throw new TongbanClientError('TB_CLIENT_DIRECTORY_UNTRUSTED', 'the directory is not signed by a pinned gateway key')
    }
    return new PublishedDirectory(JSON.parse(parsed.payload.toString('utf8')) as DirectoryDoc)
  }

  /** A participant by id. */
  participant(id: string): PublishedParticipant | undefined {
    return this.#participants.get(id)
  }

  /** The verification key `kid` of a participant, if published and valid at `now`. */
  signingKey(kid: string, now: Date = new Date()): { owner: string; key: PublicKey } | undefined {
    const owner = kid.split('#')[0] ?? ''
    const entry = this.#participants.get(owner)?.signingKeys.find((k) => k.kid === kid)
    if (entry === undefined) return undefined
    if ((entry.notBefore && now < new Date(entry.notBefore)) || (entry.notAfter && now > new Date(entry.notAfter))) return undefined
    let key = this.#keys.get(kid)
    if (key === undefined) {
      key = PublicKey.fromPem(kid, entry.publicKey)
      this.#keys.set(kid, key)
    }
    return { owner, key }
  }

  /** The gateway encryption key to use with a signing key of `suite`. */
  gatewayEncryptionKey(suite: 'national' | 'international', prefer?: JweAlg): PublicKey {
    const keys = this.gatewayEncryptionKeys.filter((k) => k.suite === suite)
    const key = keys.find((k) => k.jweAlg === prefer) ?? keys[0]
    if (key === undefined) throw new TongbanClientError('TB_CLIENT_NO_GATEWAY_KEY', `the gateway publishes no ${suite} encryption key`)
    return key
  }
}
