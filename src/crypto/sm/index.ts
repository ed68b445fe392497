/**
 * The national algorithms (国密) for the crypto room: SM3, HMAC-SM3, SM4-CBC and SM2 (signature
 * and public-key encryption) on two interchangeable backends, SM2 key files, and the DER /
 * legacy layouts some partners need. Nothing outside src/crypto imports this module.
 */
export { isSm2Pem, Sm2PrivateKey, Sm2PublicKey } from './keys.ts'
export { availableSmBackends, resolveSmBackend, sm, smBackend, smBackendInfo, useSmBackend } from './select.ts'
export type { SmBackendInfo } from './select.ts'
export type { Sm2EncryptOptions, Sm2Id, Sm2RawKeyPair, Sm2SignOptions, SmBackend, SmBackendName, SmCore } from './backend.ts'
export { SmError } from './errors.ts'
export type { SmErrorCode } from './errors.ts'
export {
  sm2CiphertextFromC1C2C3,
  sm2CiphertextFromDer,
  sm2CiphertextToC1C2C3,
  sm2CiphertextToDer,
  sm2SignatureFromDer,
  sm2SignatureToDer,
} from './format.ts'
export { SM2_DEFAULT_ID, SM2_N, SM2_OID } from './curve.ts'
export { loadNative, NATIVE_ADDON_PATH } from './native.ts'
