import { createHash } from 'node:crypto'
/**
 * The trust store: the CA certificates partner certificates must chain to (trust anchors), each
 * with an optional CRL, and the checks a partner key given as a certificate passes — at load
 * (chain, key usage, validity) and at each use (validity, revocation). docs/directory.md
 * ("Certificates") is the reference.
 */
import { readFileSync } from 'node:fs'
import { PublicKey, type KeyKind } from './keys.ts'
import { keyBlock } from './sm/pem.ts'
import {
  EXT, certificatesOf, crlDerOf, issuerKeyOf, parseCertificate, parseCrl, spkiPemOf, verifySigned,
  type Certificate, type Crl, type IssuerKey, type KeyUsageBit,
} from './x509.ts'

/** The `pki` section of the configuration. */
export interface PkiSettings {
  readonly anchors: ReadonlyArray<{ readonly file: string; readonly crl?: string }>
  /** Refuse bare public keys in the directory: every partner key must be a certificate. */
  readonly requireCertificates?: boolean
}

/** What a directory key is for. */
export type KeyUse = 'signing' | 'encryption'

/** Whether a key may be used at a given time. */
export type KeyState = 'valid' | 'not-yet-valid' | 'expired' | 'revoked'

/** What the directory (and `tongban directory check`) may know of a partner certificate. */
export interface CertificateInfo {
  readonly serial: string
  readonly subject: string
  readonly issuer: string
  readonly notBefore: Date
  readonly notAfter: Date
}

/** A configuration fault of the trust store: each problem starts with its pointer in the configuration. */
export class PkiError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`trust anchors: ${problems.join('; ')}`)
    this.name = 'PkiError'
    this.problems = problems
  }
}

/** The outcome of reading one directory key. */
export type KeyReading =
  | { readonly ok: true; readonly key: PublicKey; readonly certificate: CertificateInfo | undefined; readonly notices: readonly string[] }
  | { readonly ok: false; readonly problem: string }

/** Key usage a certificate must carry, per use and key kind (one of the bits is enough). */
const USAGE: Readonly<Record<KeyUse, Readonly<Record<KeyKind, readonly KeyUsageBit[]>>>> = {
  signing: { sm2: ['digitalSignature', 'nonRepudiation'], rsa: ['digitalSignature', 'nonRepudiation'], 'ec-p256': ['digitalSignature', 'nonRepudiation'] },
  encryption: { sm2: ['keyEncipherment', 'dataEncipherment'], rsa: ['keyEncipherment'], 'ec-p256': ['keyAgreement'] },
}

/** Extensions a partner certificate may mark critical. */
const KNOWN_CRITICAL = new Set<string>([EXT.basicConstraints, EXT.keyUsage, EXT.extKeyUsage, EXT.subjectAltName, EXT.certificatePolicies])

/** CRL extensions that may be critical (others — a delta or partitioned CRL — are refused). */
const KNOWN_CRITICAL_CRL = new Set<string>([EXT.crlNumber, EXT.authorityKeyIdentifier])

interface Anchor {
  readonly at: string
  readonly cert: Certificate
  readonly key: IssuerKey
  readonly crlFile: string | undefined
}

interface Revocation {
  readonly at: Date
  readonly reason: number | undefined
}

const DAY_MS = 86_400_000
/** A CRL issued up to this far in the future is not worth a warning (clocks differ a little). */
const CLOCK_SKEW_MS = 300_000

/** Trust anchors and their CRLs. Anchors are fixed at load; CRLs are re-read by reloadCrls. */
export class TrustStore {
  readonly requireCertificates: boolean
  readonly #anchors: readonly Anchor[]
  /** Per anchor (same index): its CRL's revoked serials, replaced whole by reloadCrls. */
  #revoked: ReadonlyArray<ReadonlyMap<string, Revocation>>
  /** Which anchor issued each certificate this store has read, and its serial. */
  readonly #issued = new WeakMap<PublicKey, { anchor: number; serial: string; info: CertificateInfo }>()

  private constructor(anchors: readonly Anchor[], requireCertificates: boolean) {
    this.#anchors = anchors
    this.#revoked = anchors.map(() => new Map())
    this.requireCertificates = requireCertificates
  }

  /** No anchors: bare keys only (certificates cannot chain to anything). */
  static empty(): TrustStore {
    return new TrustStore([], false)
  }

