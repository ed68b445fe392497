/** JOSE framing of the national suite (DESIGN §4): JWS SM2SM3 and JWE SM2 + SM4-CBC-HMAC-SM3. */
export { signSm2Jws, verifySm2Signature } from './jws.ts'
export { decryptSm2Jwe, encryptSm2Jwe, sm2JweTag, SM2_JWE_ALG, SM2_JWE_ENC } from './jwe.ts'
