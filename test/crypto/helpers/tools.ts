// Running the independent implementations (OpenSSL CLI, Bouncy Castle on Java) from tests.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where Debian's libbcprov-java puts Bouncy Castle (installed by .ci/run). */
export const BCPROV_JAR = '/usr/share/java/bcprov.jar'

export interface Run {
  status: number
  stdout: Buffer
  stderr: string
}

/** Runs a program; never throws on a non-zero exit (the test decides). */
export function run(cmd: string, args: string[], opts: { input?: Uint8Array | string; cwd?: string; timeout?: number } = {}): Run {
  const r = spawnSync(cmd, args, { input: opts.input, cwd: opts.cwd, timeout: opts.timeout ?? 30_000, maxBuffer: 64 << 20 })
  if (r.error) throw r.error
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() }
}

/** Runs openssl and throws with its stderr when it fails. */
export function openssl(args: string[], opts: { input?: Uint8Array | string; cwd?: string } = {}): Buffer {
  const r = run('openssl', args, opts)
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** Why the OpenSSL CLI cannot be used, or undefined when it can (tests FAIL on a reason, never skip). */
export function opensslProblem(): string | undefined {
  try {
    const r = run('openssl', ['version'])
    if (r.status !== 0) return `openssl version exited ${r.status}`
    if (!/^OpenSSL 3\./.test(r.stdout.toString())) return `OpenSSL 3 is required, found ${r.stdout.toString().trim()}`
    return undefined
  } catch (err) {
    return `the openssl CLI is not installed (${(err as Error).message})`
  }
}

/** Why Bouncy Castle on Java 17+ cannot be used, or undefined when it can. */
export function javaProblem(): string | undefined {
  if (!existsSync(BCPROV_JAR)) return `Bouncy Castle is missing: ${BCPROV_JAR} not found (apt-get install libbcprov-java; .ci/run installs it)`
  try {
    const r = run('java', ['-version'])
    if (r.status !== 0) return `java -version exited ${r.status}`
    const m = /version "(\d+)/.exec(r.stderr)
    if (!m || Number(m[1]) < 17) return `Java 17 or later is required (single-file programs), found: ${r.stderr.split('\n')[0]}`
    return undefined
  } catch (err) {
    return `java is not installed (${(err as Error).message})`
  }
}

/** A private temporary directory, removed when `teardown` runs. */
export function tempDir(teardown: (fn: () => void) => void, prefix = 'tongban-interop-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
