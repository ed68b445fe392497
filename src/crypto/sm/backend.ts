/**
 * The SM backend contract: SM3, HMAC-SM3, SM4 and SM2, implemented twice (native addon over
 * Node's OpenSSL, and pure TypeScript). Both run the same tests. `completeBackend` builds the
 * message-level SM2 operations (Z_A, e = SM3(Z_A ‖ M)) from each backend's own primitives.
 *
 * Every SM2 operation comes twice: synchronous, and `…Async` returning a Promise. On the native
 * backend the async ones run the scalar work on libuv's threadpool, off the event loop; on the
 * JavaScript backend they are the synchronous ones, settled as a Promise. Both answer alike: same
 * results, same error codes (an async operation rejects where the sync one throws).
 */
import { SM2_A, SM2_B, SM2_DEFAULT_ID, SM2_GX, SM2_GY, SM2_N, asBuffer, fromBytes, toBytes } from './curve.ts'
import { SmError } from './errors.ts'
import { Remembered } from '../../util/remembered.ts'

export type SmBackendName = 'native' | 'js'

/** A user ID (ASCII/UTF-8 text or bytes); the default is `1234567812345678`. */
export type Sm2Id = Buffer | Uint8Array | string

/** Raw SM2 key pair as the backends take it: d (32 bytes) and its public point 04‖x‖y. */
export interface Sm2RawKeyPair {
  readonly d: Uint8Array
  readonly point: Uint8Array
}

export interface Sm2SignOptions {
  readonly id?: Sm2Id
  /** A fixed k, for the published test vectors only. */
  readonly k?: bigint | Uint8Array
}

export interface Sm2EncryptOptions {
  /** A fixed k, for the published test vectors only. */
  readonly k?: bigint | Uint8Array
}

/** The primitives each backend provides. */
export interface SmCore {
  readonly name: SmBackendName
  sm3(data: Uint8Array): Buffer
  hmacSm3(key: Uint8Array, data: Uint8Array): Buffer
  /** SM4-CBC with PKCS#7 padding. */
  sm4CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Buffer
  /** SM4-CBC decryption; throws ERR_SM_DECRYPT on a bad length or bad padding. */
  sm4CbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer
  /** One SM4 block, applied `iterations` times in a row (for the published vectors). */
  sm4EcbBlock(key: Uint8Array, block: Uint8Array, decrypt?: boolean, iterations?: number): Buffer
  /** r‖s over the 32-byte digest e with private key d. */
  sm2SignDigest(d: Uint8Array, e: Uint8Array, k?: Uint8Array): Buffer
  /** Verifies r‖s over the digest e; false (never throws) for any malformed input. */
  sm2VerifyDigest(point: Uint8Array, e: Uint8Array, sig: Uint8Array): boolean
  sm2EncryptRaw(point: Uint8Array, plaintext: Uint8Array, k?: Uint8Array): Buffer
  sm2Decrypt(d: Uint8Array, ciphertext: Uint8Array): Buffer
  /** A new private key d in [1, n-2]. */
  sm2GeneratePrivate(): Buffer
  /** d·G as 04‖x‖y. */
  sm2PublicFromPrivate(d: Uint8Array): Buffer
  /** True when `point` is 04‖x‖y on the curve. */
  sm2IsOnCurve(point: Uint8Array): boolean
  /** sm2SignDigest, off the event loop where the backend can. */
  sm2SignDigestAsync(d: Uint8Array, e: Uint8Array, k?: Uint8Array): Promise<Buffer>
  /** sm2VerifyDigest, off the event loop where the backend can; resolves false for any malformed input. */
  sm2VerifyDigestAsync(point: Uint8Array, e: Uint8Array, sig: Uint8Array): Promise<boolean>
  /** sm2EncryptRaw, off the event loop where the backend can. */
  sm2EncryptRawAsync(point: Uint8Array, plaintext: Uint8Array, k?: Uint8Array): Promise<Buffer>
  /** sm2Decrypt, off the event loop where the backend can; rejects ERR_SM_DECRYPT for any failure. */
  sm2DecryptAsync(d: Uint8Array, ciphertext: Uint8Array): Promise<Buffer>
}

/** A complete backend: the primitives plus message-level SM2. */
export interface SmBackend extends SmCore {
  /** Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2 §5.5). */
  sm2Za(point: Uint8Array, id?: Sm2Id): Buffer
  /** e = SM3(Z_A ‖ M), the value that is signed. */
  sm2Digest(point: Uint8Array, msg: Uint8Array, id?: Sm2Id): Buffer
  /** SM2 signature r‖s (64 bytes) of `msg`. */
  sm2Sign(key: Sm2RawKeyPair, msg: Uint8Array, opts?: Sm2SignOptions): Buffer
  /** True when `sig` (r‖s) signs `msg` under `point`; false for bad lengths or r, s outside [1, n-1]. */
  sm2Verify(point: Uint8Array, msg: Uint8Array, sig: Uint8Array, opts?: { readonly id?: Sm2Id }): boolean
  /** SM2 encryption, C1‖C3‖C2 with C1 uncompressed. */
  sm2Encrypt(point: Uint8Array, plaintext: Uint8Array, opts?: Sm2EncryptOptions): Buffer
  /** sm2Sign with the scalar work off the event loop (the digest is computed first, here). */
  sm2SignAsync(key: Sm2RawKeyPair, msg: Uint8Array, opts?: Sm2SignOptions): Promise<Buffer>
  /** sm2Verify with the scalar work off the event loop; never rejects, false for any malformed input. */
  sm2VerifyAsync(point: Uint8Array, msg: Uint8Array, sig: Uint8Array, opts?: { readonly id?: Sm2Id }): Promise<boolean>
  /** sm2Encrypt with the scalar work off the event loop. */
  sm2EncryptAsync(point: Uint8Array, plaintext: Uint8Array, opts?: Sm2EncryptOptions): Promise<Buffer>
}

