/**
 * The little X.509 the trust store needs (RFC 5280): certificates and CRLs read from strict DER
 * with the SM2 room's ASN.1 reader, and their signatures checked under an issuer's key. SM2
 * signatures (SM2-with-SM3) are verified with Tongban's own SM2 under the GB/T 32918 default
 * user ID, as OpenSSL and Bouncy Castle sign certificates — Node's X509Certificate.verify uses an
 * empty ID and fails them. ECDSA and RSA PKCS#1 v1.5 signatures go to node:crypto.
 */
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto'
import { TAG, children, encode, oid, parse, sequence, type Der } from './sm/asn1.ts'
import { isSm2PemText, pemBlocks, pemOf } from './sm/pem.ts'
import { Sm2PublicKey, sm2SignatureFromDer } from './sm/index.ts'

const TAG_BOOLEAN = 0x01
const TAG_UTC_TIME = 0x17
const TAG_GENERALIZED_TIME = 0x18

/** Signature algorithms a certificate or CRL may be signed with, and how each is verified. */
const SIGNATURE_ALGS: Readonly<Record<string, { readonly name: string; readonly hash?: string }>> = {
  '1.2.156.10197.1.501': { name: 'SM2-with-SM3' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512' },
}

/** Extension OIDs the trust store understands (a critical one outside this set refuses the certificate). */
export const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const

/** keyUsage bits (RFC 5280 §4.2.1.3), in bit order. */
export const KEY_USAGE_BITS = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
] as const
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number]

/** What signed a certificate or CRL: the bytes signed, the algorithm and the signature. */
interface Signed {
  readonly tbs: Buffer
  readonly sigAlg: string
  readonly signature: Buffer
}

/** A parsed X.509 v3 certificate (only what the trust store uses). */
export interface Certificate extends Signed {
  readonly der: Buffer
  /** The serial number's content bytes, hex (compared as bytes with CRL entries). */
  readonly serial: string
  readonly issuer: Buffer
  readonly subject: Buffer
  readonly issuerText: string
  readonly subjectText: string
  readonly notBefore: Date
  readonly notAfter: Date
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Buffer
  readonly extensions: ReadonlyMap<string, { readonly critical: boolean; readonly value: Buffer }>
  /** basicConstraints cA (false when absent). */
  readonly ca: boolean
  /** keyUsage bits, or undefined when the extension is absent. */
  readonly keyUsage: ReadonlySet<KeyUsageBit> | undefined
  readonly subjectKeyId: string | undefined
  readonly authorityKeyId: string | undefined
}

/** A parsed CRL (v2, complete, not indirect). */
export interface Crl extends Signed {
  readonly issuer: Buffer
  readonly issuerText: string
  readonly thisUpdate: Date
  readonly nextUpdate: Date | undefined
  readonly authorityKeyId: string | undefined
  /** Serial (hex of the content bytes) → revocation date and reason code. */
  readonly revoked: ReadonlyMap<string, { readonly at: Date; readonly reason: number | undefined }>
  readonly extensions: ReadonlyMap<string, { readonly critical: boolean; readonly value: Buffer }>
}

/** The certificates of a PEM text (in order), or the one certificate of a DER buffer. */
export function certificatesOf(data: Buffer | string): Buffer[] {
  const text = typeof data === 'string' ? data : data.toString('latin1')
  if (text.includes('-----BEGIN')) return pemBlocks(text).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der)
  return typeof data === 'string' ? [] : [data]
}

/** The DER of a CRL given as PEM ("X509 CRL") or DER. */
export function crlDerOf(data: Buffer): Buffer {
  const text = data.toString('latin1')
  if (!text.includes('-----BEGIN')) return data
  const block = pemBlocks(text).find((b) => b.label === 'X509 CRL')
  if (block === undefined) throw new RangeError('no X509 CRL block')
  return block.der
}

