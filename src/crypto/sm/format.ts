/**
 * Wire layouts of SM2 signatures and ciphertexts for partners that do not take the JOSE form:
 * signature r‖s ↔ DER (GM/T 0009 SEQUENCE { r INTEGER, s INTEGER }), ciphertext
 * C1‖C3‖C2 ↔ C1‖C2‖C3 (the pre-2012 order, Bouncy Castle's default) ↔ DER
 * (GM/T 0009 SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING, C2 OCTET STRING }, as OpenSSL writes).
 */
import { TAG, encode, encodeUnsigned, pad, sequence, unsignedInteger } from './asn1.ts'
import { asBuffer } from './curve.ts'
import { SmError } from './errors.ts'

const C1 = 65
const C3 = 32

function formatError(what: string, cause?: unknown): SmError {
  return new SmError('ERR_SM_FORMAT', what, cause === undefined ? {} : { cause })
}

/** DER (GM/T 0009) of a 64-byte r‖s signature. */
export function sm2SignatureToDer(rs: Uint8Array): Buffer {
  if (rs.length !== 64) throw formatError('an SM2 signature r‖s is 64 bytes')
  const b = asBuffer(rs)
  return encode(TAG.SEQUENCE, encodeUnsigned(b.subarray(0, 32)), encodeUnsigned(b.subarray(32)))
}

/** The 64-byte r‖s of a DER (GM/T 0009) signature; throws ERR_SM_FORMAT when it is not one. */
export function sm2SignatureFromDer(der: Uint8Array): Buffer {
  try {
    const items = sequence(der)
    if (items.length !== 2) throw new RangeError('two INTEGERs expected')
    return Buffer.concat([pad(unsignedInteger(items[0]), 32), pad(unsignedInteger(items[1]), 32)])
  } catch (err) {
    throw formatError('not a DER SM2 signature', err)
  }
}

function splitC1C3C2(ct: Uint8Array): { c1: Buffer; c3: Buffer; c2: Buffer } {
  const b = asBuffer(ct)
  if (b.length <= C1 + C3 || b[0] !== 0x04) throw formatError('an SM2 ciphertext is C1 (65 bytes, 04‖x‖y) ‖ C3 (32) ‖ C2 (≥ 1)')
  return { c1: b.subarray(0, C1), c3: b.subarray(C1, C1 + C3), c2: b.subarray(C1 + C3) }
}

/** C1‖C2‖C3 (legacy order) of a C1‖C3‖C2 ciphertext. */
export function sm2CiphertextToC1C2C3(c1c3c2: Uint8Array): Buffer {
  const { c1, c3, c2 } = splitC1C3C2(c1c3c2)
  return Buffer.concat([c1, c2, c3])
}

/** C1‖C3‖C2 of a legacy C1‖C2‖C3 ciphertext. */
export function sm2CiphertextFromC1C2C3(c1c2c3: Uint8Array): Buffer {
  const b = asBuffer(c1c2c3)
  if (b.length <= C1 + C3 || b[0] !== 0x04) throw formatError('an SM2 ciphertext is C1 (65 bytes, 04‖x‖y) ‖ C2 (≥ 1) ‖ C3 (32)')
  return Buffer.concat([b.subarray(0, C1), b.subarray(b.length - C3), b.subarray(C1, b.length - C3)])
}

/** DER (GM/T 0009, OpenSSL's layout) of a C1‖C3‖C2 ciphertext. */
export function sm2CiphertextToDer(c1c3c2: Uint8Array): Buffer {
  const { c1, c3, c2 } = splitC1C3C2(c1c3c2)
  return encode(TAG.SEQUENCE, encodeUnsigned(c1.subarray(1, 33)), encodeUnsigned(c1.subarray(33)), encode(TAG.OCTET_STRING, c3), encode(TAG.OCTET_STRING, c2))
}

/** C1‖C3‖C2 of a DER (GM/T 0009) ciphertext; throws ERR_SM_FORMAT when it is not one. */
export function sm2CiphertextFromDer(der: Uint8Array): Buffer {
  try {
    const items = sequence(der)
    const [x, y, c3, c2] = items
    if (items.length !== 4 || !c3 || !c2 || c3.tag !== TAG.OCTET_STRING || c2.tag !== TAG.OCTET_STRING) throw new RangeError('x, y, C3, C2 expected')
    if (c3.value.length !== C3 || c2.value.length === 0) throw new RangeError('C3 is 32 bytes and C2 is not empty')
    return Buffer.concat([Buffer.from([4]), pad(unsignedInteger(x), 32), pad(unsignedInteger(y), 32), c3.value, c2.value])
  } catch (err) {
    throw formatError('not a DER SM2 ciphertext', err)
  }
}