// a ‖ b ‖ xG ‖ yG, the fixed middle of Z_A.
const CURVE_BYTES = Buffer.concat([toBytes(SM2_A), toBytes(SM2_B), toBytes(SM2_GX), toBytes(SM2_GY)])

function idBytes(id: Sm2Id | undefined): Buffer {
  if (id === undefined) return SM2_DEFAULT_ID
  const b = typeof id === 'string' ? Buffer.from(id, 'utf8') : asBuffer(id)
  // ENTL is two bytes of bit length.
  if (b.length > 8191) throw new SmError('ERR_SM_INPUT', 'an SM2 user ID is at most 8191 bytes')
  return b
}

/** A fixed k as 32 bytes. */
export function kBytes(k: bigint | Uint8Array | undefined): Buffer | undefined {
  if (k === undefined) return undefined
  const v = typeof k === 'bigint' ? k : k.length === 32 ? fromBytes(k) : -1n
  if (v < 1n || v >= SM2_N) throw new SmError('ERR_SM_INPUT', 'k is 32 bytes in [1, n-1]')
  return toBytes(v)
}

/** How many (public key, ID) pairs' Z_A each backend remembers. */
export const ZA_REMEMBERED = 1024

/** Adds the message-level SM2 operations to a backend's primitives. */
export function completeBackend(core: SmCore, zaRemembered = ZA_REMEMBERED): SmBackend {
  // Z_A depends on the public key and the ID alone, and a gateway meets few of those (its own
  // keys, its participants'): each is hashed once, not on every signature and verification. At
  // most `zaRemembered` (public values only), the oldest forgotten first.
  const zas = new Remembered<Buffer>(zaRemembered)
  const remembered = (point: Uint8Array, id?: Sm2Id): Buffer => {
    if (point.length !== 65 || point[0] !== 0x04) throw new SmError('ERR_SM_INPUT', 'an SM2 public point is 65 bytes 04‖x‖y')
    const idb = idBytes(id)
    const pb = asBuffer(point)
    // The point has a fixed length, so point ‖ ID names one pair.
    return zas.get(pb.toString('latin1') + idb.toString('latin1'), () => {
      const entl = Buffer.from([(idb.length * 8) >> 8, (idb.length * 8) & 0xff])
      return core.sm3(Buffer.concat([entl, idb, CURVE_BYTES, pb.subarray(1)]))
    })
  }
  // A caller's copy: the remembered one is never handed out.
  const za = (point: Uint8Array, id?: Sm2Id): Buffer => Buffer.from(remembered(point, id))
  const digest = (point: Uint8Array, msg: Uint8Array, id?: Sm2Id): Buffer => core.sm3(Buffer.concat([remembered(point, id), msg]))
  const verifiable = (point: Uint8Array, sig: Uint8Array): boolean => sig.length === 64 && point.length === 65 && point[0] === 0x04
  return Object.freeze({
    ...core,
    sm2Za: za,
    sm2Digest: digest,
    sm2Sign: (key: Sm2RawKeyPair, msg: Uint8Array, opts: Sm2SignOptions = {}) =>
      core.sm2SignDigest(key.d, digest(key.point, msg, opts.id), kBytes(opts.k)),
    sm2Verify: (point: Uint8Array, msg: Uint8Array, sig: Uint8Array, opts: { readonly id?: Sm2Id } = {}) => {
      if (!verifiable(point, sig)) return false
      try {
        return core.sm2VerifyDigest(point, digest(point, msg, opts.id), sig)
      } catch {
        return false // verification answers yes or no, whatever the input
      }
    },
    sm2Encrypt: (point: Uint8Array, plaintext: Uint8Array, opts: Sm2EncryptOptions = {}) =>
      core.sm2EncryptRaw(point, plaintext, kBytes(opts.k)),
    // async functions, so that a bad argument (ID, k) rejects rather than throws.
    sm2SignAsync: async (key: Sm2RawKeyPair, msg: Uint8Array, opts: Sm2SignOptions = {}) =>
      core.sm2SignDigestAsync(key.d, digest(key.point, msg, opts.id), kBytes(opts.k)),
    sm2VerifyAsync: async (point: Uint8Array, msg: Uint8Array, sig: Uint8Array, opts: { readonly id?: Sm2Id } = {}) => {
      if (!verifiable(point, sig)) return false
      try {
        return await core.sm2VerifyDigestAsync(point, digest(point, msg, opts.id), sig)
      } catch {
        return false
      }
    },
    sm2EncryptAsync: async (point: Uint8Array, plaintext: Uint8Array, opts: Sm2EncryptOptions = {}) =>
      core.sm2EncryptRawAsync(point, plaintext, kBytes(opts.k)),
  })
}

/**
 * The same backend with its async SM2 operations run at once on the calling thread (settled as
 * a Promise), not handed to libuv's threadpool: `crypto.sm2Thread` 'event-loop'. A hand-off costs the
 * machine more than it saves where every core is busy anyway (docs/performance.md, "SM2 on the
 * event loop"). Same results, same error codes: an operation that throws rejects.
 */
export function onEventLoop(b: SmBackend): SmBackend {
  return completeBackend({
    ...b,
    sm2SignDigestAsync: async (d, e, k) => b.sm2SignDigest(d, e, k),
    sm2VerifyDigestAsync: async (point, e, sig) => b.sm2VerifyDigest(point, e, sig),
    sm2EncryptRawAsync: async (point, plaintext, k) => b.sm2EncryptRaw(point, plaintext, k),
    sm2DecryptAsync: async (d, ciphertext) => b.sm2Decrypt(d, ciphertext),
  })
}
