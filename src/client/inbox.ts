import { decryptJwe, digestHex, parseJws, verifyJws, type PrivateKey } from '../crypto/index.ts'
import { ATTESTS_HEADER, DELIVERY_TYP, type DeliveryStatement, type Envelope } from '../core/envelope.ts'
import type { PublishedDirectory } from './directory.ts'
import { TongbanClientError } from './errors.ts'

/** A delivery as a partner reads it. */
export interface InboundDelivery {
  readonly envelope: Envelope
  /** The sender's key id, verified against the published directory. */
  readonly kid: string
  /** The sender's JWS, kept as proof of origin. */
  readonly jws: string
  /** Set when the sender authenticates with a shared secret and the gateway signed for it. */
  readonly attestedBy?: 'gateway'
  /**
   * The gateway's statement of this delivery, verified: its exchange id is what a partner drops
   * repeats by (a message id is unique only per sender).
   */
  readonly statement: DeliveryStatement
}

/**
 * The partner side of a native delivery: decrypt with the partner's own key, verify the ORIGINAL
 * sender's signature against the gateway's published directory (end-to-end proof: the gateway
 * cannot forge a sender), and verify the gateway's delivery statement (the Tongban-Delivery
 * header): that the gateway delivered exactly this JWS, to this partner — so a genuine JWS that
 * someone else encrypts and posts here is refused.
 */
export class PartnerInbox {
  readonly #key: PrivateKey
  readonly #directory: () => Promise<PublishedDirectory>
  readonly #self: string

  constructor(decryptKey: PrivateKey, directory: () => Promise<PublishedDirectory>, self: string) {
    this.#key = decryptKey
    this.#directory = directory
    this.#self = self
  }

  /**
   * Opens a delivery body with its Tongban-Delivery header; throws if it is not for this partner,
   * not signed by its sender (or, for a sender the directory lists as signed by the gateway, by
   * the gateway attesting it), or not vouched for by the gateway's statement.
   */
  async open(body: string | Buffer, statementJws: string | undefined): Promise<InboundDelivery> {
    const { plaintext } = await decryptJwe(body.toString().trim(), this.#key)
    const jws = parseJws(plaintext.toString('latin1'))
    if (jws.header.typ !== 'tongban+jws') throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the delivery is not a Tongban message')
    const kid = jws.header.kid ?? ''
    const dir = await this.#directory()
    const envelope = JSON.parse(jws.payload.toString('utf8')) as Envelope
    if (envelope.to !== undefined && envelope.to !== this.#self) throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the message is addressed to someone else')
    const statement = await this.#statement(statementJws, dir, jws.compact, envelope)
    const attests = jws.header[ATTESTS_HEADER]
    if (attests !== undefined) {
      const key = dir.gatewaySigningKeys.find((k) => k.kid === kid)
      if (key === undefined || !(await verifyJws(jws, key))) throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the delivery is not signed by the gateway it claims')
      if (attests !== envelope.from || dir.participant(envelope.from)?.signedBy !== 'gateway') throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the gateway does not attest this sender')
      return { envelope, kid, jws: jws.compact, attestedBy: 'gateway', statement }
    }
    const signer = dir.signingKey(kid)
    if (signer === undefined || !(await verifyJws(jws, signer.key))) throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the delivery is not signed by a known participant')
    if (envelope.from !== signer.owner) throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the delivery\'s sender is not its signer')
    return { envelope, kid, jws: jws.compact, statement }
  }

  async #statement(compact: string | undefined, dir: PublishedDirectory, jws: string, envelope: Envelope): Promise<DeliveryStatement> {
    if (compact === undefined || compact === '') throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the delivery has no gateway statement (Tongban-Delivery header)')
    const s = parseJws(compact)
    const key = dir.gatewaySigningKeys.find((k) => k.kid === s.header.kid)
    if (s.header.typ !== DELIVERY_TYP || key === undefined || !(await verifyJws(s, key))) throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the delivery statement is not signed by the gateway')
    const st = JSON.parse(s.payload.toString('utf8')) as DeliveryStatement
    const digest = digestHex(st.digestAlg === 'SM3' ? 'national' : 'international', Buffer.from(jws, 'latin1'))
    if (st.to !== this.#self) throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the gateway delivered this to someone else')
    if (st.digest !== digest || st.from !== envelope.from || st.messageId !== envelope.id) throw new TongbanClientError('TB_CLIENT_DELIVERY_INVALID', 'the delivery statement is for another message')
    return st
  }
}
