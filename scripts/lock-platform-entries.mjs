// Why this exists: the npm registry reachable from our build machines carries only the
// linux builds of msgpackr-extract (an optional native speed-up of msgpackr, used by BullMQ).
// `npm install` therefore leaves the darwin/win32/arm builds out of package-lock.json, and
// `npm ci` then refuses the lock as "out of sync". Those packages are optional and
// platform-gated, so npm skips them on Linux anyway: declaring them in the lock (version,
// os, cpu; nothing to download) makes `npm ci` work. Run after any `npm install`.
import { readFileSync, writeFileSync } from 'node:fs'

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'))
const extract = lock.packages['node_modules/msgpackr-extract']
if (extract !== undefined) {
  for (const name of Object.keys(extract.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`
    if (lock.packages[key] !== undefined) continue
    const [, os, cpu] = /msgpackr-extract-([a-z0-9]+)-([a-z0-9]+)$/.exec(name) ?? []
    if (os === undefined || cpu === undefined) continue
    lock.packages[key] = { version: extract.optionalDependencies[name], cpu: [cpu], license: 'MIT', optional: true, os: [os] }
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)))
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`)