  /**
   * Reads the anchors (CA certificates) and their CRLs; throws PkiError naming every fault with
   * its pointer (`/pki/anchors/0/file: …`). `notices` receives warnings (a stale CRL, an anchor
   * that expires soon).
   */
  static load(settings: PkiSettings, now: Date, notices: string[] = []): TrustStore {
    const problems: string[] = []
    const anchors: Anchor[] = []
    settings.anchors.forEach((a, i) => {
      const at = `/pki/anchors/${i}`
      try {
        const certs = certificatesOf(readFileSync(a.file))
        if (certs.length !== 1) throw new RangeError(`holds ${certs.length} certificates: give one CA certificate per anchor`)
        const cert = parseCertificate(certs[0] as Buffer)
        if (!cert.ca) throw new RangeError('not a CA certificate (basicConstraints cA is not set)')
        if (cert.keyUsage !== undefined && !cert.keyUsage.has('keyCertSign')) throw new RangeError('its keyUsage lacks keyCertSign')
        const key = issuerKeyOf(cert)
        // A self-signed root must carry its own signature: a damaged or edited file shows here.
        if (cert.issuer.equals(cert.subject) && !verifySigned(cert, key)) throw new RangeError('its self-signature does not verify')
        if (cert.notAfter < now) notices.push(`${at}/file: the anchor ${cert.subjectText} expired on ${cert.notAfter.toISOString()}`)
        else if (cert.notAfter.getTime() - now.getTime() < 30 * DAY_MS) notices.push(`${at}/file: the anchor ${cert.subjectText} expires on ${cert.notAfter.toISOString()}`)
        anchors.push({ at, cert, key, crlFile: a.crl })
      } catch (err) {
        problems.push(`${at}/file: ${a.file}: ${(err as Error).message}`)
      }
    })
    if (problems.length > 0) throw new PkiError(problems)
    const store = new TrustStore(anchors, settings.requireCertificates ?? false)
    notices.push(...store.reloadCrls(now))
    return store
  }

  /** The anchors' public-key fingerprints (base64url SHA-256 of the SPKI, as PublicKey.fingerprint), with where each is configured. */
  anchorFingerprints(): Array<{ at: string; fingerprint: string }> {
    return this.#anchors.map((a) => ({ at: a.at, fingerprint: createHash('sha256').update(a.cert.spki).digest('base64url') }))
  }

  /** The anchors, for reports. */
  anchors(): Array<{ subject: string; notAfter: Date; crl: string | undefined }> {
    return this.#anchors.map((a) => ({ subject: a.cert.subjectText, notAfter: a.cert.notAfter, crl: a.crlFile }))
  }

