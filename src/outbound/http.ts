import { Pool, type Dispatcher } from 'undici'
import type { HttpSettings } from '../core/directory.ts'

/** Connection pools per partner origin, each with the partner's own timeouts and size. */
export class PartnerHttp {
  readonly #pools = new Map<string, Pool>()
  readonly #maxResponseBytes: number

  /**
   * `maxResponseBytes` bounds every answer body read through these pools: past it undici stops
   * reading (UND_ERR_RES_EXCEEDED_MAX_SIZE), whether the partner announced the length or not.
   */
  constructor(options: { maxResponseBytes?: number } = {}) {
    this.#maxResponseBytes = options.maxResponseBytes ?? -1
  }

  /** The pool for `url`'s origin, created on first use with `settings`. */
  pool(url: string, settings: HttpSettings): Dispatcher {
    const origin = new URL(url).origin
    const key = `${origin}|${settings.connectTimeoutMs}|${settings.headersTimeoutMs}|${settings.bodyTimeoutMs}|${settings.connections}`
    let pool = this.#pools.get(key)
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: settings.connections,
        connect: { timeout: settings.connectTimeoutMs },
        headersTimeout: settings.headersTimeoutMs,
        bodyTimeout: settings.bodyTimeoutMs,
        keepAliveTimeout: 10_000,
        maxResponseSize: this.#maxResponseBytes,
      })
      this.#pools.set(key, pool)
    }
    return pool
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close().catch(() => {})))
    this.#pools.clear()
  }
}
