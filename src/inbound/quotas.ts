import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor, RateLimitOptions } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { Config } from '../config/index.ts'
import type { Participant } from '../core/directory.ts'
import { TongbanError } from '../errors.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import { participantOf } from './auth.ts'

/**
 * Rate limits and per-participant quotas, held in Redis so that every gateway instance counts
 * against the same budget (docs/configuration.md, Rate limits and quotas). When Redis cannot be
 * reached a limit is skipped, not enforced: availability over limiting (the request still
 * meets every other check), and the skip is logged.
 */

/** The Redis key prefix of every limit and quota of a gateway. */
export function limitsPrefix(config: Config): string {
  return `${config.redisPrefix}:rl:`
}

/** A warning about a limit that could not be checked, at most once per `everyMs` (with how many were skipped). */
export function limitFailureLog(logger: Logger, clock: Clock, everyMs = 10_000): (err: unknown) => void {
  let last = Number.NEGATIVE_INFINITY
  let skipped = 0
  return (err) => {
    skipped++
    const now = clock.now().getTime()
    if (now - last < everyMs) return
    last = now
    logger.warn({ err, skipped }, 'rate limits and quotas not enforced: Redis did not answer (requests are let through)')
    skipped = 0
  }
}

// A fixed window: the first INCR of a window sets its expiry. A key found without one (it cannot
// happen in one script, but a hand-made key could) gets the window again, so it never sticks.
const WINDOW_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return { n, ttl }
`

/**
 * The store of @fastify/rate-limit: fixed windows in Redis under `nameSpace`, one key per route
 * and client (`<nameSpace><METHOD><url>-<key>`). A Redis fault is reported to `onError`, then
 * handed to the plugin, which skips the limit (`skipOnError`).
 */
export function redisWindowStore(redis: Redis, nameSpace: string, onError: (err: unknown) => void): FastifyRateLimitStoreCtor {
  class WindowStore implements FastifyRateLimitStore {
    #key = nameSpace

    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      redis.eval(WINDOW_LUA, 1, this.#key + key, timeWindow).then(
        (r) => {
          const [current, ttl] = r as [number, number]
          callback(null, { current, ttl })
        },
        (err: unknown) => {
          onError(err)
          callback(err instanceof Error ? err : new Error(String(err)))
        },
      )
    }

    child(routeOptions: unknown): FastifyRateLimitStore {
      // The plugin hands a route's merged options with the route under `routeInfo` (as its own
      // RedisStore reads them): each route counts apart.
      const route = (routeOptions as { routeInfo: { method: string | string[]; url: string } }).routeInfo
      const store = new WindowStore()
      store.#key = `${this.#key}${[route.method].flat().join(',')}${route.url}-`
      return store
    }
  }
  return WindowStore
}

// A batch's messages charged to the window of POST /v1/messages at once: all of them, or (over
// the budget) none.
const CHARGE_LUA = `
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if n == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
if n > tonumber(ARGV[3]) then redis.call('DECRBY', KEYS[1], ARGV[2]) return { 0, ttl } end
return { 1, ttl }
`

/**
 * Charges `count` messages of `participant` to its messagesPerMinute, in the window POST
 * /v1/messages counts in (one budget, whichever way the messages come): all of them fit, or the
 * batch is refused whole with 429 TB_ERR_RATE_LIMITED and nothing is charged. Redis unreachable:
 * allowed (logged), as for every limit.
 */
export async function chargeMessages(redis: Redis, config: Config, participant: Participant, count: number, onError: (err: unknown) => void): Promise<void> {
  const max = quotaOf(config, participant, 'messagesPerMinute')
  // More than a whole minute's budget never fits: a fault of the batch, not a wait.
  if (count > max) {
    throw new TongbanError('TB_ERR_SCHEMA', `the batch has ${count} messages, more than the ${max} a minute of ${participant.id}: split it`, {
      violations: [{ pointer: '/messages', rule: 'maxItems', message: `at most ${max} messages (this sender's messagesPerMinute)` }],
    })
  }
  let r: unknown
  try {
    r = await redis.eval(CHARGE_LUA, 1, `${limitsPrefix(config)}POST/v1/messages-${participant.id}`, 60_000, count, max)
  } catch (err) {
    onError(err)
    return
  }
  const [ok, ttl] = r as [number, number]
  if (ok === 1) return
  throw new TongbanError('TB_ERR_RATE_LIMITED', `too many messages: the batch's ${count} do not fit in the ${max} a minute of ${participant.id} (messages sent one by one count too)`, {
    detail: { retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)), quota: 'messagesPerMinute' },
  })
}

