import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { writeFileSync, mkdirSync } from 'node:fs'
import { PrivateKey, type PublicKey, type Suite } from './keys.ts'
import { Sealer } from './seal.ts'
import { hmacHex } from './digest.ts'
import { SAMPLE_KEYS } from './sample-keys.ts'

/** File names of the gateway's own keys inside its keys folder. */
export const GATEWAY_KEY_FILES = {
  signNational: 'sign-sm2.key.pem',
  signInternational: 'sign-es256.key.pem',
  encNational: 'enc-sm2.key.pem',
  encRsa: 'enc-rsa.key.pem',
  encEc: 'enc-ec.key.pem',
  token: 'token.key',
  store: 'store.key',
} as const

/**
 * The previous encryption key of each algorithm, kept during a rotation: the gateway publishes
 * and prefers the current key (GATEWAY_KEY_FILES), and still decrypts what partners encrypted to
 * the previous one (in flight, or from a partner whose copy of the directory is older). Rotate:
 * move enc-x.key.pem to enc-x.prev.key.pem, write the new enc-x.key.pem, restart the instances
 * one by one; remove the .prev file once every partner has fetched the new directory.
 */
export const PREVIOUS_KEY_FILES = {
  encNational: 'enc-sm2.prev.key.pem',
  encRsa: 'enc-rsa.prev.key.pem',
  encEc: 'enc-ec.prev.key.pem',
} as const

/** A gateway key that is a copy of one of the published samples of certs-example/. */
export interface SampleKeyMatch {
  /** The file in the gateway's keys folder. */
  readonly file: string
  /** The sample it is, e.g. certs-example/gateway/token.key. */
  readonly sample: string
}

/**
 * The fingerprint of a key file as SAMPLE_KEYS lists it: for a private key (PEM) the base64url
 * SHA-256 of its public key's SubjectPublicKeyInfo, so any encoding of the same key matches;
 * for a secret (base64 text) the base64url SHA-256 of its bytes.
 */
export function keyFileFingerprint(file: string): string {
  const text = readFileSync(file, 'utf8')
  return text.includes('-----BEGIN') ? PrivateKey.fromPem('sample', text).publicKey.fingerprint : secretFingerprint(decodeSecret(text))
}

function decodeSecret(text: string): Buffer {
  return Buffer.from(text.trim(), 'base64')
}

function secretFingerprint(secret: Buffer): string {
  return createHash('sha256').update(secret).digest('base64url')
}

/** What the gateway publishes about its own keys. */
export interface GatewayPublicKeys {
  readonly signing: readonly PublicKey[]
  readonly encryption: readonly PublicKey[]
}

/**
 * The gateway's own key material, loaded once from its keys folder. Everything that needs
 * a gateway key asks this object for an operation or an opaque handle.
 */
export class GatewayKeyring {
  readonly gatewayId: string
  readonly #signers = new Map<Suite, PrivateKey>()
  readonly #decrypters = new Map<string, PrivateKey>()
  /** Previous decryption keys, by the kid of the current key they were replaced by. */
  readonly #previous = new Map<string, PrivateKey>()
  readonly #token: Buffer
  readonly #sealer: Sealer
  readonly #store: Buffer
  readonly #dir: string
  readonly #partnerSecrets = new Map<string, Buffer>()
  /** Fingerprint of each key loaded, by file name (sampleKeys()). */
  readonly #fingerprints: ReadonlyMap<string, string>

  private constructor(dir: string, gatewayId: string, signers: PrivateKey[], decrypters: PrivateKey[], previous: ReadonlyMap<string, PrivateKey>, token: Buffer, store: Buffer, fingerprints: ReadonlyMap<string, string>) {
    this.#dir = dir
    this.#fingerprints = fingerprints
    this.gatewayId = gatewayId
    for (const k of signers) this.#signers.set(k.suite, k)
    for (const k of decrypters) this.#decrypters.set(k.kid, k)
    for (const [kid, k] of previous) this.#previous.set(kid, k)
    this.#token = token
    this.#sealer = new Sealer(store)
    this.#store = Buffer.from(store)
  }

