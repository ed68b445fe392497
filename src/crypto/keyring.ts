import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { writeFileSync, mkdirSync } from 'node:fs'
import { PrivateKey, type PublicKey, type Suite } from './keys.ts'
import { Sealer } from './seal.ts'
import { hmacHex } from './digest.ts'

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
  readonly #token: Buffer
  readonly #sealer: Sealer
  readonly #dir: string
  readonly #partnerSecrets = new Map<string, Buffer>()

  private constructor(dir: string, gatewayId: string, signers: PrivateKey[], decrypters: PrivateKey[], token: Buffer, store: Buffer) {
    this.#dir = dir
    this.gatewayId = gatewayId
    for (const k of signers) this.#signers.set(k.suite, k)
    for (const k of decrypters) this.#decrypters.set(k.kid, k)
    this.#token = token
    this.#sealer = new Sealer(store)
  }

  /** Loads the keys in `dir`; a suite whose keys are absent is simply not offered. */
  static load(dir: string, gatewayId: string): GatewayKeyring {
    const read = (f: string): string | undefined => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined)
    const kid = (f: string): string => `${gatewayId}#${f.replace(/\.key\.pem$/, '')}`
    const load = (f: string): PrivateKey | undefined => {
      const pem = read(f)
      return pem === undefined ? undefined : PrivateKey.fromPem(kid(f), pem)
    }
    const F = GATEWAY_KEY_FILES
    const signers = [load(F.signNational), load(F.signInternational)].filter((k): k is PrivateKey => k !== undefined)
    const decrypters = [load(F.encNational), load(F.encRsa), load(F.encEc)].filter((k): k is PrivateKey => k !== undefined)
    if (signers.length === 0) throw new Error(`no gateway signing key in ${dir} (${F.signNational} or ${F.signInternational})`)
    if (decrypters.length === 0) throw new Error(`no gateway encryption key in ${dir}`)
    const secret = (f: string): Buffer => {
      const text = read(f)
      if (text === undefined) throw new Error(`missing ${f} in ${dir} (32 random bytes, base64)`)
      const b = Buffer.from(text.trim(), 'base64')
      if (b.length !== 32) throw new Error(`${f} in ${dir} must hold 32 bytes, base64`)
      return b
    }
    return new GatewayKeyring(dir, gatewayId, signers, decrypters, secret(F.token), secret(F.store))
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
    if (kid !== undefined) return this.#decrypters.get(kid)
    const candidates = [...this.#decrypters.values()].filter((k) => k.publicKey.jweAlg === alg)
    return candidates.length === 1 ? candidates[0] : undefined
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

  toJSON(): string {
    return `[GatewayKeyring ${this.gatewayId}]`
  }
}
