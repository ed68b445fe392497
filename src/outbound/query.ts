import { errors as undiciErrors } from 'undici'
import type { GatewayKeyring } from '../crypto/index.ts'
import type { Directory, Participant } from '../core/directory.ts'
import { TongbanError } from '../errors.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import type { OutboundQuery, PartnerAdapter } from './adapter.ts'
import { Breakers, CircuitBreaker } from './breaker.ts'
import { adapterContext } from './context.ts'
import { PartnerHttp } from './http.ts'
import { classifyError } from './retry.ts'

export interface QueryForwarderDeps {
  readonly adapters: ReadonlyMap<string, PartnerAdapter>
  readonly keyring: GatewayKeyring
  readonly directory: Directory
  readonly clock: Clock
  readonly logger: Logger
  readonly timeoutMs: number
  /** Largest answer read from a partner (config queries.maxAnswerBytes; default 1 MiB). */
  readonly maxAnswerBytes?: number
  readonly breakerFailures: number
  readonly breakerResetMs: number
}

const DEFAULT_MAX_ANSWER_BYTES = 1_048_576

/**
 * Synchronous calls to partners: through the partner's adapter, bounded by `timeoutMs`
 * (504 past it) and `maxAnswerBytes` (502 past it), and behind a circuit breaker per partner
 * (503 while it is open).
 */
export class QueryForwarder {
  readonly #d: QueryForwarderDeps
  readonly #http: PartnerHttp
  readonly #maxAnswerBytes: number
  readonly #breakers: Breakers

  constructor(deps: QueryForwarderDeps) {
    this.#d = deps
    this.#maxAnswerBytes = deps.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES
    // Queries have pools of their own, bounded: an answer is held in memory whole, and a partner
    // (or anyone on its path) must not make the gateway buffer gigabytes.
    this.#http = new PartnerHttp({ maxResponseBytes: this.#maxAnswerBytes })
    // The shared breaker of a partner opens only on failures from two askers or more: one bank's
    // failing queries open its own circuit, not every bank's (its in-flight quota bounds it too).
    this.#breakers = new Breakers((shared) => new CircuitBreaker(deps.breakerFailures, deps.breakerResetMs, Date.now, shared ? 2 : 1))
  }

  /** Every partner's breaker state (metrics). */
  breakerStates(): ReadonlyMap<string, 'closed' | 'open' | 'half-open'> {
    return this.#breakers.states()
  }

  /** The breaker state of a partner (operators, tests): shared by all askers, or one asker's own. */
  breakerState(partner: string, asker?: string): 'closed' | 'open' | 'half-open' {
    return asker === undefined ? this.#breakers.for(partner).state : this.#breakers.forCaller(partner, asker).state
  }

  /** Sends `query` to `recipient` and resolves with the partner's raw answer. */
  async forward(recipient: Participant, query: OutboundQuery): Promise<string> {
    const adapter = this.#d.adapters.get(recipient.adapter)
    if (adapter?.query === undefined) throw new TongbanError('TB_ERR_NO_ROUTE', `${recipient.id} does not answer synchronous queries`)
    const breaker = this.#breakers.call(recipient.id, query.sender)
    const acquired = breaker.tryAcquire()
    if (acquired !== 'ok') {
      const why = acquired === 'own' ? 'your recent queries to it kept failing' : 'it is failing'
      throw new TongbanError('TB_ERR_PARTNER_UNAVAILABLE', `${recipient.id}: ${why}: its circuit is open, try again later`, { detail: { partner: recipient.id, circuit: acquired } })
    }
    const ctx = adapterContext(recipient, { ...this.#d, http: this.#http })
    const signal = AbortSignal.timeout(this.#d.timeoutMs)
    try {
      const answer = await adapter.query(query, ctx, signal)
      breaker.success()
      return answer
    } catch (err) {
      if (signal.aborted) {
        breaker.failure()
        throw new TongbanError('TB_ERR_PARTNER_TIMEOUT', `${recipient.id} did not answer within ${this.#d.timeoutMs} ms`, { detail: { partner: recipient.id, timeoutMs: this.#d.timeoutMs } })
      }
      if (err instanceof undiciErrors.ResponseExceededMaxSizeError) {
        // Reading stopped at the bound; a partner that answers this way is faulty: count it.
        breaker.failure()
        this.#d.logger.warn({ partner: recipient.id, maxAnswerBytes: this.#maxAnswerBytes }, 'query answer too large')
        throw new TongbanError('TB_ERR_PARTNER_BAD_ANSWER', `${recipient.id} answered with more than ${this.#maxAnswerBytes} bytes`, { detail: { partner: recipient.id, reason: 'answer too large', maxAnswerBytes: this.#maxAnswerBytes } })
      }
      const e = classifyError(err)
      if (e.code === 'PARTNER_BAD_ANSWER') {
        // The partner answered, but not with an answer (e.g. 204): it is faulty, the asker is told so.
        breaker.failure()
        throw new TongbanError('TB_ERR_PARTNER_BAD_ANSWER', `${recipient.id} did not answer with a signed answer (${e.httpStatus ?? e.code})`, { detail: { partner: recipient.id } })
      }
      if (!e.retry) {
        // The partner answered and refused: it is up, so the circuit stays closed.
        breaker.success()
        throw new TongbanError('TB_ERR_PARTNER_REJECTED', `${recipient.id} refused the query (${e.httpStatus ?? e.code})`, { detail: { partner: recipient.id } })
      }
      breaker.failure()
      this.#d.logger.warn({ partner: recipient.id, reason: e.code, status: e.httpStatus }, 'query to partner failed')
      throw new TongbanError('TB_ERR_PARTNER_UNAVAILABLE', `${recipient.id} could not answer (${e.code})`, { detail: { partner: recipient.id } })
    }
  }

  async close(): Promise<void> {
    await this.#http.close()
  }
}
