import type { Db } from '../store/db.ts'
import { purgeAttachments } from '../store/attachments.ts'
import { dropMonth, ensureMonths, listMonths, monthKey, purgeSettledBodies } from '../store/retention.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import { Periodic } from '../util/periodic.ts'

export interface RetentionDeps {
  readonly db: Db
  readonly clock: Clock
  readonly logger: Logger
  /** Days after its last delivery settles that an exchange's sealed body is purged; 0 keeps bodies (config retention.purgeAfterDays). */
  readonly purgeAfterDays: number
  /** Whole months kept before the current one; older months are dropped (0 keeps every month: config retention.keepMonths). */
  readonly keepMonths: number
  /** Hours an attachment no message names is kept (config attachments.keepUnreferencedHours); undefined keeps them. */
  readonly keepUnreferencedHours?: number
  /** Bodies purged per transaction. */
  readonly batch?: number
}

/** What one maintenance round did. */
export interface Maintenance {
  readonly purged: number
  /** Attachments deleted: named by no message any more (or never), or never finished. */
  readonly attachmentsPurged: number
  /** Partitions made (this month and the next two, when missing). */
  readonly made: readonly string[]
  /** Months dropped (`YYYY_MM`), and months due but kept because a delivery of theirs is still pending. */
  readonly dropped: readonly string[]
  readonly keptPending: readonly string[]
}

/**
 * Data minimisation (数据最小化): the gateway carries messages, it is not their archive. Sealed
 * bodies go a configured number of days after the last delivery of their exchange settled; ids,
 * digests, receipts and the case timeline stay. Exchanges, deliveries and timeline rows live in
 * monthly partitions: the coming months' are made ahead, and months older than keepMonths are
 * dropped whole. Safe in every instance at once: each purge batch skips what another instance
 * holds, and partitions are made and dropped under one advisory lock.
 */
export class RetentionService {
  readonly #d: RetentionDeps
  readonly #periodic: Periodic

  constructor(deps: RetentionDeps) {
    this.#d = deps
    this.#periodic = new Periodic(() => this.maintain(), deps.logger, 'retention round failed')
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

  /**
   * Deletes the attachments no message names (their messages' bodies purged, or never named)
   * and the uploads never finished, keepUnreferencedHours after their upload began.
   */
  async purgeAttachments(): Promise<number> {
    const d = this.#d
    if (d.keepUnreferencedHours === undefined) return 0
    const before = new Date(d.clock.now().getTime() - d.keepUnreferencedHours * 3_600_000)
    const batch = d.batch ?? 1_000
    let total = 0
    for (;;) {
      const { purged, more } = await purgeAttachments(d.db, before, batch)
      total += purged
      if (!more) break
    }
    if (total > 0) d.logger.info({ purged: total, createdBefore: before.toISOString() }, 'attachments no message names deleted (retention)')
    return total
  }

  /** Makes the partitions of this month and the next two, and drops the months past keepMonths (unless a delivery of theirs is pending). */
  async maintainPartitions(): Promise<Omit<Maintenance, 'purged' | 'attachmentsPurged'>> {
    const d = this.#d
    const now = d.clock.now()
    const month = (k: number): Date => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + k, 1))
    const made = await ensureMonths(d.db, [month(0), month(1), month(2)])
    if (made.length > 0) d.logger.info({ made }, 'monthly partitions made')
    const dropped: string[] = []
    const keptPending: string[] = []
    if (d.keepMonths > 0) {
      const oldest = monthKey(month(-d.keepMonths))
      for (const m of await listMonths(d.db)) {
        if (m >= oldest) break
        if ((await dropMonth(d.db, m)) === 'dropped') dropped.push(m)
        else keptPending.push(m)
      }
      if (dropped.length > 0) d.logger.info({ dropped, keepMonths: d.keepMonths }, 'old months dropped (retention)')
      if (keptPending.length > 0) d.logger.warn({ months: keptPending }, 'old months kept: a delivery of theirs is still pending')
    }
    return { made, dropped, keptPending }
  }

  /** One round: partitions, then the purges (bodies first: that frees their attachments). */
  async maintain(): Promise<Maintenance> {
    const partitions = await this.maintainPartitions()
    const purged = await this.purgeBodies()
    return { ...partitions, purged, attachmentsPurged: await this.purgeAttachments() }
  }

  /** Runs maintain() every `intervalMs` (and once at once). */
  start(intervalMs: number): void {
    this.#periodic.start(intervalMs)
  }

  async close(): Promise<void> {
    await this.#periodic.stop()
  }
}
