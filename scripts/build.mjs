// Builds dist/: the TypeScript of src/ and adapters/ compiled to JavaScript (tsconfig.build.json),
// with the files the code reads next to itself at run time (schemas, migrations, the console's
// stylesheet, the native SM2 addon), so that bin/tongban.js runs with no TypeScript tooling.
// Runs at `npm ci` (prepare) and before the tests. `--if-stale`: only when a source is newer.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newestSource, STAMP } from './sources.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')

if (process.argv.includes('--if-stale') && existsSync(join(dist, STAMP)) && statSync(join(dist, STAMP)).mtimeMs >= newestSource(root)) {
  process.exit(0)
}
rmSync(dist, { recursive: true, force: true })
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
if (tsc.status !== 0) {
  console.error('tongban: build failed (tsc)')
  process.exit(1)
}
const assets = [
  ['schemas', 'schemas'],
  ['src/store/migrations', 'src/store/migrations'],
  ['src/console/static', 'src/console/static'],
  ['src/crypto/sm/native/build/Release/tongban_sm2.node', 'src/crypto/sm/native/build/Release/tongban_sm2.node'],
]
for (const [from, to] of assets) {
  // Without the addon (it could not be built) the gateway uses its JavaScript fallback and says so.
  if (!existsSync(join(root, from))) continue
  mkdirSync(dirname(join(dist, to)), { recursive: true })
  cpSync(join(root, from), join(dist, to), { recursive: true })
}
writeFileSync(join(dist, STAMP), `${new Date().toISOString()}\n`)
console.log('tongban: dist/ built')
