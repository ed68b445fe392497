import { createHash, randomBytes, verify as nodeVerify } from 'node:crypto'
import { children, encode, encodeOid, encodeUnsigned, oid, parse, sequence, TAG, unsignedInteger, type Der } from './sm/asn1.ts'
import { certificatesOf, issuerKeyOf, parseCertificate, verifySigned, type Certificate } from './x509.ts'
import { sm2SignatureFromDer } from './sm/index.ts'

/**
 * Trusted timestamps (可信时间戳): RFC 3161 requests, responses and the offline check of a
 * time-stamp token (a CMS SignedData over a TSTInfo, RFC 5652): the imprint is SHA-256 of the
 * stamped bytes, the signed attributes carry the TSTInfo's digest, the TSA's certificate signs
 * them, carries extendedKeyUsage timeStamping, and (given anchors) is issued by one of them.
 */

const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  extKeyUsage: '2.5.29.37',
} as const
const HASHES: Readonly<Record<string, string>> = { '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' }
/** Signature algorithms of a SignerInfo: RSA PKCS#1 v1.5 (by itself or with its hash), ECDSA, SM2. */
const SIG_HASH: Readonly<Record<string, string | undefined>> = {
  '1.2.840.113549.1.1.1': undefined, '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512', '1.2.840.10045.2.1': undefined, '1.2.156.10197.1.501': 'sm3',
}

/** A time-stamp request (DER) for `data`: SHA-256 imprint, a nonce, and the TSA's certificate asked for. */
export function timeStampRequest(data: Uint8Array, nonce: Buffer = randomBytes(8)): Buffer {
  const imprint = encode(TAG.SEQUENCE, encode(TAG.SEQUENCE, encodeOid(OID.sha256), encode(TAG.NULL)), encode(TAG.OCTET_STRING, createHash('sha256').update(data).digest()))
  return encode(TAG.SEQUENCE, encode(TAG.INTEGER, Buffer.from([1])), imprint, encodeUnsigned(nonce), encode(0x01, Buffer.from([0xff])))
}

/** The token of a time-stamp response; throws when the TSA did not grant it. */
export function timeStampToken(response: Uint8Array): Buffer {
  const [status, token] = sequence(response)
  const code = unsignedInteger(sequence(status as Der)[0])
  if (code.length !== 1 || (code[0] !== 0 && code[0] !== 1) || token === undefined) throw new Error(`the TSA refused the request (status ${code.toString('hex')})`)
  return encode(token.tag, token.value)
}

/** What a verified token says. */
export interface TimeStamp {
  readonly genTime: Date
  readonly serial: string
  readonly tsa: string
  readonly policy: string
}

function explicit(el: Der | undefined, tag: number): Der {
  if (el === undefined || el.tag !== tag) throw new Error(`expected [${tag & 0x1f}]`)
  return parse(el.value)
}

