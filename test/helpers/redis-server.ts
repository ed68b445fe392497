import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { adopt } from './children.ts'

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/**
 * A redis-server of the test's own on a free port, without persistence (as the gateway's Redis
 * may be): a test can flush, kill or restart it without touching anyone else's.
 */
export class OwnRedis {
  readonly port: number
  #proc: ChildProcess | undefined

  private constructor(port: number) {
    this.port = port
  }

  static async start(): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort())
    await r.up()
    return r
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`
  }

  /** Starts (or restarts) the server on the same port, empty. */
  async up(): Promise<void> {
    this.#proc = adopt(spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }))
    const end = Date.now() + 10_000
    for (;;) {
      const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
      c.on('error', () => {})
      try {
        await c.connect()
        if ((await c.ping()) === 'PONG') return
      } catch {
        if (Date.now() > end) throw new Error(`redis-server on ${this.port} did not start`)
        await new Promise((r) => setTimeout(r, 50))
      } finally {
        c.disconnect()
      }
    }
  }

  /** FLUSHALL: every key gone, as after a restart without persistence. */
  async flushAll(): Promise<void> {
    const c = new Redis(this.url, { maxRetriesPerRequest: 1 })
    try {
      await c.flushall()
    } finally {
      c.disconnect()
    }
  }

  /** Kills the server (SIGKILL). */
  async down(): Promise<void> {
    const p = this.#proc
    this.#proc = undefined
    if (p === undefined || p.exitCode !== null) return
    await new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGKILL') })
  }
}
