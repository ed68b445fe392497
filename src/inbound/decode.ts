import { digestHex, type GatewayKeyring } from '../crypto/index.ts'
import type { Directory, Participant } from '../core/directory.ts'
import { bareJwsAllowed, openMessage, unwrapToJws } from '../core/verify.ts'
import type { DecodedMessage } from '../core/envelope.ts'
import type { MessageValidator } from '../core/schemas.ts'
import type { Clock } from '../util/ids.ts'

export interface DecodeDeps {
  readonly keyring: GatewayKeyring
  readonly directory: Directory
  readonly validator: MessageValidator
  readonly clock: Clock
}

/**
 * Opens a request body: JWE → JWS → envelope. Checks, in order: framing, decryption with a
 * gateway key (waived only for a private-network participant sending from one of its source
 * addresses: `source` is request.ip), the signer's key, that the signer is the caller, the
 * signature over the exact bytes, the envelope schema (read strictly: no duplicate keys, no
 * control characters), and that `from` is the signer. Nothing here touches storage.
 */
export async function decodeMessage(raw: Buffer, caller: Participant, deps: DecodeDeps, source: string): Promise<DecodedMessage> {
  const jwsText = await unwrapToJws(raw.toString('latin1').trim(), deps.keyring, bareJwsAllowed(caller, source))
  const { envelope, jws, suite } = await openMessage(jwsText, caller, deps)
  return { envelope, jws: jws.compact, suite, requestDigest: digestHex(suite, raw) }
}