/** Reads a DER certificate; throws RangeError with the reason when it is not one this reader takes. */
export function parseCertificate(der: Buffer): Certificate {
  const signed = signedParts(der)
  const f = sequence(parse(signed.tbs))
  let i = 0
  const version = f[0]?.tag === 0xa0 ? integerValue(parse((f[i++] as Der).value)) : 0
  if (version !== 2) throw new RangeError('not an X.509 v3 certificate (extensions are needed for key usage)')
  const serial = f[i++]
  if (serial?.tag !== TAG.INTEGER || serial.value.length === 0) throw new RangeError('certificate: bad serial number')
  checkInnerAlg(f[i++], signed.sigAlg)
  const issuer = nameOf(f[i++])
  const validity = sequence(required(f[i++], 'validity'))
  const subject = nameOf(f[i++])
  const spki = required(f[i++], 'subjectPublicKeyInfo')
  if (spki.tag !== TAG.SEQUENCE) throw new RangeError('certificate: bad subjectPublicKeyInfo')
  let extensions = new Map<string, { critical: boolean; value: Buffer }>()
  for (const rest of f.slice(i)) {
    if (rest.tag === 0xa3) extensions = readExtensions(parse(rest.value))
    else if (rest.tag !== 0x81 && rest.tag !== 0x82) throw new RangeError('certificate: unexpected field')
  }
  const bc = extensions.get(EXT.basicConstraints)
  const ku = extensions.get(EXT.keyUsage)
  return {
    ...signed,
    der,
    serial: serial.value.toString('hex'),
    issuer: encode(issuer.tag, issuer.value),
    subject: encode(subject.tag, subject.value),
    issuerText: nameText(issuer),
    subjectText: nameText(subject),
    notBefore: timeOf(validity[0]),
    notAfter: timeOf(validity[1]),
    spki: encode(TAG.SEQUENCE, spki.value),
    extensions,
    ca: bc === undefined ? false : basicConstraintsCa(bc.value),
    keyUsage: ku === undefined ? undefined : keyUsageOf(ku.value),
    subjectKeyId: extensions.has(EXT.subjectKeyIdentifier) ? octets(parse((extensions.get(EXT.subjectKeyIdentifier) as { value: Buffer }).value)) : undefined,
    authorityKeyId: authorityKeyIdOf(extensions),
  }
}

/** Reads a DER CRL; throws RangeError with the reason when it is not one this reader takes. */
export function parseCrl(der: Buffer): Crl {
  const signed = signedParts(der)
  const f = sequence(parse(signed.tbs))
  let i = 0
  if (f[0]?.tag === TAG.INTEGER) {
    if (integerValue(f[i++]) !== 1) throw new RangeError('CRL: unknown version')
  }
  checkInnerAlg(f[i++], signed.sigAlg)
  const issuer = nameOf(f[i++])
  const thisUpdate = timeOf(f[i++])
  let nextUpdate: Date | undefined
  if (f[i]?.tag === TAG_UTC_TIME || f[i]?.tag === TAG_GENERALIZED_TIME) nextUpdate = timeOf(f[i++])
  const revoked = new Map<string, { at: Date; reason: number | undefined }>()
  if (f[i]?.tag === TAG.SEQUENCE) {
    for (const entry of sequence(f[i++] as Der)) {
      const [serial, date, ext] = sequence(entry)
      if (serial?.tag !== TAG.INTEGER) throw new RangeError('CRL: bad serial number in an entry')
      const exts = ext === undefined ? new Map<string, { critical: boolean; value: Buffer }>() : readExtensions(ext)
      for (const [id, e] of exts) if (e.critical && id !== EXT.reasonCode) throw new RangeError(`CRL: entry extension ${id} is critical and not supported (indirect CRLs are not read)`)
      const reason = exts.get(EXT.reasonCode)
      revoked.set(serial.value.toString('hex'), { at: timeOf(date), reason: reason === undefined ? undefined : enumerated(parse(reason.value)) })
    }
  }
  let extensions = new Map<string, { critical: boolean; value: Buffer }>()
  if (f[i]?.tag === 0xa0) extensions = readExtensions(parse((f[i++] as Der).value))
  if (i !== f.length) throw new RangeError('CRL: unexpected field')
  return {
    ...signed,
    issuer: encode(issuer.tag, issuer.value),
    issuerText: nameText(issuer),
    thisUpdate,
    nextUpdate,
    authorityKeyId: authorityKeyIdOf(extensions),
    revoked,
    extensions,
  }
}