  /**
   * Re-reads every anchor's CRL file (on each directory load, and whenever the operator asks).
   * All or nothing: a CRL that cannot be read, is not issued by its anchor or whose signature
   * does not verify throws PkiError and the CRLs in force stay as they were. Returns warnings:
   * a CRL past its nextUpdate is reported but still applied (an old list still revokes).
   */
  reloadCrls(now: Date): string[] {
    const problems: string[] = []
    const warnings: string[] = []
    const next = this.#anchors.map((a) => {
      if (a.crlFile === undefined) return new Map<string, Revocation>()
      try {
        const crl = parseCrl(crlDerOf(readFileSync(a.crlFile)))
        checkCrl(crl, a)
        if (crl.nextUpdate !== undefined && crl.nextUpdate < now) warnings.push(`${a.at}/crl: the CRL of ${a.cert.subjectText} is past its nextUpdate (${crl.nextUpdate.toISOString()}): applied anyway; fetch a new one`)
        if (crl.thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS) warnings.push(`${a.at}/crl: the CRL of ${a.cert.subjectText} was issued in the future (${crl.thisUpdate.toISOString()}): check the clocks`)
        return crl.revoked
      } catch (err) {
        problems.push(`${a.at}/crl: ${a.crlFile}: ${(err as Error).message}`)
        return new Map<string, Revocation>()
      }
    })
    if (problems.length > 0) throw new PkiError(problems)
    this.#revoked = next
    return warnings
  }

  /**
   * Reads a directory key: a bare PEM public key (refused when certificates are required), or a
   * PEM certificate that must be issued by an anchor and carry the key usage `use` needs. A
   * certificate outside its validity at `now`, or revoked, is read with a notice and refused at
   * use (state), so that neither an expiry nor a new CRL stops the gateway.
   */
  readKey(kid: string, pem: string, use: KeyUse, now: Date): KeyReading {
    if (keyBlock(pem)?.label !== 'CERTIFICATE') {
      if (this.requireCertificates) return { ok: false, problem: 'a certificate is required (pki.requireCertificates), not a bare public key' }
      try {
        return { ok: true, key: PublicKey.fromPem(kid, pem), certificate: undefined, notices: [] }
      } catch (err) {
        return { ok: false, problem: (err as Error).message }
      }
    }
    try {
      return this.#readCertificate(kid, pem, use, now)
    } catch (err) {
      return { ok: false, problem: `certificate of ${kid}: ${(err as Error).message}` }
    }
  }

  /** Whether `key` may be used at `now`: a bare key is always valid here; a certificate by its validity and the CRLs in force. */
  state(key: PublicKey, now: Date): KeyState {
    const issued = this.#issued.get(key)
    if (issued === undefined) return 'valid'
    if (this.#revoked[issued.anchor]?.has(issued.serial)) return 'revoked'
    if (now < issued.info.notBefore) return 'not-yet-valid'
    if (now > issued.info.notAfter) return 'expired'
    return 'valid'
  }

  /** The certificate a key was read from, if it was. */
  certificate(key: PublicKey): CertificateInfo | undefined {
    return this.#issued.get(key)?.info
  }

  #readCertificate(kid: string, pem: string, use: KeyUse, now: Date): KeyReading {
    const certs = certificatesOf(pem)
    if (certs.length !== 1) throw new RangeError(`${certs.length} certificates in one key: give the partner's certificate alone (to trust an intermediate CA, configure it as an anchor)`)
    const cert = parseCertificate(certs[0] as Buffer)
    const anchor = this.#issuerOf(cert)
    if (cert.ca) throw new RangeError('a CA certificate is not a partner key')
    for (const [id, ext] of cert.extensions) if (ext.critical && !KNOWN_CRITICAL.has(id)) throw new RangeError(`critical extension ${id} is not understood`)
    const key = PublicKey.fromPem(kid, spkiPemOf(cert.spki))
    const wanted = USAGE[use][key.kind]
    if (cert.keyUsage === undefined) throw new RangeError(`no keyUsage extension: a ${use} key needs ${wanted.join(' or ')}`)
    if (!wanted.some((bit) => cert.keyUsage?.has(bit))) {
      throw new RangeError(`keyUsage ${[...cert.keyUsage].join(', ') || '(none)'} does not allow ${use} with a ${key.kind} key (needs ${wanted.join(' or ')})`)
    }
    const info: CertificateInfo = { serial: cert.serial, subject: cert.subjectText, issuer: cert.issuerText, notBefore: cert.notBefore, notAfter: cert.notAfter }
    this.#issued.set(key, { anchor, serial: cert.serial, info })
    // Outside its validity or revoked: loaded, with a notice, and refused at use (state) — one
    // partner's expired certificate must not stop a restart or a reload, and a certificate valid
    // from tomorrow is how a rotation is scheduled.
    const state = this.state(key, now)
    const notices = state === 'revoked' ? [`${kid}: certificate ${cert.serial} is revoked by the CRL of ${cert.issuerText}: loaded, refused at use`]
      : state === 'expired' ? [`${kid}: certificate ${cert.serial} expired on ${cert.notAfter.toISOString()}: loaded, refused at use`]
        : state === 'not-yet-valid' ? [`${kid}: certificate ${cert.serial} is not valid before ${cert.notBefore.toISOString()}: loaded, used from then`] : []
    return { ok: true, key, certificate: info, notices }
  }

  /** The index of the anchor that issued `cert` (by name, key identifier and signature). */
  #issuerOf(cert: Certificate): number {
    let named = false
    for (const [i, a] of this.#anchors.entries()) {
      if (!a.cert.subject.equals(cert.issuer)) continue
      if (cert.authorityKeyId !== undefined && a.cert.subjectKeyId !== undefined && cert.authorityKeyId !== a.cert.subjectKeyId) continue
      named = true
      let good = false
      try {
        good = verifySigned(cert, a.key)
      } catch {
        good = false
      }
      if (good) return i
    }
    if (named) throw new RangeError(`the signature of ${cert.issuerText} on it does not verify under the configured anchor`)
    throw new RangeError(`issued by ${cert.issuerText || 'an unnamed CA'}, which is not a trust anchor (pki.anchors)`)
  }
}

/** A CRL is accepted only from its anchor: same name, a signature that verifies, and nothing critical this reader cannot honour. */
function checkCrl(crl: Crl, anchor: Anchor): void {
  if (!crl.issuer.equals(anchor.cert.subject)) throw new RangeError(`issued by ${crl.issuerText}, not by the anchor ${anchor.cert.subjectText}`)
  if (crl.authorityKeyId !== undefined && anchor.cert.subjectKeyId !== undefined && crl.authorityKeyId !== anchor.cert.subjectKeyId) {
    throw new RangeError('its authority key identifier is not the anchor\'s')
  }
  if (anchor.cert.keyUsage !== undefined && !anchor.cert.keyUsage.has('cRLSign')) throw new RangeError('the anchor\'s keyUsage lacks cRLSign')
  for (const [id, ext] of crl.extensions) if (ext.critical && !KNOWN_CRITICAL_CRL.has(id)) throw new RangeError(`critical CRL extension ${id} is not supported (delta and partitioned CRLs are not read)`)
  if (!verifySigned(crl, anchor.key)) throw new RangeError('its signature does not verify under the anchor')
}
