/**
 * A circuit breaker per partner for synchronous calls: after `failures` consecutive failures
 * the circuit opens and calls fail at once (the partner is not hammered while it is down);
 * after `resetMs` one trial call is let through (half-open): success closes the circuit,
 * failure opens it again for another `resetMs`.
 */
export class CircuitBreaker {
  readonly #failures: number
  readonly #resetMs: number
  readonly #now: () => number
  #consecutive = 0
  #openedAt: number | undefined
  #trialInFlight = false

  constructor(failures: number, resetMs: number, now: () => number = Date.now) {
    this.#failures = failures
    this.#resetMs = resetMs
    this.#now = now
  }

  /** closed: calls pass; open: calls fail at once; half-open: one trial call passes. */
  get state(): 'closed' | 'open' | 'half-open' {
    if (this.#openedAt === undefined) return 'closed'
    return this.#now() - this.#openedAt >= this.#resetMs ? 'half-open' : 'open'
  }

  /** Whether a call may go out now; a true in half-open state reserves the one trial. */
  tryAcquire(): boolean {
    const s = this.state
    if (s === 'closed') return true
    if (s === 'open' || this.#trialInFlight) return false
    this.#trialInFlight = true
    return true
  }

  /** The call reached the partner and it answered (whatever it said). */
  success(): void {
    this.#consecutive = 0
    this.#openedAt = undefined
    this.#trialInFlight = false
  }

  /** The call failed for a reason that says the partner is unwell (timeout, 5xx, network). */
  failure(): void {
    this.#trialInFlight = false
    this.#consecutive++
    if (this.#openedAt !== undefined || this.#consecutive >= this.#failures) this.#openedAt = this.#now()
  }
}

/** One breaker per partner id, created on first use. */
export class Breakers {
  readonly #map = new Map<string, CircuitBreaker>()
  readonly #make: () => CircuitBreaker

  constructor(make: () => CircuitBreaker) {
    this.#make = make
  }

  /** Every partner's circuit state. */
  states(): Map<string, 'closed' | 'open' | 'half-open'> {
    return new Map([...this.#map].map(([p, b]) => [p, b.state]))
  }

  for(partner: string): CircuitBreaker {
    let b = this.#map.get(partner)
    if (b === undefined) {
      b = this.#make()
      this.#map.set(partner, b)
    }
    return b
  }
}
