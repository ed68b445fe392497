// Backend selection: 'auto' and 'native' take the addon and throw when it cannot be used (issue 7
// §10: no silent fallback to the variable-time JavaScript SM2), 'js' is always there when asked
// for by name; the reason says why. In CI the addon must have been built.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { availableSmBackends, loadNative, resolveSmBackend, sm, smBackendInfo, useSmBackend } from '../../src/crypto/sm/index.ts'

t.test('a missing addon is reported, never thrown by the load; auto then refuses, js must be chosen', async (t) => {
  const load = loadNative(join(tmpdir(), 'no-such-dir', 'tongban_sm2.node'))
  t.equal(load.backend, undefined)
  t.equal(load.backend === undefined && load.problem, 'missing')
  t.ok(load.reason.length > 0, 'a reason is given')
  t.throws(() => resolveSmBackend('auto', load), {
    code: 'ERR_SM_BACKEND',
    message: /native SM2 addon is unavailable .*does not fall back to the variable-time JavaScript SM2.*crypto\.smBackend "js", TONGBAN_SM_BACKEND=js/,
  }, 'auto without the addon: refused, saying how to proceed')
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
  if (availableSmBackends().includes('native')) {
    t.equal(useSmBackend('auto').backend, 'native')
    t.equal(sm().name, 'native')
    t.equal(useSmBackend('native').backend, 'native')
  } else {
    t.throws(() => useSmBackend('auto'), { code: 'ERR_SM_BACKEND' })
    t.throws(() => useSmBackend('native'), { code: 'ERR_SM_BACKEND' })
  }
})

t.test('crypto.sm2Thread event-loop: the addon\'s async SM2 runs on the event loop, settled before it turns; threadpool: on the threadpool', { skip: availableSmBackends().includes('native') ? false : 'no native addon here' }, async (t) => {
  const before = smBackendInfo().backend
  t.teardown(() => void useSmBackend(before))
  const d = sm().sm2GeneratePrivate()
  const e = Buffer.alloc(32, 7)
  // Settled within a few microtask turns (no I/O phase between): run where it was called.
  const settledAtOnce = async (): Promise<boolean> => {
    let settled = false
    const signing = sm().sm2SignDigestAsync(d, e).then(() => { settled = true })
    for (let i = 0; i < 5; i++) await Promise.resolve()
    const atOnce = settled
    await signing
    return atOnce
  }
  t.match(useSmBackend('native', 'event-loop').reason, /SM2 on the event loop \(crypto\.sm2Thread\)/)
  t.equal(sm().name, 'native')
  t.equal(await settledAtOnce(), true, 'on the event loop: settled before the event loop turns')
  t.notMatch(useSmBackend('native', 'threadpool').reason, /event loop/)
  t.equal(await settledAtOnce(), false, 'on the threadpool: settled only after the event loop turns')
  t.equal(useSmBackend('js', 'event-loop').backend, 'js', 'the JavaScript backend is chosen as it is')
})

t.test('in CI the native addon is built and loads', { skip: process.env.CI ? false : 'not in CI' }, async (t) => {
  t.ok(availableSmBackends().includes('native'), `native available (${loadNative().reason})`)
})
