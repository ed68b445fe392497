/**
 * JWS with alg "SM2SM3" (DESIGN §4): SM2 signature with the default user ID over the ASCII
 * signing input b64url(header) '.' b64url(payload); the signature is the 64 bytes r‖s. The SM2
 * scalar work runs on the threadpool (native backend), off the event loop.
 */
import type { Sm2PrivateKey, Sm2PublicKey } from '../sm/index.ts'

/** A compact JWS signed with SM2SM3; `protectedHeader` is serialised as given (it carries alg). */
export async function signSm2Jws(protectedHeader: Record<string, unknown>, payload: Uint8Array, key: Sm2PrivateKey): Promise<string> {
  const signingInput = `${Buffer.from(JSON.stringify(protectedHeader), 'utf8').toString('base64url')}.${Buffer.from(payload).toString('base64url')}`
  const signature = await key.signAsync(Buffer.from(signingInput, 'ascii'))
  return `${signingInput}.${signature.toString('base64url')}`
}

/** True when `signature` (r‖s, 64 bytes) is an SM2SM3 signature of `signingInput` under `key`; never rejects. */
export async function verifySm2Signature(signingInput: Buffer, signature: Buffer, key: Sm2PublicKey): Promise<boolean> {
  if (signature.length !== 64) return false
  return key.verifyAsync(signingInput, signature)
}
