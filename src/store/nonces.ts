import type { Redis } from 'ioredis'

/** Nonces seen within the replay window, per sender (Redis, expiring). */
export class NonceStore {
  readonly #redis: Redis
  readonly #prefix: string

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis
    this.#prefix = prefix
  }

  /** Claims (sender, nonce) for `ttlMs`; false if it was already claimed. */
  async claim(scope: string, sender: string, nonce: string, ttlMs: number): Promise<boolean> {
    const r = await this.#redis.set(this.#key(scope, sender, nonce), '1', 'PX', ttlMs, 'NX')
    return r === 'OK'
  }

  /** Gives a nonce back when the message it came with was not accepted after all. */
  async release(scope: string, sender: string, nonce: string): Promise<void> {
    await this.#redis.del(this.#key(scope, sender, nonce))
  }

  #key(scope: string, sender: string, nonce: string): string {
    return `${this.#prefix}:nonce:${scope}:${sender}:${nonce}`
  }
}
