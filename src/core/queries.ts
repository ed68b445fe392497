import { TongbanError, isTongbanError, type ErrorCode } from '../errors.ts'
import { digestHex, encryptJwe, parseJws, signJws, suiteOf, CTY_JWS, type GatewayKeyring, type Suite } from '../crypto/index.ts'
import type { OutboundQuery } from '../outbound/adapter.ts'
import type { Db } from '../store/db.ts'
import type { NonceStore } from '../store/nonces.ts'
import { finishQuery, insertQuery, type QueryOutcome } from '../store/queries.ts'
import { hostWithin } from '../util/cidr.ts'
import type { Clock, IdSource } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import { tagged, type Ledger } from '../ledger/index.ts'
import type { Directory, Participant } from './directory.ts'
import type { DecodedMessage, Envelope } from './envelope.ts'
import { checkIat } from './freshness.ts'
import { checkContent } from './content.ts'
import { planRoute } from './router.ts'
import type { MessageValidator } from './schemas.ts'
import { JWS_TYP, ownerId, parseEnvelope, unwrapToJws, verifySignature } from './verify.ts'

/** What a query is about, as recorded (never personal data). */
export interface QuerySubject {
  readonly unitCode: string | null
  readonly certificateNo: string | null
  readonly purpose: string | null
  readonly applicationNo: string | null
}

export interface PolicyContext {
  readonly db: Db
  readonly asker: Participant
  readonly query: Envelope
  readonly subject: QuerySubject
  readonly queryId: string
  readonly now: Date
}

/**
 * The rules of one synchronous query type: what it is about, who may ask it, and what of the
 * answer the asker may see (field minimisation by role).
 */
export interface QueryPolicy {
  readonly type: string
  readonly answerType: string
  /** Whether the answer the asker gets carries the partner's unit code (default true). */
  readonly answerShowsUnit?: boolean
  describe(query: Envelope): QuerySubject
  /** Refuses, before the partner is asked, a query the asker may not make. */
  authorize(ctx: PolicyContext): Promise<void>
  /** The part of a verified answer the asker may see; may refuse once the answer tells what it is about. */
  disclose(ctx: PolicyContext, answer: Envelope): Promise<Record<string, unknown>>
}

export interface QueryDeps {
  readonly db: Db
  readonly directory: Directory
  readonly validator: MessageValidator
  readonly nonces: NonceStore
  readonly keyring: GatewayKeyring
  readonly clock: Clock
  readonly ids: IdSource
  readonly logger: Logger
  /** Each finished query is a ledger entry (query.recorded), written with its outcome. */
  readonly ledger: Ledger
  readonly replayWindowSeconds: number
  readonly policies: ReadonlyMap<string, QueryPolicy>
  /** Sends the query to the partner through its adapter (bounded, behind a breaker). */
  readonly forward: (recipient: Participant, query: OutboundQuery) => Promise<string>
}

export interface QueryResult {
  readonly queryId: string
  /** The answer for the asker: a JWE to its key of a JWS signed by the gateway in its suite. */
  readonly answer: string
}

/** Why an answer was refused, as the query record keeps it (GET /v1/queries/:id/problem). */
export interface QueryProblem {
  readonly reason: string
  readonly violations?: ReadonlyArray<{ pointer: string; rule: string; message: string }>
}

function problemOf(err: unknown): QueryProblem {
  const e = err as TongbanError
  const reason = typeof (e.detail as { reason?: unknown } | undefined)?.reason === 'string' ? (e.detail as { reason: string }).reason : e.message
  return { reason, ...(e.violations !== undefined && e.violations.length > 0 ? { violations: e.violations } : {}) }
}

/** JWS typ of an answer the gateway signs for the asker. */
export const ANSWER_TYP = 'tongban+answer'

const OUTCOME_OF: Partial<Record<ErrorCode, QueryOutcome>> = {
  TB_ERR_PARTNER_TIMEOUT: 'timeout',
  TB_ERR_PARTNER_UNAVAILABLE: 'unavailable',
  TB_ERR_PARTNER_REJECTED: 'rejected',
  TB_ERR_PARTNER_BAD_ANSWER: 'bad_answer',
  TB_ERR_FORBIDDEN: 'refused',
}

