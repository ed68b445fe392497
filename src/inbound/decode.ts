import { TongbanError } from '../errors.ts'
import { CTY_JWS, decryptJwe, digestHex, parseJweHeader, parseJws, suiteOf, verifyJws, type GatewayKeyring, type ParsedJws } from '../crypto/index.ts'
import type { Directory, KeyOwner, Participant } from '../core/directory.ts'
import type { DecodedMessage, Envelope } from '../core/envelope.ts'
import type { MessageValidator } from '../core/schemas.ts'
import type { Clock } from '../util/ids.ts'

export interface DecodeDeps {
  readonly keyring: GatewayKeyring
  readonly directory: Directory
  readonly validator: MessageValidator
  readonly clock: Clock
}

/** JWS typ of a message, and of a token request. */
export const JWS_TYP = 'tongban+jws'
export const TOKEN_REQUEST_TYP = 'tongban+token-request'

/**
 * Opens a request body: JWE → JWS → envelope. Checks, in order: framing, decryption with a
 * gateway key, the signer's key, that the signer is the caller, the signature over the exact
 * bytes, the envelope schema, and that `from` is the signer. Nothing here touches storage.
 */
export async function decodeMessage(raw: Buffer, caller: Participant, deps: DecodeDeps): Promise<DecodedMessage> {
  const text = raw.toString('latin1').trim()
  const parts = text.split('.').length
  let jwsText: string
  if (parts === 5) {
    const header = parseJweHeader(text)
    suiteOf(header)
    if (header.cty !== CTY_JWS) throw new TongbanError('TB_ERR_JOSE_MALFORMED', `the JWE must carry cty "${CTY_JWS}"`)
    const key = deps.keyring.decrypter(header.kid, header.alg)
    if (key === undefined) throw new TongbanError('TB_ERR_KEY_UNKNOWN', 'the JWE is not encrypted to a key of this gateway (see GET /v1/directory)')
    jwsText = (await decryptJwe(text, key)).plaintext.toString('latin1')
  } else if (parts === 3) {
    // Encryption may be waived only on a link the directory marks as a private network.
    if (!caller.privateNetwork) throw new TongbanError('TB_ERR_ENCRYPTION_REQUIRED', 'messages must be encrypted to the gateway on this link')
    jwsText = text
  } else {
    throw new TongbanError('TB_ERR_JOSE_MALFORMED', 'the body is neither a compact JWE nor a compact JWS')
  }

  const jws = parseJws(jwsText)
  const suite = suiteOf(jws.header)
  const owner = await verifySignature(jws, JWS_TYP, deps)
  if (ownerId(owner) !== caller.id) throw new TongbanError('TB_ERR_SIGNER_MISMATCH', 'the signing key belongs to another participant than the token subject')
  const envelope = parseEnvelope(jws, deps.validator)
  if (envelope.from !== caller.id) throw new TongbanError('TB_ERR_SIGNER_MISMATCH', '"from" must be the signer and the token subject')
  return { envelope, jws: jws.compact, suite, requestDigest: digestHex(suite, raw) }
}

/** The id of a key's owner. */
export function ownerId(owner: KeyOwner): string {
  return owner.kind === 'participant' ? owner.participant.id : owner.operator.id
}

/** The JWS must be signed with a key the directory holds and that is valid now, and the signature must hold. */
export async function verifySignature(jws: ParsedJws, typ: string, deps: Pick<DecodeDeps, 'directory' | 'clock'>): Promise<KeyOwner> {
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

function parseEnvelope(jws: ParsedJws, validator: MessageValidator): Envelope {
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
