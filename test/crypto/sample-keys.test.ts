// Issue 7 §4: the keys of certs-example/ are public. The committed list of their fingerprints
// (src/crypto/sample-keys.ts) must be exactly the folder's, and a keyring holding any of them
// (a copy, however re-encoded) says which.
import t from 'tap'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createPrivateKey } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GatewayKeyring, keyFileFingerprint } from '../../src/crypto/keyring.ts'
import { SAMPLE_KEYS } from '../../src/crypto/sample-keys.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CERTS = join(ROOT, 'certs-example')
const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]))

function tempDir(teardown: (fn: () => void) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-samples-'))
  teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('the committed list is exactly the private keys and secrets of certs-example/', async (t) => {
  const secrets = walk(CERTS).filter((f) => /(\.key\.pem|\.key|\.secret)$/.test(f)).sort()
  const actual = secrets.map((f) => [keyFileFingerprint(f), relative(ROOT, f)] as const)
  const listed = [...SAMPLE_KEYS].sort((a, b) => a[1].localeCompare(b[1]))
  if (!t.same(listed, actual, 'src/crypto/sample-keys.ts lists them all, and nothing else')) {
    t.comment(`the list for src/crypto/sample-keys.ts:\n${actual.map(([p, f]) => `  ['${p}', '${f}'],`).join('\n')}`)
  }
  t.ok(actual.some(([, f]) => f === 'certs-example/gateway/token.key'), 'the token key is among them')
})

t.test('the sample gateway keyring: every key and shared secret is named', async (t) => {
  const matches = GatewayKeyring.load(join(CERTS, 'gateway'), 'TONGBAN').sampleKeys()
  t.same(matches.map((m) => m.sample).sort(), [
    'enc-ec.key.pem', 'enc-rsa.key.pem', 'enc-sm2.key.pem', 'partners/TAX_231221.secret', 'sign-es256.key.pem', 'sign-sm2.key.pem', 'store.key', 'token.key',
  ].map((f) => `certs-example/gateway/${f}`))
  t.ok(matches.every((m) => m.file.startsWith(join(CERTS, 'gateway'))), 'each names the file that was loaded')
})

t.test('a generated keyring holds no sample', async (t) => {
  const dir = tempDir(t.teardown)
  GatewayKeyring.generate(dir, ['national', 'international'], { rsaBits: 2048 })
  t.same(GatewayKeyring.load(dir, 'TONGBAN').sampleKeys(), [])
})

t.test('a sample copied into a generated keyring is caught, however re-encoded', async (t) => {
  const dir = tempDir(t.teardown)
  GatewayKeyring.generate(dir, ['national', 'international'], { rsaBits: 2048 })
  // The token key without its newline, the P-256 signing key as SEC1 instead of PKCS#8, a
  // participant's sample key used as the gateway's, and a sample partner secret.
  writeFileSync(join(dir, 'token.key'), readFileSync(join(CERTS, 'gateway', 'token.key'), 'utf8').trim())
  const sec1 = createPrivateKey(readFileSync(join(CERTS, 'gateway', 'sign-es256.key.pem'))).export({ type: 'sec1', format: 'pem' })
  writeFileSync(join(dir, 'sign-es256.key.pem'), sec1)
  copyFileSync(join(CERTS, 'participants', 'REG_231202', 'enc-sm2.key.pem'), join(dir, 'enc-sm2.key.pem'))
  mkdirSync(join(dir, 'partners'))
  copyFileSync(join(CERTS, 'gateway', 'partners', 'TAX_231221.secret'), join(dir, 'partners', 'TAX_231202.secret'))
  const matches = GatewayKeyring.load(dir, 'TONGBAN').sampleKeys()
  t.same(matches.map((m) => [relative(dir, m.file), m.sample]).sort(), [
    ['enc-sm2.key.pem', 'certs-example/participants/REG_231202/enc-sm2.key.pem'],
    ['partners/TAX_231202.secret', 'certs-example/gateway/partners/TAX_231221.secret'],
    ['sign-es256.key.pem', 'certs-example/gateway/sign-es256.key.pem'],
    ['token.key', 'certs-example/gateway/token.key'],
  ])
})