/**
 * Synchronous queries (POST /v1/queries): the same checks as a message, then the type's
 * policy, a record of who asked what and why, the partner's signed answer verified, the
 * asker's share of it, re-signed by the gateway and encrypted to the asker.
 */
export class QueryService {
  readonly #d: QueryDeps

  constructor(deps: QueryDeps) {
    this.#d = deps
  }

  /** Asks the partner that serves the query and returns the answer for `asker`. */
  async ask(msg: DecodedMessage, asker: Participant): Promise<QueryResult> {
    const d = this.#d
    const env = msg.envelope
    const now = d.clock.now()
    checkIat(env, now, d.replayWindowSeconds)

    const rule = checkContent(env, d.validator, 'sync')
    // An answer must come within queries.timeoutMs: a query names no files (send a message for that).
    if (env.attachments !== undefined) throw new TongbanError('TB_ERR_SCHEMA', 'a query carries no attachments', { violations: [{ pointer: '/attachments', rule: 'sync', message: 'not allowed on a synchronous query' }] })
    const policy = d.policies.get(env.type)
    if (policy === undefined) throw new TongbanError('TB_ERR_TYPE_UNKNOWN', `${env.type} has no query policy`, { detail: { messageType: env.type } })

    const plan = await planRoute(env, rule, asker, d.directory, d.db)
    const responder = plan.recipients[0] as Participant
    // The answer is encrypted to the asker: without a key valid now, the register is not asked.
    const askerKey = d.directory.encryptionKeyFor(asker, now)
    if (askerKey === undefined) throw new TongbanError('TB_ERR_KEY_EXPIRED', `${asker.id} has no encryption key valid now to receive the answer`)
    const queryId = d.ids.uuid7()
    const subject = policy.describe(env)
    const ctx: PolicyContext = { db: d.db, asker, query: env, subject, queryId, now }

    if (!(await d.nonces.claim('query', env.from, env.nonce, d.replayWindowSeconds * 2 * 1000))) {
      throw new TongbanError('TB_ERR_REPLAY', 'this nonce was already used within the replay window')
    }
    // On record before the policy decides: a refused attempt to read the register is audited too.
    await insertQuery(d.db, { id: queryId, asker: asker.id, messageId: env.id, type: env.type, responder: responder.id, ...subject, askedAt: now, requestDigest: msg.requestDigest })
    const finish = (outcome: QueryOutcome, extra: { errorCode?: string; answerDigest?: string; answerSuite?: Suite; unitCode?: string | null; problem?: QueryProblem } = {}): Promise<void> => {
      const { answerSuite, ...fields } = extra
      const entry = d.ledger.record('query.recorded', {
        queryId, asker: asker.id, responder: responder.id, type: env.type, messageId: env.id, outcome,
        ...(extra.errorCode !== undefined ? { errorCode: extra.errorCode } : {}),
        requestDigest: tagged(msg.suite, msg.requestDigest),
        ...(extra.answerDigest !== undefined && answerSuite !== undefined ? { answerDigest: tagged(answerSuite, extra.answerDigest) } : {}),
      })
      return finishQuery(d.db, queryId, { outcome, at: d.clock.now(), ...fields }, entry)
    }
    try {
      await policy.authorize(ctx)
    } catch (err) {
      await finish('refused', { errorCode: isTongbanError(err) ? err.code : 'TB_ERR_INTERNAL' }).catch(() => {})
      d.logger.info({ queryId, asker: asker.id, code: isTongbanError(err) ? err.code : undefined }, 'query refused')
      throw err
    }
    d.logger.info({ queryId, type: env.type, asker: asker.id, responder: responder.id, purpose: subject.purpose }, 'query forwarded')

    let answer: Envelope
    let answerDigest: string
    let answerSuite: Suite
    try {
      const raw = (await d.forward(responder, { queryId, messageId: env.id, type: env.type, sender: asker.id, jws: msg.jws, envelope: env })).trim()
      const opened = await this.#open(raw, responder, asker, env, policy)
      answer = opened.envelope
      answerDigest = digestHex(opened.suite, Buffer.from(raw, 'latin1'))
      answerSuite = opened.suite
    } catch (err) {
      const code = isTongbanError(err) ? err.code : 'TB_ERR_INTERNAL'
      await finish(OUTCOME_OF[code] ?? 'error', { errorCode: code, ...(code === 'TB_ERR_PARTNER_BAD_ANSWER' ? { problem: problemOf(err) } : {}) }).catch(() => {})
      d.logger.warn({ queryId, responder: responder.id, code }, 'query failed')
      throw err
    }

    let shown: Record<string, unknown>
    try {
      shown = await policy.disclose(ctx, answer)
    } catch (err) {
      await finish('refused', { errorCode: isTongbanError(err) ? err.code : 'TB_ERR_INTERNAL', answerDigest, answerSuite, unitCode: policy.answerShowsUnit === false ? null : answer.unitCode ?? null }).catch(() => {})
      throw err
    }

    const signer = d.keyring.signer(msg.suite)
    if (signer === undefined) throw new TongbanError('TB_ERR_ALG_UNSUPPORTED', `the gateway does not sign in the ${msg.suite} suite`)
    const out: Envelope = {
      id: d.ids.uuid7(),
      type: policy.answerType,
      v: answer.v,
      from: responder.id,
      to: asker.id,
      ...(answer.unitCode !== undefined && policy.answerShowsUnit !== false ? { unitCode: answer.unitCode } : {}),
      iat: Math.floor(d.clock.now().getTime() / 1000),
      nonce: d.ids.nonce(16),
      body: shown,
    }
    const jws = await signJws(Buffer.from(JSON.stringify(out), 'utf8'), signer, { typ: ANSWER_TYP })
    // To the asker's key chosen before the partner was asked (the newest valid then).
    const sealed = await encryptJwe(Buffer.from(jws, 'latin1'), askerKey, { cty: CTY_JWS })
    // On record (with its ledger entry) before the answer leaves: if it cannot be, no answer.
    await finish('answered', { answerDigest, answerSuite, unitCode: policy.answerShowsUnit === false ? null : answer.unitCode ?? null })
    d.logger.info({ queryId, responder: responder.id, asker: asker.id }, 'query answered')
    return { queryId, answer: sealed }
  }

