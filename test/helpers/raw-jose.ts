import { constants, createCipheriv, publicEncrypt, randomBytes, sign } from 'node:crypto'

/**
 * JOSE objects built byte by byte, for attack tests: a protected header or payload that the SDK
 * would never write (duplicate members, control characters), yet validly signed and encrypted,
 * so that only the gateway's strict reading stands between it and a recipient.
 */

const b64 = (x: string | Uint8Array): string => Buffer.from(x).toString('base64url')

/** A compact ES256 JWS over the exact header and payload texts given (the key as PKCS#8 PEM). */
export function es256Jws(headerText: string, payload: string | Uint8Array, pem: string): string {
  const input = `${b64(headerText)}.${b64(payload)}`
  const signature = sign('sha256', Buffer.from(input, 'ascii'), { key: pem, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

/** A compact RSA-OAEP-256 / A256GCM JWE of `plaintext` with the exact protected header text given. */
export function rsaJwe(headerText: string, plaintext: string | Uint8Array, recipientPem: string): string {
  const h = b64(headerText)
  const cek = randomBytes(32)
  const ek = publicEncrypt({ key: recipientPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek)
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', cek, iv)
  cipher.setAAD(Buffer.from(h, 'ascii'))
  const ct = Buffer.concat([cipher.update(Buffer.from(plaintext)), cipher.final()])
  return `${h}.${b64(ek)}.${b64(iv)}.${b64(ct)}.${b64(cipher.getAuthTag())}`
}
