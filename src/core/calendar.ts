import chineseDays from 'chinese-days'

/**
 * Working days in mainland China: weekends, the public holidays and the make-up working days
 * (调休上班) of the State Council's yearly schedule (国务院办公厅关于部分节假日安排的通知; for
 * 2026 国办发明电〔2025〕7号). The schedule comes from the maintained `chinese-days` package,
 * which carries each year's notice; for a year it does not carry yet, only weekends count and
 * `knownUntil` says so (the gateway logs it at start).
 */
export interface WorkingCalendar {
  /** Whether a civil date (YYYY-MM-DD, China Standard Time) is a working day. */
  isWorkingDay(date: string): boolean
  /**
   * When a step opened at `from` with `days` working days is due: the end (24:00 China Standard
   * Time) of the `days`-th working day after the day it was opened. The opening day itself
   * does not count, whether or not it is a working day (受理当日不计入).
   */
  dueAt(from: Date, days: number): Date
  /** The last year whose holiday schedule the calendar holds. */
  readonly knownUntil: number
}

// China Standard Time has had no daylight saving since 1991: a fixed +08:00 offset is exact.
const CST_OFFSET_MS = 8 * 3_600_000
const DAY_MS = 86_400_000

/** The China Standard Time civil date of an instant, as YYYY-MM-DD. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10)
}

function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10)
}

/** The calendar of the official schedule (weekends, holidays, make-up working days). */
export function chinaCalendar(): WorkingCalendar {
  const isWorkingDay = (date: string): boolean => chineseDays.isWorkday(date)
  let knownUntil = 2004
  // The package holds a year's schedule when that year has named holidays; probe forward.
  for (let y = 2004; y <= 2100 && chineseDays.getHolidaysInRange(`${y}-01-01`, `${y}-12-31`, false).length > 0; y++) knownUntil = y
  // Due dates by (China date opened, days): every step opened on one day is due at the same
  // instant, and the schedule lookups cost more than the step. Bounded: cleared past 1,000.
  const due = new Map<string, number>()
  return {
    isWorkingDay,
    knownUntil,
    dueAt(from: Date, days: number): Date {
      if (!Number.isInteger(days) || days < 1) throw new RangeError('days must be a positive integer')
      const key = `${Math.floor((from.getTime() + CST_OFFSET_MS) / DAY_MS)}:${days}`
      let at = due.get(key)
      if (at === undefined) {
        at = dueFrom(chinaDate(from), days)
        if (due.size >= 1000) due.clear()
        due.set(key, at)
      }
      return new Date(at)
    },
  }

  /** The end of the `days`-th working day after the China date `opened`, in epoch ms. */
  function dueFrom(opened: string, days: number): number {
    let date = opened
    let counted = 0
    while (counted < days) {
      date = nextDate(date)
      if (isWorkingDay(date)) counted++
    }
    // End of that day in China = start of the next day at 00:00 +08:00.
    return Date.parse(`${nextDate(date)}T00:00:00+08:00`)
  }
}
