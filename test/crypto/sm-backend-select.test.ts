// Backend selection: 'auto' prefers native, 'native' insists (and throws when the addon cannot
// be used), 'js' is always there; the reason says why. In CI the addon must have been built.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { availableSmBackends, loadNative, resolveSmBackend, sm, smBackendInfo, useSmBackend } from '../../src/crypto/sm/index.ts'

t.test('a missing addon is reported, never thrown, and auto falls back to js', async (t) => {
  const load = loadNative(join(tmpdir(), 'no-such-dir', 'tongban_sm2.node'))
  t.equal(load.backend, undefined)
  t.equal(load.backend === undefined && load.problem, 'missing')
  t.ok(load.reason.length > 0, 'a reason is given')
  const auto = resolveSmBackend('auto', load)
  t.equal(auto.backend.name, 'js')
  t.equal(auto.info.backend, 'js')
  t.throws(() => resolveSmBackend('native', load), { code: 'ERR_SM_BACKEND' }, 'native requested but unavailable')
  t.equal(resolveSmBackend('js', load).backend.name, 'js')
  t.throws(() => resolveSmBackend('wasm' as 'js', load), { code: 'ERR_SM_BACKEND' }, 'unknown backend name')
})

t.test('a file that is not an addon is reported, never thrown', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-sm-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bogus = join(dir, 'tongban_sm2.node')
  writeFileSync(bogus, 'not an ELF file')
  const load = loadNative(bogus)
  t.equal(load.backend, undefined)
  t.equal(load.backend === undefined && load.problem, 'load-error')
})

t.test('useSmBackend switches the process backend and smBackendInfo tells which', async (t) => {
  const before = smBackendInfo().backend
  t.teardown(() => void useSmBackend(before))
  t.equal(useSmBackend('js').backend, 'js')
  t.equal(sm().name, 'js')
  const auto = useSmBackend('auto')
  t.equal(auto.backend, availableSmBackends()[0])
  t.equal(sm().name, auto.backend)
  if (availableSmBackends().includes('native')) t.equal(useSmBackend('native').backend, 'native')
  else t.throws(() => useSmBackend('native'), { code: 'ERR_SM_BACKEND' })
})

t.test('in CI the native addon is built and loads', { skip: process.env.CI ? false : 'not in CI' }, async (t) => {
  t.ok(availableSmBackends().includes('native'), `native available (${loadNative().reason})`)
})
