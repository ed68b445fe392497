/**
 * JWE with alg "SM2" and enc "SM4-CBC-HMAC-SM3" (DESIGN §4, docs/national-suite.md): RFC 7518
 * §5.2.2 with SM4-CBC for AES-CBC and HMAC-SM3 for HMAC-SHA-256. The 32-byte content key
 * MAC_KEY(16) ‖ ENC_KEY(16) is SM2-encrypted (C1‖C3‖C2) as the JWE encrypted key. The SM2 work
 * (key wrap and unwrap) runs on the threadpool (native backend); SM4 and HMAC-SM3 stay here.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { TongbanError } from '../../errors.ts'
import { isCanonicalBase64url } from '../../util/base64url.ts'
import { sm, type Sm2PrivateKey, type Sm2PublicKey, type SmBackend } from '../sm/index.ts'

export const SM2_JWE_ALG = 'SM2'
export const SM2_JWE_ENC = 'SM4-CBC-HMAC-SM3'

/** The 16-byte tag: first half of HMAC-SM3(MAC_KEY, AAD ‖ IV ‖ ciphertext ‖ AL), AL = 64-bit big-endian bit length of AAD. */
export function sm2JweTag(macKey: Uint8Array, aad: Buffer, iv: Uint8Array, ciphertext: Uint8Array, backend: SmBackend = sm()): Buffer {
  const al = Buffer.alloc(8)
  al.writeBigUInt64BE(BigInt(aad.length) * 8n)
  return backend.hmacSm3(macKey, Buffer.concat([aad, iv, ciphertext, al])).subarray(0, 16)
}

/** A compact JWE of `plaintext` to `key`; `protectedHeader` must carry alg "SM2" and enc "SM4-CBC-HMAC-SM3". */
export async function encryptSm2Jwe(plaintext: Uint8Array, protectedHeader: Record<string, unknown>, key: Sm2PublicKey): Promise<string> {
  if (protectedHeader.alg !== SM2_JWE_ALG || protectedHeader.enc !== SM2_JWE_ENC) {
    throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `an SM2 JWE has alg ${SM2_JWE_ALG} and enc ${SM2_JWE_ENC}`)
  }
  const header = Buffer.from(JSON.stringify(protectedHeader), 'utf8').toString('base64url')
  // One backend for the whole message, whatever is selected while the SM2 work is away.
  const backend = sm()
  const cek = randomBytes(32)
  try {
    const iv = randomBytes(16)
    const ciphertext = backend.sm4CbcEncrypt(cek.subarray(16), iv, plaintext)
    const tag = sm2JweTag(cek.subarray(0, 16), Buffer.from(header, 'ascii'), iv, ciphertext, backend)
    const encryptedKey = await key.encryptAsync(cek, { backend })
    return [header, encryptedKey, iv, ciphertext, tag].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.')
  } finally {
    cek.fill(0)
  }
}

/**
 * Decrypts a compact SM2 JWE. Every failure is the same TB_ERR_DECRYPT whatever went wrong
 * (key unwrap, tag, padding: no oracle); the tag is checked in constant time before any
 * decryption of the content.
 */
export async function decryptSm2Jwe(compact: string, key: Sm2PrivateKey): Promise<{ plaintext: Buffer; header: Record<string, unknown> }> {
  const fail = (cause?: unknown): TongbanError =>
    new TongbanError('TB_ERR_DECRYPT', 'the message could not be decrypted', cause === undefined ? {} : { cause })
  const parts = compact.split('.')
  if (parts.length !== 5 || parts.some((p) => !isCanonicalBase64url(p))) throw fail()
  const [h, ek, ivPart, ctPart, tagPart] = parts as [string, string, string, string, string]
  let header: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('header is not an object')
    header = parsed as Record<string, unknown>
  } catch (err) {
    throw fail(err)
  }
  if (header.alg !== SM2_JWE_ALG || header.enc !== SM2_JWE_ENC) {
    throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `an SM2 JWE has alg ${SM2_JWE_ALG} and enc ${SM2_JWE_ENC}`)
  }
  if (header.zip !== undefined || header.crit !== undefined) throw fail()
  const iv = Buffer.from(ivPart, 'base64url')
  const ciphertext = Buffer.from(ctPart, 'base64url')
  const tag = Buffer.from(tagPart, 'base64url')
  if (iv.length !== 16 || tag.length !== 16 || ciphertext.length === 0 || ciphertext.length % 16 !== 0) throw fail()
  const backend = sm()
  let cek: Buffer
  try {
    cek = await key.decryptAsync(Buffer.from(ek, 'base64url'), { backend })
  } catch (err) {
    throw fail(err)
  }
  try {
    if (cek.length !== 32) throw fail()
    const expected = sm2JweTag(cek.subarray(0, 16), Buffer.from(h, 'ascii'), iv, ciphertext, backend)
    if (!timingSafeEqual(expected, tag)) throw fail()
    return { plaintext: backend.sm4CbcDecrypt(cek.subarray(16), iv, ciphertext), header }
  } catch (err) {
    throw err instanceof TongbanError ? err : fail(err)
  } finally {
    cek.fill(0)
  }
}
