import { decryptJwe, parseJws, verifyJws, type PrivateKey } from '../crypto/index.ts'
import { ATTESTS_HEADER, type Envelope } from '../core/envelope.ts'
import type { PublishedDirectory } from './directory.ts'

/** A delivery as a partner reads it. */
export interface InboundDelivery {
  readonly envelope: Envelope
  /** The sender's key id, verified against the published directory. */
  readonly kid: string
  /** The sender's JWS, kept as proof of origin. */
  readonly jws: string
  /** Set when the sender authenticates with a shared secret and the gateway signed for it. */
  readonly attestedBy?: 'gateway'
}

/**
 * The partner side of a native delivery: decrypt with the partner's own key, then verify the
 * ORIGINAL sender's signature against the gateway's published directory (end-to-end proof:
 * the gateway cannot forge a sender).
 */
export class PartnerInbox {
  readonly #key: PrivateKey
  readonly #directory: () => Promise<PublishedDirectory>

  constructor(decryptKey: PrivateKey, directory: () => Promise<PublishedDirectory>) {
    this.#key = decryptKey
    this.#directory = directory
  }

  /**
   * Opens a delivery body; throws if it is not for this partner or not signed by its sender —
   * or, for a sender the directory lists as signed by the gateway (a legacy system behind a
   * shared-secret adapter), by the gateway attesting that sender.
   */
  async open(body: string | Buffer): Promise<InboundDelivery> {
    const { plaintext } = await decryptJwe(body.toString().trim(), this.#key)
    const jws = parseJws(plaintext.toString('latin1'))
    const kid = jws.header.kid ?? ''
    const dir = await this.#directory()
    const envelope = JSON.parse(jws.payload.toString('utf8')) as Envelope
    const attests = jws.header[ATTESTS_HEADER]
    if (attests !== undefined) {
      const key = dir.gatewaySigningKeys.find((k) => k.kid === kid)
      if (key === undefined || !(await verifyJws(jws, key))) throw new Error('the delivery is not signed by the gateway it claims')
      if (attests !== envelope.from || dir.participant(envelope.from)?.signedBy !== 'gateway') throw new Error('the gateway does not attest this sender')
      return { envelope, kid, jws: jws.compact, attestedBy: 'gateway' }
    }
    const signer = dir.signingKey(kid)
    if (signer === undefined || !(await verifyJws(jws, signer.key))) throw new Error('the delivery is not signed by a known participant')
    if (envelope.from !== signer.owner) throw new Error('the delivery\'s sender is not its signer')
    return { envelope, kid, jws: jws.compact }
  }
}
