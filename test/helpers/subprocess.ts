import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/tongban.js', import.meta.url))

/**
 * How a test starts `node bin/tongban.js …` as a subprocess: through `env -u NODE_OPTIONS`.
 * The test runner instruments every child process it can (it writes NODE_OPTIONS into the spawn
 * options, whatever env is passed); a `tongban` subprocess runs the sources through tsx, whose
 * transpilation differs from the one the test processes get, and coverage recorded there cannot
 * be merged with theirs — it made the coverage report drop files at random. The code these
 * subprocesses run is covered in-process by the other tests.
 */
export function tongbanCommand(args: readonly string[], nodeArgs: readonly string[] = []): [string, string[]] {
  return ['/usr/bin/env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, ...nodeArgs, BIN, ...args]]
}

/** The environment for a `tongban` subprocess: the test's own, without the runner's and the tests' own variables. */
export function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k === 'NODE_V8_COVERAGE' || k.startsWith('TAP') || k.startsWith('_TAPJS') || k.startsWith('TONGBAN_TEST_')) continue
    env[k] = v
  }
  return { ...env, ...extra }
}
