/** The pure TypeScript backend: correct everywhere, not constant-time, slower than native. */
import { completeBackend, type SmBackend } from '../backend.ts'
import * as sm2 from './sm2.ts'
import { hmacSm3, sm3 } from './sm3.ts'
import { sm4CbcDecrypt, sm4CbcEncrypt, sm4EcbBlock } from './sm4.ts'

/** The JavaScript SM backend. Its async operations are the sync ones, settled as a Promise: the work stays on the calling thread. */
export const jsBackend: SmBackend = completeBackend({
  name: 'js',
  sm3: (data) => sm3(data),
  hmacSm3,
  sm4CbcEncrypt,
  sm4CbcDecrypt,
  sm4EcbBlock,
  sm2SignDigest: sm2.signDigest,
  sm2VerifyDigest: sm2.verifyDigest,
  sm2EncryptRaw: sm2.encrypt,
  sm2Decrypt: sm2.decrypt,
  sm2GeneratePrivate: sm2.generatePrivate,
  sm2PublicFromPrivate: sm2.publicFromPrivate,
  sm2IsOnCurve: sm2.isOnCurve,
  // async, so that a throw becomes a rejection, as on the native backend.
  sm2SignDigestAsync: async (d, e, k) => sm2.signDigest(d, e, k),
  sm2VerifyDigestAsync: async (point, e, sig) => sm2.verifyDigest(point, e, sig),
  sm2EncryptRawAsync: async (point, plaintext, k) => sm2.encrypt(point, plaintext, k),
  sm2DecryptAsync: async (d, ciphertext) => sm2.decrypt(d, ciphertext),
})
