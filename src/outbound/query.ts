import type { GatewayKeyring } from '../crypto/index.ts'
import type { Participant } from '../core/directory.ts'
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
  readonly clock: Clock
  readonly logger: Logger
  readonly timeoutMs: number
  readonly breakerFailures: number
  readonly breakerResetMs: number
}

/**
 * Synchronous calls to partners: through the partner's adapter, bounded by `timeoutMs`
 * (504 past it), and behind a circuit breaker per partner (503 while it is open).
 */
export class QueryForwarder {
  readonly #d: QueryForwarderDeps
  readonly #http = new PartnerHttp()
  readonly #breakers: Breakers

  constructor(deps: QueryForwarderDeps) {
    this.#d = deps
    this.#breakers = new Breakers(() => new CircuitBreaker(deps.breakerFailures, deps.breakerResetMs))
  }

  /** Every partner's breaker state (metrics). */
  breakerStates(): ReadonlyMap<string, 'closed' | 'open' | 'half-open'> {
    return this.#breakers.states()
  }

  /** The breaker state of a partner (operators, tests). */
  breakerState(partner: string): 'closed' | 'open' | 'half-open' {
    return this.#breakers.for(partner).state
  }

  /** Sends `query` to `recipient` and resolves with the partner's raw answer. */
  async forward(recipient: Participant, query: OutboundQuery): Promise<string> {
    const adapter = this.#d.adapters.get(recipient.adapter)
    if (adapter?.query === undefined) throw new TongbanError('TB_ERR_NO_ROUTE', `${recipient.id} does not answer synchronous queries`)
    const breaker = this.#breakers.for(recipient.id)
    if (!breaker.tryAcquire()) {
      throw new TongbanError('TB_ERR_PARTNER_UNAVAILABLE', `${recipient.id} is failing: its circuit is open, try again later`, { detail: { partner: recipient.id } })
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
      const e = classifyError(err)
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
