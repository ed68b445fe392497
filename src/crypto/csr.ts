import { sign as nodeSign } from 'node:crypto'
import { MATERIAL, type PrivateKey, type PublicKey } from './keys.ts'
import { encode, encodeOid, TAG } from './sm/asn1.ts'
import { sm2SignatureToDer } from './sm/index.ts'
import { publicKeyDer } from './detached.ts'

/**
 * PKCS#10 certificate signing requests (RFC 2986) for a partner's keys, to send to the CA of the
 * real PKI: subject CN = the participant id, O = its name, C = CN; signed with the key itself —
 * SM2 with SM3 and the default user ID 1234567812345678 (GB/T 35276, OID 1.2.156.10197.1.501),
 * ECDSA P-256 with SHA-256, or RSA PKCS#1 v1.5 with SHA-256.
 */
const SIG_OID = { sm2: '1.2.156.10197.1.501', 'ec-p256': '1.2.840.10045.4.3.2', rsa: '1.2.840.113549.1.1.11' } as const
const UTF8_STRING = 0x0c
const PRINTABLE_STRING = 0x13
const SET = 0x31

function attribute(oid: string, tag: number, value: string): Buffer {
  return encode(SET, encode(TAG.SEQUENCE, encodeOid(oid), encode(tag, Buffer.from(value, 'utf8'))))
}

/** A CSR (PEM) for `publicKey`, signed by `signer` (its private half). */
export async function certificateRequest(signer: PrivateKey, publicKey: PublicKey, subject: { cn: string; o: string }): Promise<string> {
  const name = encode(TAG.SEQUENCE, attribute('2.5.4.6', PRINTABLE_STRING, 'CN'), attribute('2.5.4.10', UTF8_STRING, subject.o), attribute('2.5.4.3', UTF8_STRING, subject.cn))
  // version 0, subject, SubjectPublicKeyInfo, attributes [0] (none).
  const info = encode(TAG.SEQUENCE, encode(TAG.INTEGER, Buffer.from([0])), name, publicKeyDer(publicKey), encode(0xa0))
  const m = signer[MATERIAL]()
  const signature = m.kind === 'sm2' ? sm2SignatureToDer(await m.sm2.signAsync(info))
    : m.kind === 'ec-p256' ? nodeSign('sha256', info, { key: m.node, dsaEncoding: 'der' })
    : nodeSign('sha256', info, m.node)
  const alg = m.kind === 'rsa' ? encode(TAG.SEQUENCE, encodeOid(SIG_OID.rsa), encode(TAG.NULL)) : encode(TAG.SEQUENCE, encodeOid(SIG_OID[m.kind]))
  const der = encode(TAG.SEQUENCE, info, alg, encode(TAG.BIT_STRING, Buffer.from([0]), signature))
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n')
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----\n`
}
