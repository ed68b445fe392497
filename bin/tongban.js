#!/usr/bin/env node
// The tongban command: runs the compiled gateway in dist/ (npm run build; `npm ci` builds it),
// with no TypeScript tooling at run time. In a checkout whose sources changed since the build,
// it says so rather than run old code.
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stamp = join(root, 'dist', 'BUILD')
if (!existsSync(stamp)) {
  console.error('tongban: dist/ is not built: run `npm run build` (npm ci does it too)')
  process.exit(1)
}
// Only where the sources are (a checkout, not an image): the check costs a few milliseconds.
if (existsSync(join(root, 'src'))) {
  const { newestSource } = await import('../scripts/sources.mjs')
  if (newestSource(root) > statSync(stamp).mtimeMs) {
    console.error('tongban: dist/ is older than the sources: run `npm run build`')
    process.exit(1)
  }
}
process.setSourceMapsEnabled(true)
await import('../dist/src/cli/main.js')
