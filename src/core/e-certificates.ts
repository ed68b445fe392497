import canonicalize from 'canonicalize'
import { parseJws, type ParsedJws } from '../crypto/index.ts'
import type { Violation } from '../errors.ts'
import { isTongbanError } from '../errors.ts'
import type { Clock } from '../util/ids.ts'
import { decodeUtf8Strict, parseStrictJson } from '../util/json.ts'
import { dateTimeFault } from './formats.ts'
import type { Directory } from './directory.ts'
import type { Envelope } from './envelope.ts'
import { ownerId, verifySignature } from './verify.ts'

/**
 * Electronic certificates (电子证照): the issuing registration centre signs, with its own signing
 * key (the one the directory publishes for its messages), a JWS whose protected header has
 * `typ: "tongban+certificate"` and whose payload is the RFC 8785 canonical JSON of
 * ElectronicCertificate. Anyone holding the published directory verifies it offline (the SDK's
 * verifyElectronicCertificate, or any JOSE library and a JCS canonicaliser); the gateway checks
 * one carried by mortgage.registration.completed or registration.completed before accepting it.
 */
export const CERTIFICATE_TYP = 'tongban+certificate'

export interface ElectronicCertificate {
  /** 不动产登记证明号 (kind mortgage) or 不动产权证书号 (kind title). */
  readonly certificateNumber: string
  readonly kind: 'mortgage' | 'title'
  /** The issuing registration centre's participant id (its key signs). */
  readonly issuer: string
  readonly unitCode: string
  readonly issuedAt: string
  /** The certificate document (OFD/PDF) it vouches for, by digest. */
  readonly document: { readonly digest: { readonly alg: 'SM3' | 'SHA-256'; readonly value: string } }
}

const KEYS = ['certificateNumber', 'document', 'issuedAt', 'issuer', 'kind', 'unitCode']

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Why `document` is not { digest: { alg, value } }, or null. */
function documentFault(doc: unknown): string | null {
  const digest = isObject(doc) && Object.keys(doc).join() === 'digest' ? doc.digest : undefined
  const ok = isObject(digest) && Object.keys(digest).sort().join() === 'alg,value' && (digest.alg === 'SM3' || digest.alg === 'SHA-256') &&
    typeof digest.value === 'string' && /^[0-9a-f]{64}$/.test(digest.value)
  return ok ? null : 'its document is { digest: { alg: SM3 | SHA-256, value: 64 lower-case hex } }'
}

/** Why a payload is not an electronic certificate in its canonical form, or null (never throws). */
export function certificatePayloadFault(payload: Uint8Array): string | null {
  // Strict UTF-8 and JSON first (a lone surrogate, a number out of range cannot be canonical).
  const text = decodeUtf8Strict(payload)
  if (text === undefined) return 'its payload is not UTF-8'
  const parsed = parseStrictJson(text)
  if (!parsed.ok) return 'its payload is not plain JSON'
  let canonical: string | undefined
  try {
    canonical = canonicalize(parsed.value)
  } catch {
    return 'its payload cannot be put in canonical form'
  }
  if (canonical !== text) return 'its payload is not in canonical form (RFC 8785)'
  const c = parsed.value
  if (!isObject(c) || Object.keys(c).sort().join() !== KEYS.join()) return `its payload has exactly the members ${KEYS.join(', ')}`
  const doc = documentFault(c.document)
  if (doc !== null) return doc
  if (c.kind !== 'mortgage' && c.kind !== 'title') return 'its kind is mortgage or title'
  for (const k of ['certificateNumber', 'issuer', 'unitCode']) if (typeof c[k] !== 'string' || (c[k] as string).length === 0) return `its ${k} is a string`
  if (typeof c.issuedAt !== 'string' || dateTimeFault(c.issuedAt) !== null) return 'its issuedAt is an RFC 3339 time with an offset'
  return null
}

/** The canonical payload bytes of a certificate (what its issuer signs). */
export function certificatePayload(c: ElectronicCertificate): Buffer {
  return Buffer.from(canonicalize(c) as string, 'utf8')
}

/** What a carried certificate must agree with: the message that carries it. */
export interface CertificateContext {
  readonly kind: 'mortgage' | 'title'
  readonly env: Envelope
  readonly certificateNumber: unknown
  readonly documentDigest?: unknown
}

/**
 * The violations of an electronic certificate carried at /body/electronicCertificate: it must be
 * signed by the sender with a key valid now, be canonical, and name the message's certificate,
 * unit, kind and (where the body has one) document digest.
 */
export async function certificateViolations(jws: string, ctx: CertificateContext, deps: { directory: Directory; clock: Clock }): Promise<Violation[]> {
  const fault = (message: string): Violation[] => [{ pointer: '/body/electronicCertificate', rule: 'certificate', message: `the electronic certificate is not valid: ${message}` }]
  let parsed: ParsedJws
  try {
    parsed = parseJws(jws)
  } catch {
    return fault('not a compact JWS')
  }
  if (parsed.header.typ !== CERTIFICATE_TYP) return fault(`its typ must be "${CERTIFICATE_TYP}"`)
  try {
    const owner = await verifySignature(parsed, CERTIFICATE_TYP, deps)
    if (ownerId(owner) !== ctx.env.from) return fault('it is not signed by the sender')
  } catch (err) {
    // A key or signature problem is the certificate's fault; anything else is ours (a 500).
    if (isTongbanError(err)) return fault(err.message)
    throw err
  }
  const bad = certificatePayloadFault(parsed.payload)
  if (bad !== null) return fault(bad)
  const c = JSON.parse(parsed.payload.toString('utf8')) as ElectronicCertificate
  if (c.issuer !== ctx.env.from) return fault('its issuer is not the sender')
  if (c.kind !== ctx.kind) return fault(`its kind must be ${ctx.kind}`)
  if (c.certificateNumber !== ctx.certificateNumber) return fault('it names another certificate number than the message')
  if (c.unitCode !== ctx.env.unitCode) return fault('it names another unit than the message')
  const d = ctx.documentDigest as { alg?: unknown; value?: unknown } | undefined
  if (d !== undefined && (d.alg !== c.document.digest.alg || d.value !== c.document.digest.value)) return fault('it vouches for another document than the message names')
  return []
}
