// Runs the real `tongban` command (node bin/tongban.js) as a subprocess.
import { spawnSync } from 'node:child_process'
import { plainEnv, tongbanCommand } from '../helpers/subprocess.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface CliResult {
  status: number
  stdout: Buffer
  stderr: string
}

/** `tongban ...args` with `input` on stdin. */
export function tongban(args: string[], input: string | Uint8Array = '', cwd?: string): CliResult {
  const [cmd, argv] = tongbanCommand(args)
  const r = spawnSync(cmd, argv, { input, cwd, timeout: 60_000, maxBuffer: 16 << 20, env: plainEnv() })
  if (r.error) throw r.error
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() }
}

/** `key: value` lines of a command's output. */
export function fields(out: Buffer): Record<string, string> {
  const o: Record<string, string> = {}
  for (const line of out.toString().split('\n')) {
    const m = /^([^:]+): (.*)$/.exec(line)
    if (m) o[m[1] as string] = m[2] as string
  }
  return o
}

/** A private temporary directory removed at teardown. */
export function tempDir(teardown: (fn: () => void) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-cli-'))
  teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
