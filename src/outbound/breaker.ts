/**
 * A circuit breaker for synchronous calls: after `failures` consecutive failures — coming from
 * at least `minSources` different callers — the circuit opens and calls fail at once (the
 * partner is not hammered while it is down); after `resetMs` one trial call is let through
 * (half-open): success closes the circuit, failure opens it again for another `resetMs`.
 */
export class CircuitBreaker {
  readonly #failures: number
  readonly #resetMs: number
  readonly #minSources: number
  readonly #now: () => number
  #consecutive = 0
  readonly #sources = new Set<string>()
  #openedAt: number | undefined
  #trialInFlight = false

  constructor(failures: number, resetMs: number, now: () => number = Date.now, minSources = 1) {
    this.#failures = failures
    this.#resetMs = resetMs
    this.#now = now
    this.#minSources = minSources
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

  /** Gives back a trial reserved by tryAcquire when the call did not go out after all. */
  release(): void {
    this.#trialInFlight = false
  }

  /** The call reached the partner and it answered (whatever it said). */
  success(): void {
    this.#consecutive = 0
    this.#sources.clear()
    this.#openedAt = undefined
    this.#trialInFlight = false
  }

  /** The call (by `source`) failed for a reason that says the partner is unwell (timeout, 5xx, network). */
  failure(source = ''): void {
    this.#trialInFlight = false
    this.#consecutive++
    this.#sources.add(source)
    if (this.#openedAt !== undefined || (this.#consecutive >= this.#failures && this.#sources.size >= this.#minSources)) this.#openedAt = this.#now()
  }
}

/**
 * The breakers of the partners, created on first use: one per partner, shared by all callers,
 * which opens only on failures from at least two callers; and one per (partner, caller), which
 * opens on that caller's failures alone. So one bank whose queries keep failing (slow or bad
 * answers it provokes) shuts only itself out; a partner that fails everyone is shut for all.
 */
export class Breakers {
  readonly #map = new Map<string, CircuitBreaker>()
  readonly #callers = new Map<string, CircuitBreaker>()
  readonly #make: (shared: boolean) => CircuitBreaker

  constructor(make: (shared: boolean) => CircuitBreaker) {
    this.#make = make
  }

  /** The breaker of `partner` for calls by `caller`. */
  forCaller(partner: string, caller: string): CircuitBreaker {
    const key = `${partner}\u0000${caller}`
    let b = this.#callers.get(key)
    if (b === undefined) {
      b = this.#make(false)
      this.#callers.set(key, b)
    }
    return b
  }

  /** Every partner's circuit state. */
  states(): Map<string, 'closed' | 'open' | 'half-open'> {
    return new Map([...this.#map].map(([p, b]) => [p, b.state]))
  }

  /** The breakers a call by `caller` to `partner` passes: its own, then the partner's shared one. */
  call(partner: string, caller: string): CallBreakers {
    const own = this.forCaller(partner, caller)
    const shared = this.for(partner)
    return {
      tryAcquire: () => {
        if (!own.tryAcquire()) return 'own'
        if (!shared.tryAcquire()) {
          own.release()
          return 'shared'
        }
        return 'ok'
      },
      success: () => { own.success(); shared.success() },
      failure: () => { own.failure(caller); shared.failure(caller) },
    }
  }

  /** The breaker of `partner` shared by every caller. */
  for(partner: string): CircuitBreaker {
    let b = this.#map.get(partner)
    if (b === undefined) {
      b = this.#make(true)
      this.#map.set(partner, b)
    }
    return b
  }
}

/** What one call sees of its breakers. */
export interface CallBreakers {
  /** 'ok': the call may go out; 'own': this caller's circuit is open; 'shared': the partner's is. */
  tryAcquire(): 'ok' | 'own' | 'shared'
  success(): void
  failure(): void
}
