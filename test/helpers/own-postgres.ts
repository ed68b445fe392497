import { execFile } from 'node:child_process'
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './redis-server.ts'

const run = promisify(execFile)

/** The newest PostgreSQL installed (Debian keeps each version's programs apart). */
function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
  if (versions.length === 0) throw new Error('no PostgreSQL programs under /usr/lib/postgresql')
  return `/usr/lib/postgresql/${versions[0]}/bin`
}

/**
 * A PostgreSQL cluster of a test's own (initdb into a temp folder, a free port on loopback, trust
 * auth), so a test can stop and restart it without touching anyone's. PostgreSQL refuses to run as
 * root: as root, its programs run as the `postgres` user, which owns the folder.
 */
export class OwnPostgres {
  readonly port: number
  readonly dir: string
  readonly #bin = binDir()

  private constructor(port: number, dir: string) {
    this.port = port
    this.dir = dir
  }

  static async start(): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'tongban-pg-'))
    const pg = new OwnPostgres(await freePort(), dir)
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres'])
      const { stdout: gid } = await run('id', ['-g', 'postgres'])
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()))
    }
    await pg.#as('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions'])
    await pg.up()
    return pg
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`
  }

  /** Starts the cluster and waits until it takes connections. */
  async up(): Promise<void> {
    await this.#as('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start'])
  }

  /** Stops it the way a crash would (immediate: no checkpoint; recovery replays the WAL at the next start). */
  async crash(): Promise<void> {
    await this.#as('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'])
  }

  /** Stops it and removes its folder. */
  async destroy(): Promise<void> {
    await this.#as('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(() => {})
    rmSync(this.dir, { recursive: true, force: true })
  }

  async #as(program: string, args: string[]): Promise<void> {
    const path = join(this.#bin, program)
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', path, ...args], { cwd: this.dir })
    else await run(path, args, { cwd: this.dir })
  }
}
