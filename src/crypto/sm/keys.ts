/**
 * SM2 key objects. The scalar d never leaves Sm2PrivateKey: callers sign, decrypt and export
 * PEM through methods, and the operations run on the selected backend (or one passed in). Each
 * operation has an `…Async` twin that runs the scalar work off the event loop (native backend).
 */
import { inspect } from 'node:util'
import { SM2_N, asBuffer, fromBytes, normalizePoint, toBytes } from './curve.ts'
import type { Sm2Id, SmBackend } from './backend.ts'
import { SmError } from './errors.ts'
import { isSm2PemText, keyBlock, pkcs8Pem, readPrivatePem, readSpki, spkiDer, spkiOfCertificate, spkiPem } from './pem.ts'
import { sm } from './select.ts'

function keyError(message: string, cause?: unknown): SmError {
  return new SmError('ERR_SM_KEY', message, cause === undefined ? {} : { cause })
}

/** True for a PEM SPKI, PKCS#8, SEC1 key or X.509 certificate on the SM2 curve (1.2.156.10197.1.301). */
export function isSm2Pem(pem: string): boolean {
  return isSm2PemText(pem)
}

/** An SM2 public key: a validated point on the curve, never infinity. */
export class Sm2PublicKey {
  readonly #point: Buffer

  private constructor(point: Buffer) {
    this.#point = point
  }

  /** From 65 bytes 04‖x‖y (or 33 compressed); throws ERR_SM_KEY when not on the curve. */
  static fromPoint(point: Uint8Array): Sm2PublicKey {
    try {
      return new Sm2PublicKey(normalizePoint(point))
    } catch (err) {
      throw keyError('not a point on the SM2 curve', err)
    }
  }

  /**
   * From a PEM SubjectPublicKeyInfo, or the key of a PEM X.509 certificate (taken as is: the
   * certificate is not validated here); throws ERR_SM_KEY when it is not a valid SM2 key.
   */
  static fromPem(pem: string): Sm2PublicKey {
    const block = keyBlock(pem)
    if (block?.label !== 'PUBLIC KEY' && block?.label !== 'CERTIFICATE') throw keyError('no PUBLIC KEY or CERTIFICATE block')
    let point: Buffer
    try {
      point = readSpki(block.label === 'CERTIFICATE' ? spkiOfCertificate(block.der) : block.der)
    } catch (err) {
      throw keyError('not an SM2 public key', err)
    }
    return Sm2PublicKey.fromPoint(point)
  }

