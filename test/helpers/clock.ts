import type { Clock } from '../../src/util/ids.ts'

/** A clock tests can set and move; it runs with real time from where it was set. */
export class TestClock implements Clock {
  #offset = 0

  constructor(start?: Date) {
    if (start) this.set(start)
  }

  now(): Date {
    return new Date(Date.now() + this.#offset)
  }

  set(at: Date): void {
    this.#offset = at.getTime() - Date.now()
  }

  advance(ms: number): void {
    this.#offset += ms
  }
}
