import { TongbanError } from '../errors.ts'
import { digestHex, signJws, type GatewayKeyring } from '../crypto/index.ts'
import type { Db } from '../store/db.ts'
import { storeAcceptance, type AcceptConflict, type AcceptDoc } from '../store/accept.ts'
import { findByMessageId } from '../store/exchanges.ts'
import type { NonceStore } from '../store/nonces.ts'
import type { Clock, IdSource } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import type { Ledger } from '../ledger/index.ts'
import type { Directory, Participant } from './directory.ts'
import { ATTESTS_HEADER, VIA_HEADER, type AttestedMessage, type DecodedMessage, type Envelope, type Receipt } from './envelope.ts'
import { JWS_TYP } from './verify.ts'
import { caseEffects } from './case-effects.ts'
import { checkIat } from './freshness.ts'
import { checkContent } from './content.ts'
import { mayOpenCase } from './case-join.ts'
import { certificateViolations } from './e-certificates.ts'
import { closeOutcome, stepKind, stepVariant, type MessageTypeRule } from './message-types.ts'
import { planRoute, type RoutePlan } from './router.ts'
import type { AttachmentService } from './attachments.ts'
import { makeEntry, tagged } from '../ledger/index.ts'
import type { MessageValidator } from './schemas.ts'

/** A delivery to hand to the queue once its acceptance is committed. */
export interface PendingDelivery {
  readonly id: string
  readonly recipient: string
  /** When it was created (its exchange's acceptance), if known: its job then names the month to read. */
  readonly createdAt?: Date
}

export interface AcceptDeps {
  readonly db: Db
  readonly directory: Directory
  readonly validator: MessageValidator
  readonly nonces: NonceStore
  readonly keyring: GatewayKeyring
  readonly clock: Clock
  readonly ids: IdSource
  readonly logger: Logger
  readonly ledger: Ledger
  readonly replayWindowSeconds: number
  /** Hands committed deliveries to the queue; a failure here is repaired by the sweeper. */
  readonly enqueue: (deliveries: readonly PendingDelivery[]) => Promise<void>
  /** Checks the attachments a message names (and returns their ids). */
  readonly attachments: Pick<AttachmentService, 'checkNamed'>
  /** When a step of `kind` (and deadline variant) opened at `openedAt` is due, or null when it has no deadline. */
  readonly dueAt: (kind: string, openedAt: Date, variant?: string) => Date | null
}

export interface AcceptResult {
  /** 202 for a new message, 200 for an identical repeat. */
  readonly status: 200 | 202
  readonly receipt: string
  readonly exchangeId: string
  /** The receipt's digest of the exact request bytes. */
  readonly digest: string
}

/**
 * The acceptance of an asynchronous message: every check that can reject it, then one
 * transaction that writes the exchange, its deliveries (outbox) and its case effects, and
 * only then the signed receipt. A rejected message leaves nothing behind.
 */
export class AcceptService {
  readonly #d: AcceptDeps

  constructor(deps: AcceptDeps) {
    this.#d = deps
  }

  /**
   * Accepts a decoded message from `sender` (already authenticated as its signer).
   *
   * A message already stored under its id is answered as if that were checked first: the same
   * bytes get the original receipt (200), other bytes TB_ERR_DUPLICATE_ID, whatever else would be
   * wrong with them now (a stale iat, a nonce in use, a directory that changed). It is checked
   * only where it can matter, so a new message costs one PostgreSQL round trip, not two:
   * - when the message is refused (any 4xx);
   * - when its nonce is held by the same bytes (a retry);
   * - when the store finds the id taken.
   */
  async accept(msg: DecodedMessage, sender: Participant): Promise<AcceptResult> {
    try {
      return await this.#accept(msg, sender)
    } catch (err) {
      if (err instanceof TongbanError && err.status < 500) {
        const earlier = await this.#repeat(msg)
        if (earlier) return earlier
      }
      throw err
    }
  }

  async #accept(msg: DecodedMessage, sender: Participant): Promise<AcceptResult> {
    const d = this.#d
    const env = msg.envelope

    const now = d.clock.now()
    checkIat(env, now, d.replayWindowSeconds)