  /** 65 bytes 04‖x‖y (a copy). */
  get point(): Buffer {
    return Buffer.from(this.#point)
  }

  /** PEM SubjectPublicKeyInfo, readable by OpenSSL 3. */
  toPem(): string {
    return spkiPem(this.#point)
  }

  /** DER SubjectPublicKeyInfo. */
  toDer(): Buffer {
    return spkiDer(this.#point)
  }

  /** True when r‖s signs `msg` (default user ID unless `id`); false for any malformed signature. */
  verify(msg: Uint8Array, sig: Uint8Array, opts: { id?: Sm2Id; backend?: SmBackend } = {}): boolean {
    const b = opts.backend ?? sm()
    return opts.id === undefined ? b.sm2Verify(this.#point, msg, sig) : b.sm2Verify(this.#point, msg, sig, { id: opts.id })
  }

  /** SM2 encryption to this key, C1‖C3‖C2. */
  encrypt(plaintext: Uint8Array, opts: { backend?: SmBackend } = {}): Buffer {
    return (opts.backend ?? sm()).sm2Encrypt(this.#point, plaintext)
  }

  /** `verify` with the scalar work on the threadpool; never rejects. */
  async verifyAsync(msg: Uint8Array, sig: Uint8Array, opts: { id?: Sm2Id; backend?: SmBackend } = {}): Promise<boolean> {
    const b = opts.backend ?? sm()
    return opts.id === undefined ? b.sm2VerifyAsync(this.#point, msg, sig) : b.sm2VerifyAsync(this.#point, msg, sig, { id: opts.id })
  }

  /** `encrypt` with the scalar work on the threadpool. */
  async encryptAsync(plaintext: Uint8Array, opts: { backend?: SmBackend } = {}): Promise<Buffer> {
    return (opts.backend ?? sm()).sm2EncryptAsync(this.#point, plaintext)
  }

  /** True for the same point. */
  equals(other: Sm2PublicKey): boolean {
    return this.#point.equals(other.#point)
  }
}

/** An SM2 private key, d in [1, n-2], with its public key. */
export class Sm2PrivateKey {
  readonly #d: Buffer
  readonly publicKey: Sm2PublicKey

  private constructor(d: Buffer, publicKey: Sm2PublicKey) {
    this.#d = d
    this.publicKey = publicKey
  }

  /** From the 32-byte scalar d (test vectors, key import); throws ERR_SM_KEY outside [1, n-2]. */
  static fromScalar(d: Uint8Array | bigint): Sm2PrivateKey {
    const dv = typeof d === 'bigint' ? d : d.length <= 32 ? fromBytes(d) : 0n
    if (dv < 1n || dv > SM2_N - 2n) throw keyError('an SM2 private key lies in [1, n-2]')
    const db = toBytes(dv)
    return new Sm2PrivateKey(db, Sm2PublicKey.fromPoint(sm().sm2PublicFromPrivate(db)))
  }

  /** From PEM PKCS#8 or SEC1; throws ERR_SM_KEY when invalid or when its public key does not match d. */
  static fromPem(pem: string): Sm2PrivateKey {
    let parsed: { d: Buffer; point?: Buffer }
    try {
      parsed = readPrivatePem(pem)
    } catch (err) {
      throw keyError('not an SM2 private key', err)
    }
    // Some tools strip leading zero bytes of d or keep a sign byte; the value is what counts.
    if (parsed.d.length > 33 || (parsed.d.length === 33 && parsed.d[0] !== 0)) throw keyError('an SM2 private key is 32 bytes')
    const key = Sm2PrivateKey.fromScalar(parsed.d.subarray(parsed.d.length - Math.min(32, parsed.d.length)))
    if (parsed.point !== undefined) {
      let stated: Sm2PublicKey
      try {
        stated = Sm2PublicKey.fromPoint(parsed.point)
      } catch (err) {
        throw keyError('the public key inside the private key file is not on the curve', err)
      }
      if (!stated.equals(key.publicKey)) throw keyError('the public key inside the private key file does not match d')
    }
    return key
  }

  /** A new random key pair. */
  static generate(): Sm2PrivateKey {
    return Sm2PrivateKey.fromScalar(sm().sm2GeneratePrivate())
  }

  /** PEM PKCS#8, readable by OpenSSL 3. */
  toPem(): string {
    return pkcs8Pem(this.#d, this.publicKey.point)
  }

  /** SM2 signature r‖s (64 bytes) of `msg` (default user ID unless `id`). */
  sign(msg: Uint8Array, opts: { id?: Sm2Id; backend?: SmBackend } = {}): Buffer {
    const b = opts.backend ?? sm()
    const pair = { d: this.#d, point: this.publicKey.point }
    return opts.id === undefined ? b.sm2Sign(pair, msg) : b.sm2Sign(pair, msg, { id: opts.id })
  }

  /** Decrypts C1‖C3‖C2; throws ERR_SM_DECRYPT for any failure. */
  decrypt(ciphertext: Uint8Array, opts: { backend?: SmBackend } = {}): Buffer {
    return (opts.backend ?? sm()).sm2Decrypt(this.#d, asBuffer(ciphertext))
  }

  /** `sign` with the scalar work on the threadpool. */
  async signAsync(msg: Uint8Array, opts: { id?: Sm2Id; backend?: SmBackend } = {}): Promise<Buffer> {
    const b = opts.backend ?? sm()
    const pair = { d: this.#d, point: this.publicKey.point }
    return opts.id === undefined ? b.sm2SignAsync(pair, msg) : b.sm2SignAsync(pair, msg, { id: opts.id })
  }

  /** `decrypt` with the scalar work on the threadpool; rejects ERR_SM_DECRYPT for any failure. */
  async decryptAsync(ciphertext: Uint8Array, opts: { backend?: SmBackend } = {}): Promise<Buffer> {
    return (opts.backend ?? sm()).sm2DecryptAsync(this.#d, asBuffer(ciphertext))
  }

  // A private key must never reach a log line or a JSON document.
  toJSON(): string {
    return '[Sm2PrivateKey]'
  }

  toString(): string {
    return '[Sm2PrivateKey]'
  }

  [inspect.custom](): string {
    return '[Sm2PrivateKey]'
  }
}
