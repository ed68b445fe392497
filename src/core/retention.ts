import type { Db } from '../store/db.ts'
import { purgeSettledBodies } from '../store/retention.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'

export interface RetentionDeps {
  readonly db: Db
  readonly clock: Clock
  readonly logger: Logger
  /** Days after its last delivery settles that an exchange's sealed body is purged; 0 keeps bodies (config retention.purgeAfterDays). */
  readonly purgeAfterDays: number
  /** Bodies purged per transaction. */
  readonly batch?: number
}

/**
 * Data minimisation (数据最小化): the gateway carries messages, it is not their archive. Sealed
 * bodies go a configured number of days after the last delivery of their exchange settled; ids,
 * digests, receipts and the case timeline stay. Safe in every instance at once: each batch skips
 * what another instance holds.
 */
export class RetentionService {
  readonly #d: RetentionDeps
  #timer: NodeJS.Timeout | undefined
  #running: Promise<number> | undefined

  constructor(deps: RetentionDeps) {
    this.#d = deps
  }

  /** Purges every body due now, batch after batch; returns how many. */
  async purgeBodies(): Promise<number> {
    const d = this.#d
    if (d.purgeAfterDays <= 0) return 0
    const now = d.clock.now()
    const before = new Date(now.getTime() - d.purgeAfterDays * 86_400_000)
    const batch = d.batch ?? 1_000
    let total = 0
    for (;;) {
      const n = await purgeSettledBodies(d.db, before, now, batch)
      total += n
      if (n < batch) break
    }
    if (total > 0) d.logger.info({ purged: total, settledBefore: before.toISOString() }, 'sealed message bodies purged (retention)')
    return total
  }

  /** Runs the purge every `intervalMs` (and once at once). */
  start(intervalMs: number): void {
    const run = (): void => {
      if (this.#running) return
      this.#running = this.purgeBodies()
        .catch((err: unknown) => { this.#d.logger.warn({ err }, 'retention purge failed'); return 0 })
        .finally(() => { this.#running = undefined })
    }
    this.#timer = setInterval(run, intervalMs)
    this.#timer.unref()
    run()
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.#running
  }
}
