// npm install hook: builds the SM2 addon (src/crypto/sm/native) against the OpenSSL that
// Node itself ships (headers from the Node installation, symbols from the node binary).
// It never fails the install: without the addon the gateway uses the JavaScript fallback
// and says so at start. TONGBAN_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'crypto', 'sm', 'native')
if (process.env.TONGBAN_SKIP_NATIVE === '1') {
  console.log('tongban: native SM2 addon skipped (TONGBAN_SKIP_NATIVE=1)')
} else if (!existsSync(join(dir, 'binding.gyp'))) {
  console.log('tongban: no native SM2 addon sources; the JavaScript fallback will be used')
} else {
  // npm tells lifecycle scripts where its bundled node-gyp lives.
  const gyp = process.env.npm_config_node_gyp
  const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']]
  const r = spawnSync(cmd, args, { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status === 0) console.log('tongban: native SM2 addon built (OpenSSL from Node)')
  else console.log('tongban: warning: the native SM2 addon could not be built; the JavaScript fallback will be used')
}