  /** Loads the keys in `dir`; a suite whose keys are absent is simply not offered. */
  static load(dir: string, gatewayId: string): GatewayKeyring {
    const read = (f: string): string | undefined => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined)
    const kid = (f: string): string => `${gatewayId}#${f.replace(/\.key\.pem$/, '')}`
    const fingerprints = new Map<string, string>()
    const load = (f: string): PrivateKey | undefined => {
      const pem = read(f)
      if (pem === undefined) return undefined
      const key = PrivateKey.fromPem(kid(f), pem)
      fingerprints.set(f, key.publicKey.fingerprint)
      return key
    }
    const F = GATEWAY_KEY_FILES
    const signers = [load(F.signNational), load(F.signInternational)].filter((k): k is PrivateKey => k !== undefined)
    const decrypters = [load(F.encNational), load(F.encRsa), load(F.encEc)].filter((k): k is PrivateKey => k !== undefined)
    if (signers.length === 0) throw new Error(`no gateway signing key in ${dir} (${F.signNational} or ${F.signInternational})`)
    if (decrypters.length === 0) throw new Error(`no gateway encryption key in ${dir}`)
    const previous = new Map<string, PrivateKey>()
    for (const name of ['encNational', 'encRsa', 'encEc'] as const) {
      const current = decrypters.find((k) => k.kid === kid(F[name]))
      const prev = load(PREVIOUS_KEY_FILES[name])
      if (prev === undefined) continue
      if (current === undefined) throw new Error(`${PREVIOUS_KEY_FILES[name]} in ${dir} without a current ${F[name]}`)
      if (prev.publicKey.jweAlg !== current.publicKey.jweAlg) throw new Error(`${PREVIOUS_KEY_FILES[name]} in ${dir} is not a key of the same algorithm as ${F[name]}`)
      previous.set(current.kid, prev)
    }
    const secret = (f: string): Buffer => {
      const text = read(f)
      if (text === undefined) throw new Error(`missing ${f} in ${dir} (32 random bytes, base64)`)
      const b = decodeSecret(text)
      if (b.length !== 32) throw new Error(`${f} in ${dir} must hold 32 bytes, base64`)
      fingerprints.set(f, secretFingerprint(b))
      return b
    }
    return new GatewayKeyring(dir, gatewayId, signers, decrypters, previous, secret(F.token), secret(F.store), fingerprints)
  }

  /** Writes a complete new set of gateway keys into `dir` (demo, tests, first installation). */
  static generate(dir: string, suites: readonly Suite[] = ['national', 'international'], options: { rsaBits?: number } = {}): void {
    mkdirSync(dir, { recursive: true })
    const F = GATEWAY_KEY_FILES
    const write = (f: string, kind: 'sm2' | 'rsa' | 'ec-p256'): void => {
      writeFileSync(join(dir, f), PrivateKey.generate(f, kind, options).privatePem, { mode: 0o600 })
    }
    if (suites.includes('national')) {
      write(F.signNational, 'sm2')
      write(F.encNational, 'sm2')
    }
    if (suites.includes('international')) {
      write(F.signInternational, 'ec-p256')
      write(F.encRsa, 'rsa')
      write(F.encEc, 'ec-p256')
    }
    writeFileSync(join(dir, F.token), randomBytes(32).toString('base64') + '\n', { mode: 0o600 })
    writeFileSync(join(dir, F.store), randomBytes(32).toString('base64') + '\n', { mode: 0o600 })
  }

  /**
   * The gateway's keys and shared secrets (partners/*.secret) that are published samples
   * (SAMPLE_KEYS): with any of them, anyone can mint tokens, read stored bodies or sign as the gateway.
   */
  sampleKeys(): SampleKeyMatch[] {
    const prints = new Map(this.#fingerprints)
    const partners = join(this.#dir, 'partners')
    if (existsSync(partners)) {
      for (const f of readdirSync(partners).filter((n) => n.endsWith('.secret')).sort()) {
        prints.set(join('partners', f), secretFingerprint(decodeSecret(readFileSync(join(partners, f), 'utf8'))))
      }
    }
    const matches: SampleKeyMatch[] = []
    for (const [file, print] of prints) {
      const sample = SAMPLE_KEYS.get(print)
      if (sample !== undefined) matches.push({ file: join(this.#dir, file), sample })
    }
    return matches
  }

  /** The certificates of the gateway's signing keys kept beside them (sign-sm2.crt.pem, sign-es256.crt.pem), PEM; public. */
  signingCertificates(): string[] {
    return [GATEWAY_KEY_FILES.signNational, GATEWAY_KEY_FILES.signInternational]
      .map((f) => join(this.#dir, f.replace(/\.key\.pem$/, '.crt.pem')))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f, 'utf8'))
  }

  /** Suites the gateway can sign in. */
  get suites(): readonly Suite[] {
    return [...this.#signers.keys()]
  }

  /** The gateway's signing key for `suite`. */
  signer(suite: Suite): PrivateKey | undefined {
    return this.#signers.get(suite)
  }

  /** The decryption key named by a JWE `kid`, or the only one taking `alg` when no kid is given. */
  decrypter(kid: string | undefined, alg: string): PrivateKey | undefined {
    return this.decrypters(kid, alg)[0]
  }

  /**
   * The keys to try, in order, for a JWE with this `kid` and `alg`: the current key, then the
   * previous one of a rotation (PREVIOUS_KEY_FILES), which a partner may still encrypt to under
   * the same kid. Empty when the gateway has no such key.
   */
  decrypters(kid: string | undefined, alg: string): PrivateKey[] {
    let current: PrivateKey | undefined
    if (kid !== undefined) current = this.#decrypters.get(kid)
    else {
      const candidates = [...this.#decrypters.values()].filter((k) => k.publicKey.jweAlg === alg)
      current = candidates.length === 1 ? candidates[0] : undefined
    }
    if (current === undefined) return []
    const prev = this.#previous.get(current.kid)
    return prev === undefined ? [current] : [current, prev]
  }

  /** Public halves, for the published directory and for clients. */
  publicKeys(): GatewayPublicKeys {
    return {
      signing: [...this.#signers.values()].map((k) => k.publicKey),
      encryption: [...this.#decrypters.values()].map((k) => k.publicKey),
    }
  }

  /** HMAC secret for access tokens (handed to @fastify/jwt at registration, nowhere else). */
  tokenSecret(): Buffer {
    return this.#token
  }

  /** Whether the keys folder holds the secret shared with a participant (shared-secret adapters). */
  hasPartnerSecret(participantId: string): boolean {
    return this.#partnerSecrets.has(participantId) || existsSync(this.#secretFile(participantId))
  }

  /** Constant-time check of a MAC a legacy partner sent (hex), with the secret shared with it. */
  verifyPartnerMac(participantId: string, alg: 'SM3' | 'SHA-256', data: Uint8Array, macHex: string): boolean {
    if (!/^[0-9a-fA-F]{64}$/.test(macHex)) return false
    const expected = Buffer.from(this.partnerMac(participantId, alg, data), 'hex')
    return timingSafeEqual(expected, Buffer.from(macHex, 'hex'))
  }

  #secretFile(participantId: string): string {
    return join(this.#dir, 'partners', `${participantId.replace(/:/g, '_')}.secret`)
  }

  /**
   * HMAC with the secret shared with a legacy partner (keys folder: partners/<id with ':' as '_'>.secret,
   * 32+ random bytes, base64). Throws when the partner has no secret.
   */
  partnerMac(participantId: string, alg: 'SM3' | 'SHA-256', data: Uint8Array): string {
    let secret = this.#partnerSecrets.get(participantId)
    if (secret === undefined) {
      const file = this.#secretFile(participantId)
      if (!existsSync(file)) throw new Error(`no shared secret for ${participantId} (${file})`)
      secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
      if (secret.length < 32) throw new Error(`the shared secret for ${participantId} must hold at least 32 bytes`)
      this.#partnerSecrets.set(participantId, secret)
    }
    return hmacHex(alg, secret, data)
  }

  /** Encryption at rest for stored message bodies. */
  sealer(): Sealer {
    return this.#sealer
  }

  /**
   * A secret for one purpose (e.g. signing console session cookies), derived from the store key
   * with HKDF-SHA-256 (RFC 5869), so every instance with the same keys derives the same one and
   * no other use of the store key can be made from it.
   */
  derivedSecret(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#store, Buffer.alloc(0), `tongban ${purpose}`, 32))
  }

  toJSON(): string {
    return `[GatewayKeyring ${this.gatewayId}]`
  }
}
