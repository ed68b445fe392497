/**
 * SM2 key files: PEM SubjectPublicKeyInfo (or the one inside an X.509 certificate), PKCS#8 and
 * SEC1 ("EC PRIVATE KEY"). The algorithm is
 * id-ecPublicKey with the SM2 curve OID (what OpenSSL 3 writes and reads), or the bare SM2 OID
 * some Chinese tools write as the algorithm. Encrypted PKCS#8 is not read.
 */
import { TAG, children, encode, encodeOid, oid, parse, sequence, unsignedInteger, type Der } from './asn1.ts'
import { SM2_OID } from './curve.ts'

const EC_PUBLIC_KEY = '1.2.840.10045.2.1'

/** The PEM blocks of a text, in order. */
export function pemBlocks(text: string): { label: string; der: Buffer }[] {
  const out: { label: string; der: Buffer }[] = []
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)) {
    out.push({ label: m[1] as string, der: Buffer.from((m[2] as string).replace(/\s+/g, ''), 'base64') })
  }
  return out
}

const KEY_LABELS = new Set(['PUBLIC KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'CERTIFICATE'])

/** The first key (or certificate) block of a PEM text; parameter blocks such as "SM2 PARAMETERS" are skipped. */
export function keyBlock(text: string): { label: string; der: Buffer } | undefined {
  return pemBlocks(text).find((b) => KEY_LABELS.has(b.label))
}

/** The SubjectPublicKeyInfo inside an X.509 certificate (the certificate itself is not validated). */
export function spkiOfCertificate(der: Uint8Array): Buffer {
  const [tbs] = sequence(der)
  if (!tbs) throw new RangeError('not a certificate')
  const fields = sequence(tbs)
  // tbsCertificate: [0] version?, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
  const spki = fields[(fields[0]?.tag === 0xa0 ? 1 : 0) + 5]
  if (!spki || spki.tag !== TAG.SEQUENCE) throw new RangeError('certificate without a public key')
  return encode(TAG.SEQUENCE, spki.value)
}

/** True when an AlgorithmIdentifier names SM2 (id-ecPublicKey + SM2 curve, or the bare SM2 OID). */
function isSm2Algorithm(alg: Der | undefined): boolean {
  if (!alg || alg.tag !== TAG.SEQUENCE) return false
  const [algOid, param] = children(alg.value)
  const a = oid(algOid)
  if (a === SM2_OID) return true
  return a === EC_PUBLIC_KEY && param !== undefined && param.tag === TAG.OID && oid(param) === SM2_OID
}

/** The public point (as stored) of an SM2 SPKI; throws RangeError when it is not one. */
export function readSpki(der: Uint8Array): Buffer {
  const [alg, key, ...rest] = sequence(der)
  if (rest.length > 0 || !isSm2Algorithm(alg)) throw new RangeError('not an SM2 SubjectPublicKeyInfo')
  if (!key || key.tag !== TAG.BIT_STRING || key.value[0] !== 0) throw new RangeError('SPKI: bad public key BIT STRING')
  return key.value.subarray(1)
}

/** d and the optional public point of a SEC1 ECPrivateKey (RFC 5915); `needCurve` asks for the SM2 OID in [0]. */
function readEcPrivateKey(der: Uint8Array, needCurve: boolean): { d: Buffer; point?: Buffer } {
  const [version, priv, ...tagged] = sequence(der)
  if (unsignedInteger(version).toString('hex') !== '01') throw new RangeError('ECPrivateKey: version must be 1')
  if (!priv || priv.tag !== TAG.OCTET_STRING) throw new RangeError('ECPrivateKey: no private key')
  let curve: string | undefined
  let point: Buffer | undefined
  for (const t of tagged) {
    if (t.tag === 0xa0) curve = oid(parse(t.value))
    else if (t.tag === 0xa1) {
      const bits = parse(t.value)
      if (bits.tag !== TAG.BIT_STRING || bits.value[0] !== 0) throw new RangeError('ECPrivateKey: bad public key')
      point = bits.value.subarray(1)
    }
  }
  if (curve !== undefined && curve !== SM2_OID) throw new RangeError('ECPrivateKey: not on the SM2 curve')
  if (needCurve && curve === undefined) throw new RangeError('ECPrivateKey: no curve named')
  return point === undefined ? { d: priv.value } : { d: priv.value, point }
}

/** d and the optional public point of an SM2 PKCS#8 PrivateKeyInfo. */
export function readPkcs8(der: Uint8Array): { d: Buffer; point?: Buffer } {
  const [version, alg, key] = sequence(der)
  const v = unsignedInteger(version).toString('hex')
  if (v !== '00' && v !== '01') throw new RangeError('PKCS#8: unknown version')
  if (!isSm2Algorithm(alg)) throw new RangeError('PKCS#8: not an SM2 key')
  if (!key || key.tag !== TAG.OCTET_STRING) throw new RangeError('PKCS#8: no private key')
  return readEcPrivateKey(key.value, false)
}

/** d and the optional public point of a PEM "PRIVATE KEY" or "EC PRIVATE KEY". */
export function readPrivatePem(text: string): { d: Buffer; point?: Buffer } {
  const block = keyBlock(text)
  if (block?.label === 'PRIVATE KEY') return readPkcs8(block.der)
  if (block?.label === 'EC PRIVATE KEY') return readEcPrivateKey(block.der, true)
  throw new RangeError('no PRIVATE KEY or EC PRIVATE KEY block (encrypted keys are not read)')
}

/** True when a PEM text holds an SM2 public or private key. Never throws. */
export function isSm2PemText(text: string): boolean {
  try {
    const block = keyBlock(text)
    if (!block) return false
    // Only the algorithm decides: a damaged SM2 key should fail in the SM2 reader, with its message.
    if (block.label === 'PUBLIC KEY') return isSm2Algorithm(sequence(block.der)[0])
    if (block.label === 'CERTIFICATE') return isSm2Algorithm(sequence(spkiOfCertificate(block.der))[0])
    if (block.label === 'PRIVATE KEY') return isSm2Algorithm(sequence(block.der)[1])
    const curve = sequence(block.der).find((t) => t.tag === 0xa0)
    return curve !== undefined && oid(parse(curve.value)) === SM2_OID
  } catch {
    return false
  }
}

/** A PEM block of `der` under `label`, 64 base64 characters a line. */
export function pemOf(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

const ALGORITHM = encode(TAG.SEQUENCE, encodeOid(EC_PUBLIC_KEY), encodeOid(SM2_OID))

/** DER SPKI of an uncompressed point, as OpenSSL 3 writes it. */
export function spkiDer(point: Buffer): Buffer {
  return encode(TAG.SEQUENCE, ALGORITHM, encode(TAG.BIT_STRING, Buffer.from([0]), point))
}

/** PEM SPKI of an uncompressed point. */
export function spkiPem(point: Buffer): string {
  return pemOf('PUBLIC KEY', spkiDer(point))
}

/** PEM PKCS#8 of a key pair, as OpenSSL 3 writes it (ECPrivateKey with the public key, curve in the algorithm). */
export function pkcs8Pem(d: Buffer, point: Buffer): string {
  const ec = encode(TAG.SEQUENCE, encode(TAG.INTEGER, Buffer.from([1])), encode(TAG.OCTET_STRING, d), encode(0xa1, encode(TAG.BIT_STRING, Buffer.from([0]), point)))
  return pemOf('PRIVATE KEY', encode(TAG.SEQUENCE, encode(TAG.INTEGER, Buffer.from([0])), ALGORITHM, encode(TAG.OCTET_STRING, ec)))
}
