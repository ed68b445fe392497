import { parseJws, signJws, verifyJws, type PrivateKey } from '../crypto/index.ts'
import { CERTIFICATE_TYP, certificatePayload, certificatePayloadFault, type ElectronicCertificate } from '../core/e-certificates.ts'
import type { PublishedDirectory } from './directory.ts'
import { TongbanClientError } from './errors.ts'

export type { ElectronicCertificate } from '../core/e-certificates.ts'

/** A registration centre signs an electronic certificate with its own key (the issuer is the key's participant). */
export async function signElectronicCertificate(c: Omit<ElectronicCertificate, 'issuer'>, key: PrivateKey): Promise<string> {
  const issuer = key.kid.split('#')[0] ?? ''
  return signJws(certificatePayload({ ...c, issuer }), key, { typ: CERTIFICATE_TYP })
}

/**
 * Verifies an electronic certificate offline: signed by a key the (gateway-signed) directory
 * publishes for its issuer, valid at `at`, canonical, and issued by that participant, a
 * registration centre. Returns
 * the certificate; throws TB_CLIENT_CERTIFICATE_INVALID otherwise. Compare its
 * document.digest with the digest of the document you hold.
 */
export async function verifyElectronicCertificate(jws: string, directory: PublishedDirectory, at: Date = new Date()): Promise<ElectronicCertificate> {
  const invalid = (why: string): TongbanClientError => new TongbanClientError('TB_CLIENT_CERTIFICATE_INVALID', `the electronic certificate is not valid: ${why}`)
  let parsed
  try {
    parsed = parseJws(jws)
  } catch {
    throw invalid('not a compact JWS')
  }
  if (parsed.header.typ !== CERTIFICATE_TYP) throw invalid(`its typ is not ${CERTIFICATE_TYP}`)
  const found = directory.signingKey(parsed.header.kid ?? '', at)
  if (found === undefined) throw invalid('its key is not in the directory, or not valid then')
  if (!(await verifyJws(parsed, found.key))) throw invalid('the signature does not verify')
  const fault = certificatePayloadFault(parsed.payload)
  if (fault !== null) throw invalid(fault)
  const c = JSON.parse(parsed.payload.toString('utf8')) as ElectronicCertificate
  if (c.issuer !== found.owner) throw invalid('it is not signed by its issuer')
  if (directory.participant(c.issuer)?.role !== 'REG') throw invalid('its issuer is not a registration centre')
  return c
}
