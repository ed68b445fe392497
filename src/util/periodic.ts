import type { Logger } from './log.ts'

/**
 * A background task run every `intervalMs`, and once at start: never two rounds at a time (a
 * round still running when the next is due makes that one skip), and a failed round is logged
 * with `failure` and left to the next. `stop()` ends the timer and waits for the round in progress.
 */
export class Periodic {
  readonly #task: () => Promise<unknown>
  readonly #logger: Logger
  readonly #failure: string
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined

  constructor(task: () => Promise<unknown>, logger: Logger, failure: string) {
    this.#task = task
    this.#logger = logger
    this.#failure = failure
  }

  start(intervalMs: number): void {
    const run = (): void => {
      if (this.#running) return
      this.#running = this.#task()
        .then(() => undefined, (err: unknown) => { this.#logger.warn({ err }, this.#failure) })
        .finally(() => { this.#running = undefined })
    }
    this.#timer = setInterval(run, intervalMs)
    this.#timer.unref()
    run()
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.#running
  }
}