/** A key that can check signatures on certificates and CRLs (a CA's public key). */
export type IssuerKey = { readonly kind: 'sm2'; readonly sm2: Sm2PublicKey } | { readonly kind: 'node'; readonly node: KeyObject }

/** The issuer key of a certificate's SubjectPublicKeyInfo (SM2, EC or RSA). */
export function issuerKeyOf(cert: Certificate): IssuerKey {
  const pem = spkiPemOf(cert.spki)
  if (isSm2PemText(pem)) return { kind: 'sm2', sm2: Sm2PublicKey.fromPem(pem) }
  return { kind: 'node', node: createPublicKey(pem) }
}

/** PEM SubjectPublicKeyInfo of a DER SPKI. */
export function spkiPemOf(spki: Buffer): string {
  return pemOf('PUBLIC KEY', spki)
}

/**
 * Whether `signed` (a certificate or CRL) carries a valid signature by `key`. An algorithm this
 * reader does not know, or one that does not fit the key, is a RangeError (a configuration
 * fault, not a forgery); a signature that does not verify is false.
 */
export function verifySigned(signed: Signed, key: IssuerKey): boolean {
  const alg = SIGNATURE_ALGS[signed.sigAlg]
  if (alg === undefined) throw new RangeError(`signature algorithm ${signed.sigAlg} is not supported`)
  if (alg.hash === undefined) {
    if (key.kind !== 'sm2') throw new RangeError(`an ${alg.name} signature needs an SM2 issuer key`)
    let rs: Buffer
    try {
      rs = sm2SignatureFromDer(signed.signature)
    } catch {
      return false
    }
    // No id: the backends' default is the GB/T 32918 default ID 1234567812345678.
    return key.sm2.verify(signed.tbs, rs)
  }
  if (key.kind !== 'node') throw new RangeError(`an ${alg.name} signature needs an RSA or EC issuer key`)
  const type = key.node.asymmetricKeyType
  if ((alg.name.startsWith('ecdsa') && type !== 'ec') || (alg.name.includes('RSA') && type !== 'rsa')) {
    throw new RangeError(`an ${alg.name} signature does not fit an ${String(type)} issuer key`)
  }
  try {
    return nodeVerify(alg.hash, signed.tbs, type === 'ec' ? { key: key.node, dsaEncoding: 'der' } : key.node, signed.signature)
  } catch {
    return false
  }
}

function signedParts(der: Buffer): Signed {
  const [tbs, alg, sig, ...rest] = sequence(parse(der))
  if (!tbs || tbs.tag !== TAG.SEQUENCE || rest.length > 0) throw new RangeError('not a signed X.509 structure')
  if (!sig || sig.tag !== TAG.BIT_STRING || sig.value[0] !== 0) throw new RangeError('bad signature BIT STRING')
  return { tbs: encode(tbs.tag, tbs.value), sigAlg: algOid(alg), signature: Buffer.from(sig.value.subarray(1)) }
}

function algOid(alg: Der | undefined): string {
  const [id] = sequence(required(alg, 'algorithm'))
  return oid(id)
}

// RFC 5280 §4.1.1.2: the algorithm inside the signed part must equal the outer one, or the
// outer one could be swapped without breaking the signature.
function checkInnerAlg(inner: Der | undefined, outer: string): void {
  if (algOid(inner) !== outer) throw new RangeError('the signed algorithm differs from the outer one')
}