export type QuotaName = keyof Config['quotas']

/** A participant's budget `name`: its directory entry's, else the gateway's default. */
export function quotaOf(config: Config, participant: Participant, name: QuotaName): number {
  return participant.quotas?.[name] ?? config.quotas[name]
}

/**
 * Route config of a per-minute quota per authenticated participant (not per address): it runs
 * as a preHandler, after the token is checked and before the handler reads or writes anything,
 * so a refused request leaves no row and burns no nonce.
 */
export function participantRateLimit(config: Config, name: 'messagesPerMinute' | 'queriesPerMinute', what: string): RateLimitOptions {
  return {
    hook: 'preHandler',
    timeWindow: 60_000,
    keyGenerator: (request) => participantOf(request).id,
    max: (request) => quotaOf(config, participantOf(request), name),
    errorResponseBuilder: (request, ctx) => new TongbanError('TB_ERR_RATE_LIMITED', `too many ${what}: at most ${ctx.max} a minute for ${participantOf(request).id}`, {
      detail: { retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)), quota: name },
    }),
  }
}

// A slot is a member of a sorted set scored by when it lapses: taking one first drops lapsed
// slots, so a slot an instance never gave back (it crashed mid-query) is freed after `ttl`
// on its own, whatever the other slots do.
const SLOT_LUA = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

export interface SlotOptions {
  /** How long a slot lives when it is never given back (longer than any query can take). */
  readonly ttlMs: number
  readonly clock: Clock
  readonly onError: (err: unknown) => void
}

/** Counted slots per holder (e.g. an asker's queries in flight), shared by every instance through Redis. */
export class InFlightSlots {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #o: SlotOptions

  constructor(redis: Redis, prefix: string, options: SlotOptions) {
    this.#redis = redis
    this.#prefix = `${prefix}inflight:`
    this.#o = options
  }

  /**
   * Takes one of `max` slots of `holder` under the name `slot` (unique per request): the
   * release function, or undefined when all are taken. Redis unreachable: allowed (logged).
   */
  async acquire(holder: string, max: number, slot: string): Promise<(() => Promise<void>) | undefined> {
    const key = this.#prefix + holder
    let taken: unknown
    try {
      taken = await this.#redis.eval(SLOT_LUA, 1, key, this.#o.clock.now().getTime(), max, this.#o.ttlMs, slot)
    } catch (err) {
      this.#o.onError(err)
      return async () => {}
    }
    if (taken !== 1) return undefined
    return async () => {
      // Not given back (Redis gone meanwhile): the slot lapses after ttlMs.
      await this.#redis.zrem(key, slot).then(() => {}, this.#o.onError)
    }
  }
}

/**
 * Takes a query-in-flight slot for the asker, or refuses with 429 TB_ERR_RATE_LIMITED
 * (Retry-After: 1; a slot frees as soon as one of the asker's queries ends).
 */
export async function takeQuerySlot(slots: InFlightSlots, config: Config, request: FastifyRequest, reply: FastifyReply, asker: Participant): Promise<() => Promise<void>> {
  const max = quotaOf(config, asker, 'queriesInFlight')
  const release = await slots.acquire(asker.id, max, request.id)
  if (release !== undefined) return release
  void reply.header('retry-after', '1')
  throw new TongbanError('TB_ERR_RATE_LIMITED', `too many queries in flight: at most ${max} at once for ${asker.id}`, {
    detail: { retryAfterSeconds: 1, quota: 'queriesInFlight' },
  })
}
