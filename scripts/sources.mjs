// What dist/ is built from (scripts/build.mjs), and when it last changed: bin/tongban.js refuses
// to run a dist/ older than its sources, and `build --if-stale` rebuilds only then.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** The file dist/ is stamped with when built. */
export const STAMP = 'BUILD'

const SOURCES = ['src', 'adapters', 'schemas', 'tsconfig.json', 'tsconfig.build.json']

/** The newest modification time (ms) among the sources under `root`, or 0 when none is there (an image holds dist/ only). */
export function newestSource(root) {
  let newest = 0
  const visit = (path) => {
    let s
    try {
      s = statSync(path)
    } catch {
      return
    }
    if (s.isDirectory()) {
      // The addon's build output is an input copied as is, not a source of the JavaScript.
      if (path.endsWith(join('native', 'build'))) return
      for (const name of readdirSync(path)) visit(join(path, name))
    } else if (s.mtimeMs > newest) newest = s.mtimeMs
  }
  for (const s of SOURCES) visit(join(root, s))
  return newest
}
