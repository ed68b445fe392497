/**
 * Reference partners: for every adapter, a partner system on loopback that speaks what the
 * adapter speaks, so that one conformance suite (test/adapters/conformance.test.ts) can run the
 * same checks against every adapter. The demo uses them as simulated agencies too.
 */
import type { PublishedDirectory } from '../src/client/index.ts'
import type { Envelope } from '../src/core/envelope.ts'
import type { Suite } from '../src/crypto/index.ts'
import { LegacyTaxSystem } from './legacy-tax/reference-partner.ts'
import { NativeReferencePartner } from './native/reference-partner.ts'

/**
 * How a reference partner answers one delivery. `outcome` is the adapter-neutral meaning the
 * conformance suite uses (each partner says it its own way: an HTTP status, a vendor code…);
 * `status` and `vendorCode` force a particular answer; `delayMs` waits before answering.
 */
export interface ReferenceBehaviour {
  readonly outcome?: 'accept' | 'refuse' | 'unavailable'
  readonly status?: number
  readonly vendorCode?: string
  readonly delayMs?: number
}

/** A message as the partner decoded it, in standard terms. */
export interface ReceivedMessage {
  /** The identity the partner drops repeats by: the gateway's exchange id (a message id is unique only per sender). */
  readonly exchangeId: string
  /** The sender's message id, when the partner sees the envelope. */
  readonly messageId?: string
  readonly type: string
  readonly caseId?: string
  readonly unitCode?: string
  /** The standard body as the partner reads it (mapped back, for adapters that map). */
  readonly body?: Readonly<Record<string, unknown>>
  /** The whole verified envelope (adapters that carry it end to end). */
  readonly envelope?: Envelope
}

/** What a reference partner needs to know. */
export interface ReferenceOptions {
  /** Its participant id, e.g. TAX:231202. */
  readonly participantId: string
  /** The algorithm suite of its own keys (adapters with JOSE keys). */
  readonly suite: Suite
  /** The secret it shares with the gateway (shared-secret adapters), or a function giving it. */
  readonly secret: Buffer | (() => Buffer)
  /** The gateway's published directory, to verify senders (adapters that carry signatures). */
  readonly directory?: () => Promise<PublishedDirectory>
  /** The gateway's base URL, for partners that post to it, or a function giving it. */
  readonly gatewayUrl?: string | (() => string)
}

/** A partner system of one adapter, on loopback. */
export interface ReferencePartner {
  start(port?: number): Promise<void>
  /** Where the gateway delivers to (valid after start). */
  readonly endpoint: string
  /** Directory fields this partner needs besides id, adapter and endpoint (e.g. its public keys), as in directory.json. */
  readonly directoryEntry: Readonly<Record<string, unknown>>
  /** How it answers the n-th delivery (n from 1) from now on. */
  behave(b: (n: number) => ReferenceBehaviour): void
  /** Every delivery it accepted, in order (repeats included). */
  received(): ReadonlyArray<ReceivedMessage>
  stop(): Promise<void>
}

export type ReferencePartnerFactory = (o: ReferenceOptions) => ReferencePartner

/** The reference partner of each adapter, by adapter name: the conformance suite fails for an adapter without one. */
export const REFERENCE_PARTNERS: ReadonlyMap<string, ReferencePartnerFactory> = new Map<string, ReferencePartnerFactory>([
  ['native', (o) => new NativeReferencePartner(o)],
  ['legacy-tax', (o) => new LegacyTaxSystem({ participantId: o.participantId, secret: o.secret, ...(o.gatewayUrl !== undefined ? { gatewayUrl: o.gatewayUrl } : {}) })],
])
