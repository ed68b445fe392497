import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Db } from '../store/db.ts'
import { casesOnUnit, deadLetters, deliveryCounts, deliveryWithExchange, dueSteps, lastDeliveries, perMinute, type DeadLetter, type DueStep, type RefusalCounter } from '../store/operations.ts'
import { latestCheckpoints, type StoredCheckpoint } from '../store/ledger.ts'
import { getCase } from '../store/cases.ts'
import { listQueries } from '../store/queries.ts'
import type { Ledger } from '../ledger/index.ts'
import { exportLedger } from '../ledger/export.ts'
import { verifyExport, type LedgerReport } from '../ledger/verify.ts'
import type { Directory, Participant } from './directory.ts'
import { chinaDate, type WorkingCalendar } from './calendar.ts'
import { caseIdFault } from './formats.ts'

export type { DeadLetter, DueStep } from '../store/operations.ts'

/** The overview's numbers: per-minute series (oldest first), queue states, open circuits, warnings. */
export interface Overview {
  readonly minutes: readonly number[]
  readonly accepted: readonly number[]
  readonly delivered: readonly number[]
  readonly refused: readonly number[]
  readonly pending: number
  readonly dead: number
  readonly openCircuits: ReadonlyArray<{ partner: string; state: string }>
  readonly warnings: ReadonlyArray<DueStep & { msLeft: number; workingDaysLeft: number }>
}

/** A partner as the console shows it. */
export interface PartnerStatus {
  readonly participant: Participant
  /** The earliest end of any of its keys' windows (entry or certificate), if any is set. */
  readonly keysExpire: Date | undefined
  readonly circuit: string
  readonly last: { status: string; lastError: string | null; at: Date } | undefined
}

export interface OperationsDeps {
  readonly db: Db
  readonly refusals: RefusalCounter
  readonly ledger: Ledger
  /** The directory in force (a reload swaps it). */
  readonly directory: () => Directory
  /** The partners' circuits not closed: the query breakers and the delivery circuits, the worse of the two. */
  readonly breakers: () => Promise<ReadonlyMap<string, string>>
  readonly calendar: WorkingCalendar
}

/**
 * What the operator console reads (docs/console.md): each a view over the stores, computed for
 * one instant. The console (an inbound room) calls these instead of the stores.
 */
export class OperationsView {
  readonly #d: OperationsDeps

  constructor(d: OperationsDeps) {
    this.#d = d
  }

  async overview(now: Date): Promise<Overview> {
    const first = Math.floor(now.getTime() / 60_000) * 60_000 - 59 * 60_000
    const since = new Date(first)
    const [series, refused, counts, due, breakers] = await Promise.all([
      perMinute(this.#d.db, since), this.#d.refusals.since(since, now), deliveryCounts(this.#d.db), dueSteps(this.#d.db, 50), this.#d.breakers(),
    ])
    const minutes = Array.from({ length: 60 }, (_, i) => first + i * 60_000)
    return {
      minutes,
      accepted: minutes.map((m) => series.accepted.get(m) ?? 0),
      delivered: minutes.map((m) => series.delivered.get(m) ?? 0),
      refused: minutes.map((m) => refused.get(m) ?? 0),
      pending: counts.pending,
      dead: counts.dead,
      openCircuits: [...breakers].filter(([, s]) => s !== 'closed').map(([partner, state]) => ({ partner, state })),
      warnings: due.map((s) => ({ ...s, msLeft: s.dueAt.getTime() - now.getTime(), workingDaysLeft: this.workingDaysLeft(now, s.dueAt) })),
    }
  }

  /** Working days from today (not counted) to the due day (counted); negative when overdue. */
  workingDaysLeft(now: Date, dueAt: Date): number {
    const today = chinaDate(now)
    // dueAt is 24:00 CST of the last working day: the civil date of the instant before it.
    const last = chinaDate(new Date(dueAt.getTime() - 1))
    const sign = last >= today ? 1 : -1
    const [from, to] = sign > 0 ? [today, last] : [last, today]
    let n = 0
    for (let d = nextDay(from); d <= to; d = nextDay(d)) if (this.#d.calendar.isWorkingDay(d)) n++
    return sign * n
  }

  /** Case ids for a search: the case itself when the text is a case id, else the cases on that unit. */
  async findCases(text: string): Promise<Array<{ caseId: string; createdAt: Date }>> {
    const q = text.trim()
    if (q === '') return []
    if (caseIdFault(q) === null) {
      const c = await getCase(this.#d.db, q)
      return c === undefined ? [] : [{ caseId: c.caseId, createdAt: c.createdAt }]
    }
    // Unit codes are written with or without spaces (231202 003004 GB00012 F00010001).
    const unit = q.replace(/\s+/g, '').toUpperCase()
    return /^[0-9A-Z]{28}$/.test(unit) ? casesOnUnit(this.#d.db, unit, 50) : []
  }

  async deadLetters(limit = 200): Promise<DeadLetter[]> {
    return deadLetters(this.#d.db, limit)
  }

  async delivery(id: string): Promise<DeadLetter | undefined> {
    return deliveryWithExchange(this.#d.db, id)
  }

  async partners(): Promise<PartnerStatus[]> {
    const [last, breakers] = await Promise.all([lastDeliveries(this.#d.db), this.#d.breakers()])
    const directory = this.#d.directory()
    return directory.participants().sort((a, b) => a.id.localeCompare(b.id)).map((p) => {
      const ends = [...p.signingKeys, ...p.encryptionKeys].map((k) => {
        const cert = directory.trust.certificate(k.key)
        const e = [k.notAfter, cert?.notAfter].filter((x): x is Date => x !== undefined)
        return e.length === 0 ? undefined : new Date(Math.min(...e.map((x) => x.getTime())))
      }).filter((x): x is Date => x !== undefined)
      return {
        participant: p,
        keysExpire: ends.length === 0 ? undefined : new Date(Math.min(...ends.map((x) => x.getTime()))),
        circuit: breakers.get(p.id) ?? 'closed',
        last: last.get(p.id),
      }
    })
  }

  async queries(limit = 200): ReturnType<typeof listQueries> {
    return listQueries(this.#d.db, undefined, limit)
  }

  async checkpoints(limit = 10): Promise<StoredCheckpoint[]> {
    return latestCheckpoints(this.#d.db, limit)
  }

  /** Exports the ledger to a temporary folder and runs the offline verifier on it with the gateway's own keys. */
  async verifyLedger(now: Date): Promise<LedgerReport> {
    const dir = mkdtempSync(join(tmpdir(), 'tongban-console-verify-'))
    try {
      await exportLedger(this.#d.db, this.#d.ledger, join(dir, 'export'), now)
      return await verifyExport(join(dir, 'export'), { vkeys: this.#d.ledger.vkeys() })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
}
