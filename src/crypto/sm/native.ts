/**
 * The native backend: SM2 from the addon in ./native (OpenSSL's EC/BN primitives, the OpenSSL
 * Node ships), SM3 / HMAC-SM3 / SM4 from node:crypto (the same OpenSSL). Loading never throws:
 * it reports why the addon is unusable so the caller can fall back and say so. The addon's
 * `…Async` functions compute on libuv's threadpool (N-API async work).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { completeBackend, type SmBackend } from './backend.ts'
import { SmError } from './errors.ts'

/** What the compiled addon exports (see native/sm2.c). */
interface Addon {
  signDigest(d: Uint8Array, e: Uint8Array, k?: Uint8Array): Buffer
  verifyDigest(point: Uint8Array, e: Uint8Array, sig: Uint8Array): boolean
  encrypt(point: Uint8Array, msg: Uint8Array, k?: Uint8Array): Buffer
  decrypt(d: Uint8Array, ciphertext: Uint8Array): Buffer
  publicFromPrivate(d: Uint8Array): Buffer
  generatePrivate(): Buffer
  isOnCurve(point: Uint8Array): boolean
  signDigestAsync(d: Uint8Array, e: Uint8Array, k?: Uint8Array): Promise<Buffer>
  verifyDigestAsync(point: Uint8Array, e: Uint8Array, sig: Uint8Array): Promise<boolean>
  encryptAsync(point: Uint8Array, msg: Uint8Array, k?: Uint8Array): Promise<Buffer>
  decryptAsync(d: Uint8Array, ciphertext: Uint8Array): Promise<Buffer>
}

const ASYNC_EXPORTS = ['signDigestAsync', 'verifyDigestAsync', 'encryptAsync', 'decryptAsync'] as const

/** Why the addon cannot be used: not built, not loadable, or computing wrongly. */
export type NativeProblem = 'missing' | 'load-error' | 'self-test'

export type NativeLoad =
  | { readonly backend: SmBackend; readonly reason: string }
  | { readonly backend?: undefined; readonly problem: NativeProblem; readonly reason: string }

/** Where `npm install` (scripts/build-native.mjs) puts the addon. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('./native/build/Release/tongban_sm2.node', import.meta.url))

// Known answer (GB/T 32918 Annex A key): proves the addon computes on the SM2 curve before it is trusted.
const KAT_D = Buffer.from('3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8', 'hex')
const KAT_X = '09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020'

/** Loads the addon at `path` and checks it; never throws. */
export function loadNative(path: string = NATIVE_ADDON_PATH): NativeLoad {
  if (!existsSync(path)) return { problem: 'missing', reason: `native SM2 addon not built (${path} missing; run npm install with a C compiler and node-gyp)` }
  let addon: Addon
  try {
    addon = createRequire(import.meta.url)(path) as Addon
  } catch (err) {
    return { problem: 'load-error', reason: `native SM2 addon failed to load: ${(err as Error).message}` }
  }
  // An addon built from older sources lacks the threadpool operations: rebuild rather than half-work.
  const stale = ASYNC_EXPORTS.filter((name) => typeof addon[name] !== 'function')
  if (stale.length > 0) return { problem: 'load-error', reason: `native SM2 addon is out of date (no ${stale.join(', ')}; rebuild it: npm install)` }
  try {
    if (addon.publicFromPrivate(KAT_D).subarray(1, 33).toString('hex') !== KAT_X) return { problem: 'self-test', reason: 'native SM2 addon failed its self-test' }
    createHash('sm3').update('abc').digest()
    createCipheriv('sm4-cbc', Buffer.alloc(16), Buffer.alloc(16)).final()
  } catch (err) {
    return { problem: 'self-test', reason: `native SM2 addon or OpenSSL SM3/SM4 unusable: ${(err as Error).message}` }
  }
  return { backend: nativeBackend(addon), reason: 'native SM2 addon loaded (OpenSSL from Node)' }
}

/** The module's error for one of the addon's (by code), so both backends throw alike. */
function translate(err: unknown): unknown {
  const code = (err as { code?: string }).code
  if (code === 'ERR_SM2_DECRYPT') return new SmError('ERR_SM_DECRYPT', 'SM2 decryption failed')
  if (code === 'ERR_SM2_SIGN') return new SmError('ERR_SM_SIGN', (err as Error).message)
  if (code === 'ERR_SM2_ENCRYPT') return new SmError('ERR_SM_ENCRYPT', (err as Error).message)
  if (code === 'ERR_SM2_INPUT') return new SmError('ERR_SM_INPUT', (err as Error).message)
  return err
}

function call<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw translate(err)
  }
}

async function callAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw translate(err)
  }
}

function checkLength(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new SmError('ERR_SM_INPUT', `${what} is ${n} bytes`)
}

function nativeBackend(addon: Addon): SmBackend {
  return completeBackend({
    name: 'native',
    sm3: (data) => createHash('sm3').update(data).digest(),
    hmacSm3: (key, data) => createHmac('sm3', key).update(data).digest(),
    sm4CbcEncrypt(key, iv, plaintext) {
      checkLength(key, 16, 'an SM4 key')
      checkLength(iv, 16, 'an SM4-CBC IV')
      const c = createCipheriv('sm4-cbc', key, iv)
      return Buffer.concat([c.update(plaintext), c.final()])
    },
    sm4CbcDecrypt(key, iv, ciphertext) {
      checkLength(key, 16, 'an SM4 key')
      checkLength(iv, 16, 'an SM4-CBC IV')
      try {
        const d = createDecipheriv('sm4-cbc', key, iv)
        return Buffer.concat([d.update(ciphertext), d.final()])
      } catch (err) {
        throw new SmError('ERR_SM_DECRYPT', 'SM4-CBC decryption failed', { cause: err })
      }
    },
    sm4EcbBlock(key, block, decrypt = false, iterations = 1) {
      checkLength(key, 16, 'an SM4 key')
      checkLength(block, 16, 'an SM4 block')
      const c = decrypt ? createDecipheriv('sm4-ecb', key, null) : createCipheriv('sm4-ecb', key, null)
      c.setAutoPadding(false)
      let out = Buffer.from(block)
      for (let i = 0; i < iterations; i++) out = c.update(out)
      return out
    },
    sm2SignDigest: (d, e, k) => call(() => addon.signDigest(d, e, k)),
    sm2VerifyDigest: (point, e, sig) => call(() => addon.verifyDigest(point, e, sig)),
    sm2EncryptRaw: (point, plaintext, k) => call(() => addon.encrypt(point, plaintext, k)),
    sm2Decrypt: (d, ciphertext) => call(() => addon.decrypt(d, ciphertext)),
    sm2GeneratePrivate: () => addon.generatePrivate(),
    sm2PublicFromPrivate: (d) => call(() => addon.publicFromPrivate(d)),
    sm2IsOnCurve: (point) => call(() => addon.isOnCurve(point)),
    sm2SignDigestAsync: (d, e, k) => callAsync(() => addon.signDigestAsync(d, e, k)),
    sm2VerifyDigestAsync: (point, e, sig) => callAsync(() => addon.verifyDigestAsync(point, e, sig)),
    sm2EncryptRawAsync: (point, plaintext, k) => callAsync(() => addon.encryptAsync(point, plaintext, k)),
    sm2DecryptAsync: (d, ciphertext) => callAsync(() => addon.decryptAsync(d, ciphertext)),
  })
}
