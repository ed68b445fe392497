/** The signed envelope of every message (DESIGN §4; schemas/envelope.v1.json). */
export interface Envelope {
  readonly id: string
  readonly type: string
  readonly v: number
  readonly from: string
  readonly to?: string
  readonly caseId?: string
  readonly unitCode?: string
  readonly iat: number
  readonly nonce: string
  /** The files it carries (申请材料), uploaded first: see AttachmentRef. */
  readonly attachments?: readonly AttachmentRef[]
  readonly body: Readonly<Record<string, unknown>>
}

/** The media type of an attachment stream (docs/protocol.md "Attachments"), both ways. */
export const ATTACHMENT_TYPE = 'application/vnd.tongban.attachment'

/** An attachment as a signed envelope names it (schemas/envelope.v1.json /attachments). */
export interface AttachmentRef {
  readonly id: string
  readonly digestAlg: 'SM3' | 'SHA-256'
  readonly digest: string
  readonly mediaType: string
  readonly size: number
}

/** A request body that was decrypted, verified and checked against the envelope schema. */
export interface DecodedMessage {
  readonly envelope: Envelope
  /** The sender's compact JWS exactly as signed: what recipients get. */
  readonly jws: string
  readonly suite: 'national' | 'international'
  /** Digest of the exact request body, in the sender's suite (hex). */
  readonly requestDigest: string
}

/** The receipt payload (回执), signed by the gateway in the sender's suite. */
export interface Receipt {
  readonly exchangeId: string
  readonly messageId: string
  readonly status: 'accepted'
  readonly receivedAt: string
  readonly digest: string
  /** The id of the ledger entry (message.accepted) that records this acceptance (docs/ledger.md); absent when the ledger is off. */
  readonly ledgerEntry?: string
}

/** A message an adapter submits on behalf of a partner that cannot sign JOSE (the gateway attests it). */
export interface AttestedMessage {
  /** Stable for retries of the same partner request (derive it from the partner's own serial number). */
  readonly id: string
  readonly type: string
  readonly v?: number
  readonly to?: string
  readonly caseId?: string
  readonly unitCode?: string
  readonly body: Record<string, unknown>
}

/** JWS header parameters of a message the gateway signs on a shared-secret partner's behalf. */
export const ATTESTS_HEADER = 'tongban-attests'
export const VIA_HEADER = 'tongban-via'

/** JWS typ of the gateway's signed delivery statement, and the HTTP header that carries it. */
export const DELIVERY_TYP = 'tongban+delivery'
export const DELIVERY_HEADER = 'tongban-delivery'

/** What the gateway's delivery statement says (see AdapterContext.deliveryStatement). */
export interface DeliveryStatement {
  readonly exchangeId?: string
  readonly deliveryId?: string
  readonly queryId?: string
  readonly messageId: string
  readonly from: string
  readonly to: string
  readonly digestAlg: 'SM3' | 'SHA-256'
  readonly digest: string
  readonly iat: number
}
