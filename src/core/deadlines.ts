import { inTransaction, type Db } from '../store/db.ts'
import { addEvent, markOverdue } from '../store/cases.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import { Periodic } from '../util/periodic.ts'
import type { WorkingCalendar } from './calendar.ts'

export interface DeadlineDeps {
  readonly db: Db
  readonly clock: Clock
  readonly logger: Logger
  readonly calendar: WorkingCalendar
  /** Working days allowed per step kind (config `deadlines.workingDays`). */
  readonly workingDays: Readonly<Record<string, number>>
  /** Hours allowed per step kind and variant, `<kind>.<variant>` (config `deadlines.hours`). */
  readonly hours?: Readonly<Record<string, number>>
}

/**
 * Deadlines of awaited steps (审核时限预警): when a step is due, counted in working days, and
 * the periodic check that flags overdue steps on their case and logs each one once.
 */
export class DeadlineService {
  readonly #d: DeadlineDeps
  readonly #periodic: Periodic

  constructor(deps: DeadlineDeps) {
    this.#d = deps
    this.#periodic = new Periodic(() => this.checkOverdue(), deps.logger, 'overdue check failed')
  }

  /**
   * When a step of `kind` opened at `openedAt` is due, or null when the kind has no deadline. A
   * variant the opening message selected (a plain transfer) is due in its hours, counted on the
   * clock (not in working hours), when `deadlines.hours` sets them.
   */
  dueAt(kind: string, openedAt: Date, variant?: string): Date | null {
    const hours = variant === undefined ? undefined : this.#d.hours?.[`${kind}.${variant}`]
    if (hours !== undefined && hours > 0) return new Date(openedAt.getTime() + Math.round(hours * 3_600_000))
    // A per-service step (utility:water) is due by its own setting, else by its kind's (utility).
    const days = this.#d.workingDays[kind] ?? this.#d.workingDays[kind.split(':')[0] ?? kind]
    return days === undefined ? null : this.#d.calendar.dueAt(openedAt, days)
  }

  /** Flags the steps that became overdue since the last check; returns how many. */
  async checkOverdue(): Promise<number> {
    const d = this.#d
    const now = d.clock.now()
    const marked = await inTransaction(d.db, async (tx) => {
      const steps = await markOverdue(tx, now, 500)
      for (const s of steps) {
        await addEvent(tx, { caseId: s.caseId, at: now, event: 'step.overdue', actor: null, detail: { kind: s.kind, waitingFor: s.responder, dueAt: s.dueAt?.toISOString() ?? null } })
      }
      return steps
    })
    for (const s of marked) {
      d.logger.warn({ caseId: s.caseId, step: s.kind, waitingFor: s.responder, dueAt: s.dueAt?.toISOString() }, 'case step overdue')
    }
    return marked.length
  }

  /** Runs the check every `intervalMs` (and once at once). */
  start(intervalMs: number): void {
    this.#periodic.start(intervalMs)
  }

  async close(): Promise<void> {
    await this.#periodic.stop()
  }
}