    const rule = checkContent(env, d.validator, 'async')
    const plan = await planRoute(env, rule, sender, d.directory, d.db)
    await this.#checkCarriedCertificate(env, rule)
    const attachments = await d.attachments.checkNamed(env, plan.recipients)

    // Claimed last, so that a message rejected for another reason does not burn its nonce.
    const inFlight = await this.#claimNonce(msg)
    if (inFlight) return inFlight
    let result: AcceptResult | 'repeat'
    try {
      result = await this.#commit(msg, sender, rule, plan, now, attachments)
    } catch (err) {
      // Not accepted: the nonce may be used again (by this very message, retried).
      await d.nonces.release('msg', env.from, env.nonce).catch(() => {})
      throw err
    }
    if (result !== 'repeat') return result
    // A concurrent attempt stored this (sender, id) first: its receipt, or 409 for other bytes.
    // The nonce stays claimed: it belongs to that stored message.
    const again = await this.#repeat(msg)
    if (again === undefined) throw new TongbanError('TB_ERR_INTERNAL', 'the message was stored and then not found')
    return again
  }

  /**
   * Accepts a message an adapter submits for a partner that authenticates with a shared secret
   * (the adapter has checked its MAC): the gateway signs the envelope itself, naming the
   * partner it attests and the adapter it came through, and digests the partner's exact bytes
   * (a retry of the same bytes gets the original receipt). Then it is a message like any other.
   */
  async acceptAttested(sender: Participant, m: AttestedMessage, raw: Buffer, via: string): Promise<AcceptResult> {
    const d = this.#d
    if (sender.signedBy !== 'gateway') throw new TongbanError('TB_ERR_FORBIDDEN', `${sender.id} signs its own messages`)
    const signer = d.keyring.signer('national') ?? d.keyring.signer('international')
    if (signer === undefined) throw new TongbanError('TB_ERR_UNAVAILABLE', 'the gateway has no signing key')
    const env = {
      id: m.id, type: m.type, v: m.v ?? 1, from: sender.id,
      ...(m.to !== undefined ? { to: m.to } : {}), ...(m.caseId !== undefined ? { caseId: m.caseId } : {}), ...(m.unitCode !== undefined ? { unitCode: m.unitCode } : {}),
      iat: Math.floor(d.clock.now().getTime() / 1000), nonce: d.ids.nonce(16), body: m.body,
    }
    const valid = d.validator.validateEnvelope(env)
    if (!valid.ok) throw new TongbanError('TB_ERR_SCHEMA', 'the envelope does not match its schema', { violations: valid.violations })
    const jws = await signJws(Buffer.from(JSON.stringify(env), 'utf8'), signer, { typ: JWS_TYP, [ATTESTS_HEADER]: sender.id, [VIA_HEADER]: via })
    return this.accept({ envelope: env, jws, suite: signer.suite, requestDigest: digestHex(signer.suite, raw) }, sender)
  }

  /**
   * Claims the message's nonce. When it is held by the very same message (same id and bytes),
   * this is the sender retrying: either its first attempt is still being accepted — wait a
   * moment and answer with that attempt's receipt — or that attempt died before it committed
   * (a gateway crash) — go on, since the unique (sender, id) constraint still lets only one
   * attempt store the message. Held by any other message, it is a replay.
   */
  async #claimNonce(msg: DecodedMessage): Promise<AcceptResult | undefined> {
    const d = this.#d
    const env = msg.envelope
    const ttl = d.replayWindowSeconds * 2 * 1000
    const holder = `${env.id}:${msg.requestDigest}`
    const giveUp = Date.now() + 1_000
    for (;;) {
      if (await d.nonces.claim('msg', env.from, env.nonce, ttl, holder)) return undefined
      if ((await d.nonces.holder('msg', env.from, env.nonce)) !== holder) {
        throw new TongbanError('TB_ERR_REPLAY', 'this nonce was already used within the replay window')
      }
      const earlier = await this.#repeat(msg)
      if (earlier) return earlier
      if (Date.now() > giveUp) return undefined
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /** An electronic certificate the body carries must hold (e-certificates.ts): 400 at /body/electronicCertificate otherwise. */
  async #checkCarriedCertificate(env: Envelope, rule: MessageTypeRule): Promise<void> {
    const b = env.body as { electronicCertificate?: unknown; certificateNumber?: unknown; document?: { digest?: unknown } }
    if (rule.certifies === undefined || typeof b.electronicCertificate !== 'string') return
    const violations = await certificateViolations(b.electronicCertificate, { kind: rule.certifies, env, certificateNumber: b.certificateNumber, documentDigest: b.document?.digest }, this.#d)
    if (violations.length > 0) throw new TongbanError('TB_ERR_SCHEMA', 'the electronic certificate does not hold', { violations })
  }

  /** An identical repeat gets the original receipt; the same id with other bytes is refused. */
  async #repeat(msg: DecodedMessage): Promise<AcceptResult | undefined> {
    const earlier = await findByMessageId(this.#d.db, msg.envelope.from, msg.envelope.id)
    if (earlier === undefined) return undefined
    if (earlier.requestDigest !== msg.requestDigest || earlier.suite !== msg.suite) {
      throw new TongbanError('TB_ERR_DUPLICATE_ID', 'this message id was already used for a different message', { detail: { messageId: msg.envelope.id } })
    }
    return { status: 200, receipt: earlier.receipt, exchangeId: earlier.id, digest: earlier.requestDigest }
  }

  async #commit(msg: DecodedMessage, sender: Participant, rule: MessageTypeRule, plan: RoutePlan, now: Date, attachments: readonly string[]): Promise<AcceptResult | 'repeat'> {
    const d = this.#d
    const env = msg.envelope
    const exchangeId = d.ids.uuid7()
    const entryId = d.ledger.enabled ? d.ids.uuid7() : undefined
    const receipt = await this.#receipt(msg, exchangeId, now, entryId)
    const deliveries = plan.recipients.map((r) => ({ id: d.ids.uuid7(), exchangeId, recipient: r.id, createdAt: now }))

    const effects = caseEffects(env, d.directory)
    const recipients = deliveries.map((x) => x.recipient)
    const open = stepKind(rule, 'open', env.body)
    const closeKind = stepKind(rule, 'close', env.body)
    const outcome = closeOutcome(rule, env.body)
    const close = closeKind !== undefined && outcome !== undefined ? { kind: closeKind, outcome } : undefined
    const doc: AcceptDoc = {
      exchange: {
        id: exchangeId, sender: env.from, messageId: env.id, type: env.type, v: env.v, caseId: env.caseId ?? null, unitCode: env.unitCode ?? null,
        suite: msg.suite, requestDigest: msg.requestDigest, receipt, receivedAt: now.toISOString(),
        messageSealed: d.keyring.sealer().seal(Buffer.from(msg.jws, 'ascii'), exchangeId).toString('base64'),
      },
      deliveries: deliveries.map((x) => ({ id: x.id, recipient: x.recipient })),
      attachments,
      ...(effects.housingContract ? { housingContract: effects.housingContract } : {}),
      ...(env.caseId === undefined ? {} : {
        case: {
          caseId: env.caseId, unitCode: env.unitCode ?? '', recipients,
          // Registration centres issue case ids (受理编号), each in its own divisions' namespace: only
          // they open cases, and only under a prefix of theirs (no squatting another centre's ids).
          mayCreate: mayOpenCase(sender, rule, env.caseId),
          mayJoin: rule.joinsCase === true && plan.joins === true,
          // A refusal answers an applicant without admitting it to the case.
          involvesRecipients: close?.outcome !== 'rejected',
          events: [
            { event: 'message.accepted', actor: env.from, detail: { type: env.type, messageId: env.id, recipients } },
            ...(open !== undefined ? [{ event: 'step.opened', actor: env.from, detail: { kind: open, responder: recipients[0] } }] : []),
            ...(close !== undefined && plan.answers !== undefined ? [{ event: 'step.closed', actor: env.from, detail: { kind: close.kind, outcome: close.outcome } }] : []),
          ],
          ...(open !== undefined ? { openStep: { id: d.ids.uuid7(), kind: open, requester: env.from, responder: recipients[0] as string, dueAt: d.dueAt(open, now, stepVariant(rule, env.body))?.toISOString() ?? null } } : {}),
          ...(close !== undefined && plan.answers !== undefined ? { closeStep: { id: plan.answers.id, outcome: close.outcome } } : {}),
          ...(effects.linkContract ? { linkContract: effects.linkContract } : {}),
          ...(effects.utilityServices !== undefined ? { utilityServices: effects.utilityServices } : {}),
          ...(effects.linkCase !== undefined ? { linkCase: effects.linkCase } : {}),
          // Checked again under the case's lock: no examination after the application was accepted.
          ...(rule.linksCase !== undefined ? { requireUnlinked: true } : {}),
        },
      }),
    }
    // Its ledger entry, in the same transaction: no acceptance without its entry, nor the reverse.
    const entry = entryId === undefined ? undefined : makeEntry('message.accepted', entryId, now, {
      exchangeId, sender: env.from, messageId: env.id, type: env.type, ...(env.caseId !== undefined ? { caseId: env.caseId } : {}), recipients, suite: msg.suite,
      requestDigest: tagged(msg.suite, msg.requestDigest), messageDigest: tagged(msg.suite, digestHex(msg.suite, Buffer.from(msg.jws, 'latin1'))), receiptDigest: tagged(msg.suite, digestHex(msg.suite, Buffer.from(receipt, 'ascii'))),
    })
    const conflict = await storeAcceptance(d.db, doc, entry)
    if (conflict === 'repeat') return 'repeat'
    if (conflict !== undefined) throw acceptConflict(conflict, env, rule)

    d.logger.info({ exchangeId, messageId: env.id, type: env.type, from: env.from, to: deliveries.map((x) => x.recipient), caseId: env.caseId }, 'message accepted')
    try {
      await d.enqueue(deliveries)
    } catch (err) {
      d.logger.warn({ exchangeId, err }, 'enqueue failed; the sweeper will pick the deliveries up')
    }
    return { status: 202, receipt, exchangeId, digest: msg.requestDigest }
  }

  async #receipt(msg: DecodedMessage, exchangeId: string, now: Date, ledgerEntry: string | undefined): Promise<string> {
    const signer = this.#d.keyring.signer(msg.suite)
    if (signer === undefined) throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `the gateway does not sign in the ${msg.suite} suite`)
    const receipt: Receipt = { exchangeId, messageId: msg.envelope.id, status: 'accepted', receivedAt: now.toISOString(), digest: msg.requestDigest, ...(ledgerEntry !== undefined ? { ledgerEntry } : {}) }
    return signJws(Buffer.from(JSON.stringify(receipt), 'utf8'), signer, { typ: 'tongban+receipt' })
  }
}

