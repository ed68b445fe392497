import { TongbanError } from '../errors.ts'
import { CTY_JWS, decryptJweWithAny, parseJweHeader, parseJws, suiteOf, verifyJws, type GatewayKeyring, type ParsedJws, type Suite } from '../crypto/index.ts'
import type { Clock } from '../util/ids.ts'
import { decodeUtf8Strict, parseStrictJson } from '../util/json.ts'
import type { Directory, KeyOwner, Participant } from './directory.ts'
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
  const found = deps.directory.signingKeyStatus(kid, deps.clock.now())
  if (found.state === 'unknown') throw new TongbanError('TB_ERR_KEY_UNKNOWN', 'the signing key is not in the directory', { detail: { kid } })
  if (found.state === 'revoked') throw new TongbanError('TB_ERR_KEY_REVOKED', 'the signing key\'s certificate is revoked', { detail: { kid } })
  if (found.state !== 'valid') throw new TongbanError('TB_ERR_KEY_EXPIRED', `the signing key is ${found.state === 'expired' ? 'expired' : 'not yet valid'}`, { detail: { kid } })
  // An alg the key cannot sign with is an alg problem (errors.md), like on the encryption side.
  if (!found.key.jwsAlgs.includes(jws.header.alg as never)) {
    throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `alg ${jws.header.alg} does not fit key ${kid} (it signs with ${found.key.jwsAlgs.join(' or ')})`, { detail: { kid, alg: jws.header.alg } })
  }
  if (!(await verifyJws(jws, found.key))) throw new TongbanError('TB_ERR_SIGNATURE_INVALID', 'the signature does not verify')
  return found.owner
}

/**
 * A signed JSON payload, read strictly: UTF-8 without BOM, JSON, no duplicate member names, no
 * control characters other than tab/LF/CR, no lone surrogates (src/util/json.ts). Not JSON is
 * TB_ERR_JOSE_MALFORMED; valid JSON that is read differently by different parsers, or that no
 * database stores, is TB_ERR_SCHEMA with the pointer of the first fault.
 */
export function parseSignedJson(payload: Uint8Array, what: string): unknown {
  const text = decodeUtf8Strict(payload)
  if (text === undefined) throw new TongbanError('TB_ERR_JOSE_MALFORMED', `the ${what} is not UTF-8`)
  const parsed = parseStrictJson(text)
  if (parsed.ok) return parsed.value
  if (parsed.syntax) throw new TongbanError('TB_ERR_JOSE_MALFORMED', `the ${what} is not JSON`)
  const { pointer, rule, message } = parsed.fault
  throw new TongbanError('TB_ERR_SCHEMA', `the ${what} is not strict JSON: ${message}`, { violations: [{ pointer, rule, message }] })
}

/** The JWS payload as an envelope that matches schemas/envelope.v1.json. */
export function parseEnvelope(jws: ParsedJws, validator: MessageValidator): Envelope {
  const payload = parseSignedJson(jws.payload, 'JWS payload')
  const result = validator.validateEnvelope(payload)
  if (!result.ok) throw new TongbanError('TB_ERR_SCHEMA', 'the envelope does not match its schema', { violations: result.violations })
  return payload as Envelope
}

/**
 * A message's JWS from `caller`: signed with a key of the directory valid now (typ
 * tongban+jws), by the caller, over an envelope that matches its schema (read strictly) and whose
 * `from` is the caller. Shared by POST /v1/messages and each message of a batch.
 */
export async function openMessage(jwsText: string, caller: Participant, deps: { directory: Directory; clock: Clock; validator: MessageValidator }): Promise<{ envelope: Envelope; jws: ParsedJws; suite: Suite }> {
  const jws = parseJws(jwsText)
  const suite = suiteOf(jws.header)
  const owner = await verifySignature(jws, JWS_TYP, deps)
  if (ownerId(owner) !== caller.id) throw new TongbanError('TB_ERR_SIGNER_MISMATCH', 'the signing key belongs to another participant than the token subject')
  const envelope = parseEnvelope(jws, deps.validator)
  if (envelope.from !== caller.id) throw new TongbanError('TB_ERR_SIGNER_MISMATCH', '"from" must be the signer and the token subject')
  return { envelope, jws, suite }
}

/**
 * The JWS inside a request or answer body: a JWE to one of the gateway's keys (cty
 * tongban+jws), or the bare JWS when `bareAllowed` — only for a participant on a private
 * network, from one of its source addresses (see bareJwsAllowed).
 */
export async function unwrapToJws(text: string, keyring: GatewayKeyring, bareAllowed: boolean): Promise<string> {
  const parts = text.split('.').length
  if (parts === 5) {
    const header = parseJweHeader(text)
    suiteOf(header)
    if (header.cty !== CTY_JWS) throw new TongbanError('TB_ERR_JOSE_MALFORMED', `the JWE must carry cty "${CTY_JWS}"`)
    const keys = keyring.decrypters(header.kid, header.alg)
    return (await decryptJweWithAny(text, keys, 'the JWE is not encrypted to a key of this gateway (see GET /v1/directory)')).plaintext.toString('latin1')
  }
  if (parts === 3) {
    // Encryption may be waived only on a link the directory marks as a private network, and
    // only for traffic that comes from that network's addresses: the mark alone is not enough.
    if (!bareAllowed) throw new TongbanError('TB_ERR_ENCRYPTION_REQUIRED', 'messages must be encrypted to the gateway on this link')
    return text
  }
  throw new TongbanError('TB_ERR_JOSE_MALFORMED', 'the body is neither a compact JWE nor a compact JWS')
}

/**
 * Whether `participant` may send a bare JWS from `address` (the request's source address, as
 * request.ip gives it): only when the directory marks its link as a private network and the
 * address lies in one of the link's source CIDRs.
 */
export function bareJwsAllowed(participant: Participant, address: string): boolean {
  return participant.privateSources !== undefined && participant.privateSources.contains(address)
}