function required(el: Der | undefined, what: string): Der {
  if (el === undefined) throw new RangeError(`missing ${what}`)
  return el
}

function nameOf(el: Der | undefined): Der {
  if (!el || el.tag !== TAG.SEQUENCE) throw new RangeError('bad distinguished name')
  return el
}

const NAME_ATTRS: Readonly<Record<string, string>> = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU' }

/** A distinguished name for reports, e.g. "C=CN, O=…, CN=…" (attributes this reader names only). */
function nameText(name: Der): string {
  const parts: string[] = []
  for (const rdn of children(name.value)) {
    for (const atv of children(rdn.value)) {
      const [type, value] = children(atv.value)
      const label = NAME_ATTRS[oid(type)]
      if (label !== undefined && value !== undefined) parts.push(`${label}=${value.tag === 0x1e ? utf16be(value.value) : value.value.toString('utf8')}`)
    }
  }
  return parts.join(', ')
}

function utf16be(b: Buffer): string {
  return Buffer.from(b).swap16().toString('utf16le')
}

function timeOf(el: Der | undefined): Date {
  if (!el || (el.tag !== TAG_UTC_TIME && el.tag !== TAG_GENERALIZED_TIME)) throw new RangeError('bad time')
  const s = el.value.toString('latin1')
  const m = el.tag === TAG_UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (!m) throw new RangeError(`bad time ${s}`)
  let year = Number(m[1])
  // RFC 5280 §4.1.2.5.1: a two-digit year YY ≥ 50 is 19YY, otherwise 20YY.
  if (el.tag === TAG_UTC_TIME) year += year >= 50 ? 1900 : 2000
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])))
}

function integerValue(el: Der | undefined): number {
  if (!el || el.tag !== TAG.INTEGER || el.value.length === 0 || el.value.length > 4) throw new RangeError('bad INTEGER')
  return el.value.readIntBE(0, el.value.length)
}

function enumerated(el: Der): number {
  if (el.tag !== 0x0a || el.value.length !== 1) throw new RangeError('bad ENUMERATED')
  return el.value[0] as number
}

function octets(el: Der): string {
  if (el.tag !== TAG.OCTET_STRING) throw new RangeError('bad key identifier')
  return el.value.toString('hex')
}

function readExtensions(el: Der): Map<string, { critical: boolean; value: Buffer }> {
  const out = new Map<string, { critical: boolean; value: Buffer }>()
  for (const ext of sequence(el)) {
    const parts = sequence(ext)
    const id = oid(parts[0])
    const critical = parts.length === 3 && parts[1]?.tag === TAG_BOOLEAN && parts[1].value[0] !== 0
    const value = parts[parts.length - 1]
    if (value?.tag !== TAG.OCTET_STRING || parts.length > 3) throw new RangeError(`bad extension ${id}`)
    if (out.has(id)) throw new RangeError(`extension ${id} appears twice`)
    out.set(id, { critical, value: value.value })
  }
  return out
}

function basicConstraintsCa(value: Buffer): boolean {
  const [first] = sequence(parse(value))
  return first?.tag === TAG_BOOLEAN && first.value[0] !== 0
}

function keyUsageOf(value: Buffer): Set<KeyUsageBit> {
  const bits = parse(value)
  if (bits.tag !== TAG.BIT_STRING || bits.value.length < 1) throw new RangeError('bad keyUsage')
  const out = new Set<KeyUsageBit>()
  KEY_USAGE_BITS.forEach((name, n) => {
    const byte = bits.value[1 + (n >> 3)]
    if (byte !== undefined && byte & (0x80 >> (n & 7))) out.add(name)
  })
  return out
}

function authorityKeyIdOf(extensions: ReadonlyMap<string, { value: Buffer }>): string | undefined {
  const aki = extensions.get(EXT.authorityKeyIdentifier)
  if (aki === undefined) return undefined
  const keyId = sequence(parse(aki.value)).find((e) => e.tag === 0x80)
  return keyId?.value.toString('hex')
}
