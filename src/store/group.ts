import type { Db } from './db.ts'

/** An item of a group PostgreSQL refused for a reason of its own: it is written alone, where its error (if any) is raised. */
export const ALONE: unique symbol = Symbol('alone')

export interface GroupWrites<I, R> {
  /** Writes one item in a statement of its own. */
  readonly one: (item: I) => Promise<R>
  /** Writes a group in one statement and one transaction: each item's result, in order, or ALONE. Throws when nothing of it was written. */
  readonly many: (items: readonly I[]) => Promise<ReadonlyArray<R | typeof ALONE>>
  /** The most items in one group. */
  readonly maxGroup: number
  /** The most statements out at once. */
  readonly maxWriting: number
  /** The order of a group's items: the same rows locked in the same order by every group (no group waits on another crosswise). */
  readonly order: (a: I, b: I) => number
  /** After this long a statement no longer holds its place (STALL_MS by default): one that hangs does not hold up the items behind it. */
  readonly stallMs?: number
}

/**
 * How long a statement holds its place among the `maxWriting` before the next may go regardless.
 * Statements take milliseconds; one that waits for a lock or a connection that does not come
 * (PostgreSQL restarting) would otherwise hold up every item after it, where alone each would
 * have held up only its own message.
 */
export const STALL_MS = 5_000

interface Waiting<I, R> {
  readonly item: I
  readonly resolve: (r: R) => void
  readonly reject: (err: unknown) => void
}

/**
 * Writes items as they come while fewer than `maxWriting` statements are out, and those that
 * arrive meanwhile together, as one group, when one comes back: an idle gateway writes each item
 * alone and at once, a busy one commits once for many. Each caller's promise settles once its
 * item is committed (or refused), alone or in a group. A group PostgreSQL refuses whole is
 * written item by item.
 */
export class GroupWriter<I, R> {
  readonly #w: GroupWrites<I, R>
  readonly #waiting: Array<Waiting<I, R>> = []
  #writing = 0

  constructor(writes: GroupWrites<I, R>) {
    this.#w = writes
  }

  write(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject })
      this.#pump()
    })
  }

  #pump(): void {
    while (this.#writing < this.#w.maxWriting && this.#waiting.length > 0) {
      const group = this.#waiting.splice(0, this.#w.maxGroup)
      this.#writing++
      let held = true
      const release = (): void => {
        if (!held) return
        held = false
        clearTimeout(stalled)
        this.#writing--
        this.#pump()
      }
      const stalled = setTimeout(release, this.#w.stallMs ?? STALL_MS)
      stalled.unref()
      // The place is the statement's: the items a group sends back to be written alone go after it, each on its own.
      void this.#write(group).then((alone) => {
        release()
        for (const x of alone) this.#alone(x)
      })
    }
  }

  /** Writes a group (or a single item); resolves with the items to write alone. Never rejects. */
  async #write(group: Array<Waiting<I, R>>): Promise<Array<Waiting<I, R>>> {
    if (group.length === 1) {
      await this.#alone(group[0] as Waiting<I, R>)
      return []
    }
    group.sort((a, b) => this.#w.order(a.item, b.item))
    let results: ReadonlyArray<R | typeof ALONE> | undefined
    try {
      results = await this.#w.many(group.map((x) => x.item))
    } catch {
      // Nothing of the group was written: each item on its own, where its own error (if any) is raised.
      return group
    }
    const alone: Array<Waiting<I, R>> = []
    group.forEach((x, i) => {
      const r = results[i] as R | typeof ALONE
      if (r === ALONE) alone.push(x)
      else x.resolve(r)
    })
    return alone
  }

  async #alone(x: Waiting<I, R>): Promise<void> {
    try {
      x.resolve(await this.#w.one(x.item))
    } catch (err) {
      x.reject(err)
    }
  }
}

/** One writer per pool, made on first use. */
export function writerOf<I, R>(writers: WeakMap<Db, GroupWriter<I, R>>, db: Db, make: (db: Db) => GroupWrites<I, R>): GroupWriter<I, R> {
  let w = writers.get(db)
  if (w === undefined) {
    w = new GroupWriter(make(db))
    writers.set(db, w)
  }
  return w
}

/** Orders by a string key (the empty string first). */
export const byKey = <I>(key: (item: I) => string) => (a: I, b: I): number => {
  const x = key(a)
  const y = key(b)
  return x < y ? -1 : x > y ? 1 : 0
}
