import type { Redis } from 'ioredis'

/** A recipient's delivery circuit: closed (deliver), open (hold everything), half-open (one probe at a time). */
export type CircuitState = 'closed' | 'open' | 'half-open'

export interface Circuit {
  readonly state: CircuitState
  /** Consecutive failures counted (by every instance) since the last success. */
  readonly failures: number
  /** When an open circuit may be probed (ms since the epoch); 0 when not open. */
  readonly until: number
  /** When the circuit first opened in this outage (ms since the epoch); 0 when closed. */
  readonly since: number
}

/** What a failure did to the circuit. */
export type FailureOutcome = 'opened' | 'reopened' | 'counted'

// A failure: counted; the Nth consecutive one opens a closed circuit, any one re-opens a
// half-open one (the probe failed). One script, so two instances failing at once open it once.
const FAILURE = `
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local now = tonumber(ARGV[1])
local outcome = 'counted'
if state == 'half-open' then
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + tonumber(ARGV[3]))
  outcome = 'reopened'
elseif state == 'closed' then
  if n >= tonumber(ARGV[2]) then
    redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + tonumber(ARGV[3]), 'since', now)
    redis.call('SADD', KEYS[2], ARGV[4])
    outcome = 'opened'
  else
    redis.call('HSET', KEYS[1], 'state', 'closed')
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {outcome, redis.call('HGET', KEYS[1], 'since') or '0'}
`

// A success (the partner answered): the count starts again and an open or half-open circuit
// closes. Nothing stored (the usual case) costs no write. 1 when it closed a circuit.
const SUCCESS = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
redis.call('DEL', KEYS[1])
if state == 'closed' then return 0 end
return 1
`

// An open circuit whose time is up becomes half-open; 1 for the one caller that made it so.
const HALF_OPEN = `
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'until') or '0') > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'half-open')
return 1
`

// A circuit needs no more looking after once it is closed: taken off the set only then, in one
// script, so a circuit opened again meanwhile (by another instance) stays looked after.
const SETTLED = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'open' or state == 'half-open' then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`

// Stale counts of a partner that left the directory do not stay for ever.
const KEEP_MS = 7 * 86_400_000

/**
 * The delivery circuits of the recipients, in Redis, so every instance and worker sees and moves
 * the same circuit (issue 9). Redis only schedules: losing these keys (a flushed Redis) closes
 * every circuit, and the next failures open them again.
 */
export class CircuitStore {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #now: () => number

  constructor(redis: Redis, prefix: string, now: () => number = Date.now) {
    this.#redis = redis
    this.#prefix = prefix
    this.#now = now
  }

  /** The circuit of `recipient` as stored now. */
  async get(recipient: string): Promise<Circuit> {
    const [state, failures, until, since] = await this.#redis.hmget(this.#key(recipient), 'state', 'failures', 'until', 'since')
    return {
      state: state === 'open' || state === 'half-open' ? state : 'closed',
      failures: Number(failures ?? 0),
      until: Number(until ?? 0),
      since: Number(since ?? 0),
    }
  }

  /** Counts a failure that says the partner is unwell; `threshold` consecutive ones open the circuit for `openMs`. */
  async failure(recipient: string, threshold: number, openMs: number): Promise<{ outcome: FailureOutcome; since: number }> {
    const [outcome, since] = await this.#redis.eval(FAILURE, 2, this.#key(recipient), this.#openSet(), this.#now(), threshold, openMs, recipient, KEEP_MS) as [FailureOutcome, string]
    return { outcome, since: Number(since) }
  }

  /** The partner answered: true when that closed an open or half-open circuit. */
  async success(recipient: string): Promise<boolean> {
    return (await this.#redis.eval(SUCCESS, 1, this.#key(recipient))) === 1
  }

  /** Makes an open circuit whose time is up half-open; true for the one caller that did. */
  async halfOpen(recipient: string): Promise<boolean> {
    return (await this.#redis.eval(HALF_OPEN, 1, this.#key(recipient), this.#now())) === 1
  }

  /** The recipients whose circuit opened and whose queue has not yet been seen resumed. */
  async unsettled(): Promise<string[]> {
    return this.#redis.smembers(this.#openSet())
  }

  /**
   * The queue of a closed circuit runs again: it needs no more looking after, unless the circuit
   * opened again meanwhile (then it stays among those looked after). True when it was taken off.
   */
  async settled(recipient: string): Promise<boolean> {
    return (await this.#redis.eval(SETTLED, 2, this.#key(recipient), this.#openSet(), recipient)) === 1
  }

  /** Every circuit that is not closed, by recipient (for /metrics and the console). */
  async notClosed(): Promise<Map<string, Circuit>> {
    const out = new Map<string, Circuit>()
    for (const r of await this.unsettled()) {
      const c = await this.get(r)
      if (c.state !== 'closed') out.set(r, c)
    }
    return out
  }

  #key(recipient: string): string {
    return `${this.#prefix}:circuit:${recipient}`
  }

  #openSet(): string {
    return `${this.#prefix}:circuits-open`
  }
}
