// The native addon's field arithmetic (sm2_p256.c: Montgomery multiplication and squaring
// with a reduction that uses p's form, additions, the inversion's addition chain, the scalar
// inverse mod n) against OpenSSL's BIGNUM, limb for limb, over random operands and operands
// built from the limbs where carries go wrong (test/crypto/native/sm2-field.c); and constant
// time in the secrets, by valgrind's memcheck with the secrets marked undefined
// (test/crypto/native/sm2-ct.c: no branch and no memory address may depend on them). Both carry
// paths are compiled and run: the x86-64 intrinsics (on an x86-64 machine) and the portable
// 128-bit one. The point multiplications built on them are checked against the JavaScript
// backend in sm2-point-mul.test.ts. Needs gcc, OpenSSL's headers (libssl-dev) and valgrind
// (.ci/run installs them): without them this test fails when the addon is required (CI) and
// says so otherwise.
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { run, tempDir } from './helpers/tools.ts'

const SOURCE = 'test/crypto/native/sm2-field.c'
const CONSTANT_TIME = 'test/crypto/native/sm2-ct.c'
const ADDON = 'src/crypto/sm/native'

function toolchainProblem(): string | undefined {
  if (!existsSync('/usr/include/openssl/bn.h')) return "OpenSSL's headers are missing (apt-get install -y libssl-dev)"
  if (!existsSync('/usr/include/valgrind/memcheck.h')) return 'valgrind is missing (apt-get install -y valgrind)'
  for (const tool of ['gcc', 'valgrind']) {
    try {
      if (run(tool, ['--version']).status !== 0) return `${tool} --version failed`
    } catch (err) {
      return `${tool} is not installed (${(err as Error).message})`
    }
  }
  return undefined
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
  // -O3, as node-gyp builds the addon (its -O3 comes after binding.gyp's -O2).
  const compile = (source: string, flags: string[], exe: string) =>
    run('gcc', ['-O3', '-g', '-Wall', '-Wextra', '-Werror', '-Wno-unused-function', '-Wno-unused-parameter', ...flags, '-I', ADDON, source, '-lcrypto', '-lpthread', '-o', exe], { timeout: 120_000 })
  for (const [name, flags] of variants) {
    t.test(name, async (t) => {
      const exe = join(dir, `field${flags.length}`)
      const cc = compile(SOURCE, flags, exe)
      t.equal(cc.status, 0, cc.status === 0 ? 'compiles' : `compiles: ${cc.stderr}`)
      if (cc.status !== 0) return
      const r = run(exe, ['20000'], { timeout: 120_000 })
      const out = r.stdout.toString().trim()
      t.equal(r.status, 0, out)
      const checks = Number(/^ok (\d+)$/.exec(out)?.[1] ?? 0)
      t.ok(checks > 250_000, `${checks} results compared with BIGNUM's`)

      const ct = join(dir, `ct${flags.length}`)
      const cc2 = compile(CONSTANT_TIME, flags, ct)
      t.equal(cc2.status, 0, cc2.status === 0 ? 'the constant-time check compiles' : `the constant-time check compiles: ${cc2.stderr}`)
      if (cc2.status !== 0) return
      const v = run('valgrind', ['--error-exitcode=1', '-q', ct], { timeout: 120_000 })
      t.equal(v.status, 0, v.status === 0 ? 'memcheck finds no branch or address that depends on a secret' : `memcheck: ${v.stderr.slice(0, 2000)}`)
      t.equal(v.stdout.toString().trim(), 'ok', 'the check ran to its end')
    })
  }
}
