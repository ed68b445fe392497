import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { TongbanError } from '../errors.ts'
import { isSm2Pem, Sm2PrivateKey, Sm2PublicKey } from './sm/index.ts'

export type KeyKind = 'sm2' | 'rsa' | 'ec-p256'
export type Suite = 'national' | 'international'
export type JwsAlg = 'SM2SM3' | 'PS256' | 'RS256' | 'ES256'
export type JweAlg = 'SM2' | 'RSA-OAEP-256' | 'ECDH-ES+A256KW'

/** Internal access to key material; exported to the crypto room's own files only (not from index.ts). */
export const MATERIAL: unique symbol = Symbol('tongban.keyMaterial')

export type Material = { kind: 'sm2'; sm2: Sm2PublicKey } | { kind: 'rsa' | 'ec-p256'; node: KeyObject }
export type PrivateMaterial = { kind: 'sm2'; sm2: Sm2PrivateKey } | { kind: 'rsa' | 'ec-p256'; node: KeyObject }

const SIG_ALGS: Record<KeyKind, readonly JwsAlg[]> = { sm2: ['SM2SM3'], rsa: ['PS256', 'RS256'], 'ec-p256': ['ES256'] }
const KEY_ALG: Record<KeyKind, JweAlg> = { sm2: 'SM2', rsa: 'RSA-OAEP-256', 'ec-p256': 'ECDH-ES+A256KW' }

/** The suite a JWS or JWE algorithm belongs to. */
export function suiteOfAlg(alg: string): Suite | undefined {
  if (alg === 'SM2SM3' || alg === 'SM2') return 'national'
  if (['PS256', 'RS256', 'ES256', 'RSA-OAEP-256', 'ECDH-ES+A256KW'].includes(alg)) return 'international'
  return undefined
}

/** A public key (signature verification or encryption) with its key id: opaque outside the crypto room. */
export class PublicKey {
  readonly kid: string
  readonly kind: KeyKind
  /** base64url SHA-256 of the SubjectPublicKeyInfo DER. */
  readonly fingerprint: string
  readonly #material: Material
  readonly #pem: string

  private constructor(kid: string, material: Material, spkiDer: Buffer, pem: string) {
    this.kid = kid
    this.kind = material.kind
    this.#material = material
    this.#pem = pem
    this.fingerprint = createHash('sha256').update(spkiDer).digest('base64url')
  }

  /** Reads a PEM SubjectPublicKeyInfo (SM2, RSA ≥ 2048 bits or EC P-256). */
  static fromPem(kid: string, pem: string): PublicKey {
    try {
      if (isSm2Pem(pem)) {
        const sm2 = Sm2PublicKey.fromPem(pem)
        const clean = sm2.toPem()
        return new PublicKey(kid, { kind: 'sm2', sm2 }, derOfPem(clean), clean)
      }
      const node = createPublicKey(pem)
      const kind = nodeKind(node)
      const der = node.export({ type: 'spki', format: 'der' })
      return new PublicKey(kid, { kind, node }, der, node.export({ type: 'spki', format: 'pem' }).toString())
    } catch (err) {
      if (err instanceof TongbanError) throw err
      throw new TongbanError('TB_ERR_BAD_REQUEST', `key ${kid}: not a usable public key`, { cause: err })
    }
  }

  get suite(): Suite {
    return this.kind === 'sm2' ? 'national' : 'international'
  }

  /** JWS algorithms this key verifies. */
  get jwsAlgs(): readonly JwsAlg[] {
    return SIG_ALGS[this.kind]
  }

  /** The JWE key-management algorithm used to encrypt to this key. */
  get jweAlg(): JweAlg {
    return KEY_ALG[this.kind]
  }

  /** The key as PEM SPKI, for publishing in the directory. */
  toPem(): string {
    return this.#pem
  }

  /** @internal crypto room only */
  [MATERIAL](): Material {
    return this.#material
  }
}

/** A private key with its key id. Never leaves the crypto room except as this opaque handle. */
export class PrivateKey {
  readonly kid: string
  readonly kind: KeyKind
  readonly publicKey: PublicKey
  readonly #material: PrivateMaterial

  private constructor(kid: string, material: PrivateMaterial, publicKey: PublicKey) {
    this.kid = kid
    this.kind = material.kind
    this.#material = material
    this.publicKey = publicKey
  }

  /** Reads a PEM private key (PKCS#8, or SEC1/PKCS#1 for international keys). */
  static fromPem(kid: string, pem: string): PrivateKey {
    if (isSm2Pem(pem)) {
      const sm2 = Sm2PrivateKey.fromPem(pem)
      return new PrivateKey(kid, { kind: 'sm2', sm2 }, PublicKey.fromPem(kid, sm2.publicKey.toPem()))
    }
    const node = createPrivateKey(pem)
    const kind = nodeKind(node)
    const pub = createPublicKey(node).export({ type: 'spki', format: 'pem' }).toString()
    return new PrivateKey(kid, { kind, node }, PublicKey.fromPem(kid, pub))
  }

  /** A new key pair of `kind` (tests and `tongban keys generate`). */
  static generate(kid: string, kind: KeyKind, options: { rsaBits?: number } = {}): { privateKey: PrivateKey; privatePem: string } {
    if (kind === 'sm2') {
      const sm2 = Sm2PrivateKey.generate()
      const privatePem = sm2.toPem()
      return { privateKey: PrivateKey.fromPem(kid, privatePem), privatePem }
    }
    const pair = kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: options.rsaBits ?? 3072 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    return { privateKey: PrivateKey.fromPem(kid, privatePem), privatePem }
  }

  get suite(): Suite {
    return this.kind === 'sm2' ? 'national' : 'international'
  }

  /** The default JWS algorithm for this key. */
  get jwsAlg(): JwsAlg {
    return SIG_ALGS[this.kind][0] as JwsAlg
  }

  /** @internal crypto room only */
  [MATERIAL](): PrivateMaterial {
    return this.#material
  }

  // A private key must never end up in a log line or a JSON document by accident.
  toJSON(): string {
    return `[PrivateKey ${this.kid}]`
  }
}

function nodeKind(key: KeyObject): 'rsa' | 'ec-p256' {
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new TongbanError('TB_ERR_BAD_REQUEST', 'RSA keys must have at least 2048 bits')
    return 'rsa'
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ec-p256'
  throw new TongbanError('TB_ERR_BAD_REQUEST', 'unsupported key type: use SM2, RSA (≥ 2048 bits) or EC P-256')
}

function derOfPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
}