/** The error for a sender whose message the store refused. */
function acceptConflict(conflict: Exclude<AcceptConflict, 'repeat'>, env: Envelope, rule: MessageTypeRule): TongbanError {
  const detail = { caseId: env.caseId ?? '' }
  switch (conflict) {
    case 'unit-mismatch':
      return new TongbanError('TB_ERR_CASE_MISMATCH', `the unit code differs from case ${env.caseId ?? ''}'s`, { detail })
    case 'step-already-open':
      return new TongbanError('TB_ERR_CASE_CONFLICT', `case ${env.caseId ?? ''} already has an open ${stepKind(rule, 'open', env.body) ?? ''} step`, { detail })
    case 'step-closed':
      return new TongbanError('TB_ERR_CASE_NOT_FOUND', `the ${stepKind(rule, 'close', env.body) ?? ''} step of case ${env.caseId ?? ''} was closed meanwhile`, { detail })
    case 'contract-ambiguous':
      return new TongbanError('TB_ERR_CONTRACT_AMBIGUOUS', 'the contract and filing numbers do not name exactly one filing of the housing bureau responsible for the unit', { detail })
    case 'filing-conflict':
      return new TongbanError('TB_ERR_FILING_CONFLICT', 'this bureau already filed the contract number for another unit, or the filing number for another contract')
    case 'link-conflict':
      return new TongbanError('TB_ERR_CASE_CONFLICT', `case ${env.caseId ?? ''} is linked to another case, or the home case named is another centre's, another unit's or linked elsewhere`, { detail })
    case 'attachment-gone':
      return new TongbanError('TB_ERR_ATTACHMENT_UNKNOWN', 'an attachment the message names was deleted meanwhile (upload it again)')
    case 'not-a-participant':
      // The same answer whether the case does not exist or is someone else's: no probing.
      return new TongbanError('TB_ERR_CASE_NOT_FOUND', `no case ${env.caseId ?? ''} that you take part in`, { detail })
  }
}
