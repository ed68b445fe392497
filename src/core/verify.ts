import { TongbanError } from '../errors.ts'
import { CTY_JWS, decryptJwe, parseJweHeader, suiteOf, verifyJws, type GatewayKeyring, type ParsedJws } from '../crypto/index.ts'
import type { Clock } from '../util/ids.ts'
import type { Directory, KeyOwner } from './directory.ts'
import type { Envelope } from './envelope.ts'
import type { MessageValidator } from './schemas.ts'

/** JWS typ of a message (and of a partner's answer), and of a token request. */
export const JWS_TYP = 'tongban+jws'
export const TOKEN_REQUEST_TYP = 'tongban+token-request'

/** The id of a key's owner. */
export function ownerId(owner: KeyOwner): string {
  return owner.kind === 'participant' ? owner.participant.id : owner.operator.id
}

/** The JWS must be signed with a key the directory holds and that is valid now, and the signature must hold. */
export async function verifySignature(jws: ParsedJws, typ: string, deps: { directory: Directory; clock: Clock }): Promise<KeyOwner> {
  // A distinct typ per use keeps a token request from passing as a message, and the reverse.
  if (jws.header.typ !== typ) throw new TongbanError('TB_ERR_JOSE_MALFORMED', `the JWS typ must be "${typ}"`)
  const kid = jws.header.kid
  if (kid === undefined) throw new TongbanError('TB_ERR_KEY_UNKNOWN', 'the JWS header has no kid')
  const found = deps.directory.signingKey(kid, deps.clock.now())
  if (found === undefined) throw new TongbanError('TB_ERR_KEY_UNKNOWN', 'the signing key is unknown or not valid now', { detail: { kid } })
  if (!found.key.jwsAlgs.includes(jws.header.alg as never)) throw new TongbanError('TB_ERR_SIGNATURE_INVALID', `alg ${jws.header.alg} does not fit key ${kid}`)
  if (!(await verifyJws(jws, found.key))) throw new TongbanError('TB_ERR_SIGNATURE_INVALID', 'the signature does not verify')
  return found.owner
}

/** The JWS payload as an envelope that matches schemas/envelope.v1.json. */
export function parseEnvelope(jws: ParsedJws, validator: MessageValidator): Envelope {
  let payload: unknown
  try {
    payload = JSON.parse(jws.payload.toString('utf8'))
  } catch {
    throw new TongbanError('TB_ERR_JOSE_MALFORMED', 'the JWS payload is not JSON')
  }
  const result = validator.validateEnvelope(payload)
  if (!result.ok) throw new TongbanError('TB_ERR_SCHEMA', 'the envelope does not match its schema', { violations: result.violations })
  return payload as Envelope
}

/**
 * The JWS inside a request or answer body: a JWE to one of the gateway's keys (cty
 * tongban+jws), or — only on a link marked as a private network — the bare JWS.
 */
export async function unwrapToJws(text: string, keyring: GatewayKeyring, privateNetwork: boolean): Promise<string> {
  const parts = text.split('.').length
  if (parts === 5) {
    const header = parseJweHeader(text)
    suiteOf(header)
    if (header.cty !== CTY_JWS) throw new TongbanError('TB_ERR_JOSE_MALFORMED', `the JWE must carry cty "${CTY_JWS}"`)
    const key = keyring.decrypter(header.kid, header.alg)
    if (key === undefined) throw new TongbanError('TB_ERR_KEY_UNKNOWN', 'the JWE is not encrypted to a key of this gateway (see GET /v1/directory)')
    return (await decryptJwe(text, key)).plaintext.toString('latin1')
  }
  if (parts === 3) {
    // Encryption may be waived only on a link the directory marks as a private network.
    if (!privateNetwork) throw new TongbanError('TB_ERR_ENCRYPTION_REQUIRED', 'messages must be encrypted to the gateway on this link')
    return text
  }
  throw new TongbanError('TB_ERR_JOSE_MALFORMED', 'the body is neither a compact JWE nor a compact JWS')
}