  /** Opens and checks the partner's answer: its own signature, its schema, and that it answers this query. */
  async #open(raw: string, responder: Participant, asker: Participant, query: Envelope, policy: QueryPolicy): Promise<{ envelope: Envelope; suite: Suite }> {
    const d = this.#d
    try {
      // A bare answer only on a private-network link, and only when the query endpoint the
      // gateway called lies in that link's source addresses.
      const bare = responder.privateSources !== undefined && (await hostWithin(responder.privateSources, responder.queryEndpoint))
      const jws = parseJws(await unwrapToJws(raw, d.keyring, bare))
      const owner = await verifySignature(jws, JWS_TYP, d)
      const env = parseEnvelope(jws, d.validator)
      if (ownerId(owner) !== responder.id || env.from !== responder.id) throw new Error('the answer is not signed by the partner that was asked')
      if (env.type !== policy.answerType || (env.to !== undefined && env.to !== asker.id)) throw new Error('the answer is of another type or for someone else')
      const body = d.validator.validateBody(env.type, env.v, env.body)
      if (!body.ok) throw new TongbanError('TB_ERR_SCHEMA', `the answer's body does not match schemas/${env.type}.v${env.v}.json`, { violations: body.violations })
      if (env.body.queryId !== query.id) throw new Error('the answer is for another query')
      return { envelope: env, suite: suiteOf(jws.header) }
    } catch (err) {
      // The answerer is told what was wrong (and the asker, who may tell it): the reason and, for
      // a schema fault, the violations — pointers and rules, never the answer's values.
      const reason = err instanceof Error ? err.message : 'not a valid signed answer'
      const violations = isTongbanError(err) ? err.violations : undefined
      throw new TongbanError('TB_ERR_PARTNER_BAD_ANSWER', `${responder.id} answered with something that is not a valid signed answer: ${reason}`, {
        cause: err, detail: { partner: responder.id, reason }, ...(violations !== undefined && violations.length > 0 ? { violations } : {}),
      })
    }
  }
}
