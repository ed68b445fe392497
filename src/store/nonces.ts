import type { Redis } from 'ioredis'

/** Nonces seen within the replay window, per sender (Redis, expiring). */
export class NonceStore {
  readonly #redis: Redis
  readonly #prefix: string

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis
    this.#prefix = prefix
  }

  /**
   * Claims (sender, nonce) for `ttlMs` on behalf of `holder` (what used it, e.g. the message id
   * and digest); false if it was already claimed.
   */
  async claim(scope: string, sender: string, nonce: string, ttlMs: number, holder = '1'): Promise<boolean> {
    const r = await this.#redis.set(this.#key(scope, sender, nonce), holder, 'PX', ttlMs, 'NX')
    return r === 'OK'
  }

  /** Who holds a nonce now, if anyone. */
  async holder(scope: string, sender: string, nonce: string): Promise<string | null> {
    return this.#redis.get(this.#key(scope, sender, nonce))
  }

  /** Gives a nonce back when the message it came with was not accepted after all. */
  async release(scope: string, sender: string, nonce: string): Promise<void> {
    await this.#redis.del(this.#key(scope, sender, nonce))
  }

  #key(scope: string, sender: string, nonce: string): string {
    return `${this.#prefix}:nonce:${scope}:${sender}:${nonce}`
  }
}
