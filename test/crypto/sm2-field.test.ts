// The native addon's field arithmetic (sm2_p256.c: Montgomery multiplication and squaring
// with a reduction that uses p's form, additions, the inversion's addition chain) against
// OpenSSL's BIGNUM, limb for limb, over random operands and operands built from the limbs where
// carries go wrong (test/crypto/native/sm2-field.c). Both carry paths are compiled and run: the
// x86-64 intrinsics (on an x86-64 machine) and the portable 128-bit one. The point
// multiplications built on them are checked against the JavaScript backend in
// sm2-point-mul.test.ts. Needs gcc and OpenSSL's headers (libssl-dev), as building the addon
// does: without them this test fails when the addon is required (CI) and says so otherwise.
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { run, tempDir } from './helpers/tools.ts'

const SOURCE = 'test/crypto/native/sm2-field.c'
const ADDON = 'src/crypto/sm/native'

function toolchainProblem(): string | undefined {
  if (!existsSync('/usr/include/openssl/bn.h')) return "OpenSSL's headers are missing (apt-get install -y libssl-dev)"
  try {
    return run('gcc', ['--version']).status === 0 ? undefined : 'gcc --version failed'
  } catch (err) {
    return `gcc is not installed (${(err as Error).message})`
  }
}

const problem = toolchainProblem()
if (problem !== undefined) {
  if (process.env.TONGBAN_REQUIRE_NATIVE === '1') t.fail(`the field test cannot be built: ${problem}`)
  else t.comment(`the field test cannot be built here: ${problem}`)
} else {
  const dir = tempDir(t.teardown.bind(t), 'tongban-field-')
  const variants: [string, string[]][] = [
    ['the portable 128-bit carries (SM2P_GENERIC)', ['-DSM2P_GENERIC']],
    ...(process.arch === 'x64' ? [['the x86-64 carry intrinsics', []] as [string, string[]]] : []),
  ]
  for (const [name, flags] of variants) {
    t.test(name, async (t) => {
      const exe = join(dir, `field${flags.length}`)
      const cc = run('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-Wno-unused-function', '-Wno-unused-parameter', ...flags, '-I', ADDON, SOURCE, '-lcrypto', '-lpthread', '-o', exe], { timeout: 120_000 })
      t.equal(cc.status, 0, `compiles: ${cc.stderr}`)
      if (cc.status !== 0) return
      const r = run(exe, ['20000'], { timeout: 120_000 })
      const out = r.stdout.toString().trim()
      t.equal(r.status, 0, out)
      const checks = Number(/^ok (\d+)$/.exec(out)?.[1] ?? 0)
      t.ok(checks > 250_000, `${checks} results compared with BIGNUM's`)
    })
  }
}