function generalizedTime(el: Der | undefined): Date {
  if (el === undefined || el.tag !== 0x18) throw new Error('expected a GeneralizedTime')
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(el.value.toString('ascii'))
  if (m === null) throw new Error('a GeneralizedTime not in UTC')
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`)
}

function hasTimeStamping(cert: Certificate): boolean {
  const eku = cert.extensions.get(OID.extKeyUsage)
  return eku !== undefined && sequence(eku.value).some((e) => oid(e) === OID.timeStamping)
}

/**
 * Checks a time-stamp token over `data` offline. With `anchors` (PEM or DER certificates of
 * the TSAs' CAs), the TSA's certificate must be one of them or issued by one; without, only
 * the token's own certificate is used (integrity, not origin). Throws with the reason.
 */
export function verifyTimeStampToken(token: Uint8Array, data: Uint8Array, anchors?: readonly Certificate[]): TimeStamp {
  const [type, content] = sequence(token)
  if (oid(type) !== OID.signedData) throw new Error('not a CMS SignedData')
  const sd = sequence(explicit(content, 0xa0))
  const encap = sequence(sd[2] as Der)
  if (oid(encap[0]) !== OID.tstInfo) throw new Error('does not hold a TSTInfo')
  const eContent = explicit(encap[1], 0xa0)
  if (eContent.tag !== TAG.OCTET_STRING) throw new Error('bad eContent')
  const tst = sequence(eContent.value)
  const policy = oid(tst[1])
  const [imprintAlg, imprint] = sequence(tst[2] as Der)
  const hash = HASHES[oid(sequence(imprintAlg as Der)[0])]
  if (hash === undefined) throw new Error('an imprint hash other than SHA-2')
  if (!createHash(hash).update(data).digest().equals((imprint as Der).value)) throw new Error('the token stamps other bytes')
  const serial = unsignedInteger(tst[3]).toString('hex')
  const genTime = generalizedTime(tst[4])

  // The certificates it carries ([0] IMPLICIT SET OF Certificate), and the one signer.
  let at = 3
  const certs: Certificate[] = []
  if (sd[at]?.tag === 0xa0) {
    for (const c of children((sd[at] as Der).value)) certs.push(parseCertificate(encode(c.tag, c.value)))
    at++
  }
  if (sd[at]?.tag === 0xa1) at++
  const signerInfos = children((sd[at] as Der).value)
  if (signerInfos.length !== 1) throw new Error('not exactly one signer')
  const si = sequence(signerInfos[0] as Der)
  const sid = si[1] as Der
  const signer = certs.find((c) => {
    if (sid.tag === 0x80) return c.subjectKeyId === sid.value.toString('hex')
    const [issuer, serialNo] = sequence(sid)
    return c.issuer.equals(encode((issuer as Der).tag, (issuer as Der).value)) && c.serial === unsignedInteger(serialNo).toString('hex')
  })
  if (signer === undefined) throw new Error('the TSA\'s certificate is not in the token')
  const digestAlg = HASHES[oid(sequence(si[2] as Der)[0])]
  if (digestAlg === undefined) throw new Error('a signer digest other than SHA-2')
  const attrs = si[3] as Der
  if (attrs.tag !== 0xa0) throw new Error('no signed attributes')
  let contentTypeOk = false
  let digestOk = false
  for (const a of children(attrs.value)) {
    const [t, values] = sequence(a)
    const v = children((values as Der).value)[0]
    if (oid(t) === OID.contentType) contentTypeOk = oid(v) === OID.tstInfo
    if (oid(t) === OID.messageDigest) digestOk = v?.tag === TAG.OCTET_STRING && createHash(digestAlg).update(eContent.value).digest().equals(v.value)
  }
  if (!contentTypeOk || !digestOk) throw new Error('the signed attributes do not bind the TSTInfo')
  const sigAlg = oid(sequence(si[4] as Der)[0])
  if (!(sigAlg in SIG_HASH)) throw new Error(`signature algorithm ${sigAlg} is not supported`)
  const signature = (si[5] as Der).value
  // The signature covers the signed attributes as a SET (tag 0x31), not as [0].
  const signed = encode(0x31, attrs.value)
  const key = issuerKeyOf(signer)
  const ok = key.kind === 'sm2'
    ? key.sm2.verify(signed, sm2SignatureFromDer(signature))
    : nodeVerify(SIG_HASH[sigAlg] ?? digestAlg, signed, key.node.asymmetricKeyType === 'ec' ? { key: key.node, dsaEncoding: 'der' } : key.node, signature)
  if (!ok) throw new Error('the TSA\'s signature does not verify')
  if (!hasTimeStamping(signer)) throw new Error('the signing certificate is not a time-stamping certificate')
  if (genTime < signer.notBefore || genTime > signer.notAfter) throw new Error('stamped outside the TSA certificate\'s validity')
  if (anchors !== undefined) {
    const trusted = anchors.some((a) => a.der.equals(signer.der) || (a.subject.equals(signer.issuer) && verifySigned(signer, issuerKeyOf(a))))
    if (!trusted) throw new Error('the TSA\'s certificate is not issued by a trusted TSA CA')
  }
  return { genTime, serial, tsa: signer.subjectText, policy }
}

/** Reads the certificates of a PEM or DER file's contents (TSA anchors). */
export function tsaAnchors(data: Buffer | string): Certificate[] {
  return certificatesOf(data).map(parseCertificate)
}
