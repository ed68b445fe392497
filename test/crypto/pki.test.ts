// Issue 7 item 7: a partner key given as a certificate must chain to a configured trust anchor,
// carry the key usage of its use, be within its validity (at load and at each use) and not be
// revoked by its anchor's CRL. CAs, certificates and CRLs are made with the openssl CLI here.
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ADAPTERS } from '../../adapters/index.ts'
import { Directory, DirectoryError, type DirectoryChecks } from '../../src/core/directory.ts'
import { createMessageValidator } from '../../src/core/schemas.ts'
import { PkiError, PrivateKey, TrustStore, type KeyKind, type KeyUse } from '../../src/crypto/index.ts'
import { TestCa } from '../helpers/openssl-ca.ts'

const ROOT = fileURLToPath(new URL('../../certs-example/', import.meta.url))
const DAY = 86_400_000
const now = new Date()
const tmp = mkdtempSync(join(tmpdir(), 'tongban-pki-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
const validator = createMessageValidator()
const baseChecks = { adapters: ADAPTERS, knownType: (type: string) => validator.types().some((x) => x.type === type) }

/** A problem, or 'ok', of reading `pem` as a key for `use`. */
function reading(store: TrustStore, pem: string, use: KeyUse, at = now): string {
  const r = store.readKey('TAX:231202#k', pem, use, at)
  return r.ok ? 'ok' : r.problem
}

t.test('the sample certificates of certs-example/ chain to the sample anchors', async (t) => {
  const store = TrustStore.load({ anchors: [{ file: join(ROOT, 'ca/sm2-root.crt.pem') }, { file: join(ROOT, 'ca/p256-root.crt.pem') }] }, now)
  const files = [
    ...readdirSync(join(ROOT, 'gateway')).filter((f) => f.endsWith('.crt.pem')).map((f) => join(ROOT, 'gateway', f)),
    ...readdirSync(join(ROOT, 'participants')).flatMap((d) => readdirSync(join(ROOT, 'participants', d)).filter((f) => f.endsWith('.crt.pem')).map((f) => join(ROOT, 'participants', d, f))),
  ]
  t.ok(files.length >= 30, `${files.length} sample certificates`)
  const failures = files.map((f) => [f, reading(store, readFileSync(f, 'utf8'), f.includes('/sign-') ? 'signing' : 'encryption')]).filter(([, r]) => r !== 'ok')
  t.same(failures, [], 'every sample certificate chains, fits its use and is valid now')
  t.match(reading(store, readFileSync(join(ROOT, 'participants/REG_231202/sign-sm2.crt.pem'), 'utf8'), 'encryption'), /keyUsage digitalSignature, nonRepudiation does not allow encryption/, 'a signing certificate is no encryption key')
  t.match(reading(TrustStore.load({ anchors: [{ file: join(ROOT, 'ca/p256-root.crt.pem') }] }, now), readFileSync(join(ROOT, 'participants/REG_231202/sign-sm2.crt.pem'), 'utf8'), 'signing'), /not a trust anchor/, 'the SM2 sample needs the SM2 anchor')

  // certs-example/directory.json with every key given as its certificate loads with requireCertificates.
  const doc = readFileSync(join(ROOT, 'directory.json'), 'utf8').replaceAll('.pub.pem', '.crt.pem')
  const strict = TrustStore.load({ anchors: [{ file: join(ROOT, 'ca/sm2-root.crt.pem') }, { file: join(ROOT, 'ca/p256-root.crt.pem') }], requireCertificates: true }, now)
  const dir = Directory.fromJson(JSON.parse(doc), { ...baseChecks, trust: strict }, { file: 'directory.json', baseDir: ROOT })
  t.equal(dir.certifiedKeys().length, doc.split('.crt.pem').length - 1, 'every key is a certificate')
  t.same(dir.notices, [])
  t.match(problems(() => Directory.fromJson(JSON.parse(readFileSync(join(ROOT, 'directory.json'), 'utf8')), { ...baseChecks, trust: strict }, { file: 'directory.json', baseDir: ROOT })),
    [/^\/participants\/0\/signingKeys\/0: a certificate is required \(pki\.requireCertificates\)/], 'bare keys are refused when certificates are required')
})

/** The problems `f` throws (PkiError or DirectoryError), or [] when it does not throw. */
function problems(f: () => unknown): readonly string[] {
  try {
    f()
    return []
  } catch (err) {
    if (err instanceof PkiError || err instanceof DirectoryError) return err.problems
    throw err
  }
}

t.test('anchors must be CA certificates that read', async (t) => {
  const anchorProblems = (settings: Parameters<typeof TrustStore.load>[0]): readonly string[] => problems(() => TrustStore.load(settings, now))
  t.match(anchorProblems({ anchors: [{ file: join(ROOT, 'participants/REG_231202/sign-sm2.crt.pem') }] }), [/^\/pki\/anchors\/0\/file: .*not a CA certificate/])
  t.match(anchorProblems({ anchors: [{ file: join(ROOT, 'ca/sm2-root.crt.pem') }, { file: join(tmp, 'nowhere.pem') }] }), [/^\/pki\/anchors\/1\/file: .*nowhere\.pem/])
  const two = join(tmp, 'two.pem')
  writeFileSync(two, readFileSync(join(ROOT, 'ca/sm2-root.crt.pem'), 'utf8') + readFileSync(join(ROOT, 'ca/p256-root.crt.pem'), 'utf8'))
  t.match(anchorProblems({ anchors: [{ file: two }] }), [/holds 2 certificates/])
  // A root whose bytes were edited no longer carries its own signature.
  const pem = readFileSync(join(ROOT, 'ca/p256-root.crt.pem'), 'utf8')
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
  // Both names (issuer and subject), so that the certificate still reads as self-signed.
  for (let at = der.indexOf('Tongban Sample P-256'); at >= 0; at = der.indexOf('Tongban Sample P-256', at + 1)) der[at] = 'X'.charCodeAt(0)
  const edited = join(tmp, 'edited.pem')
  writeFileSync(edited, `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`)
  t.match(anchorProblems({ anchors: [{ file: edited }] }), [/self-signature does not verify/])
  t.match(anchorProblems({ anchors: [{ file: join(ROOT, 'ca/sm2-root.crt.pem'), crl: join(tmp, 'none.crl') }] }), [/^\/pki\/anchors\/0\/crl: .*none\.crl/])
})

for (const suite of ['sm2', 'p256'] as const) {
  const kind: KeyKind = suite === 'sm2' ? 'sm2' : 'ec-p256'
  const ca = TestCa.create(join(tmp, suite), suite, `Test ${suite} CA`)
  const stranger = TestCa.create(join(tmp, `${suite}-stranger`), suite, `Stranger ${suite} CA`)
  // Another key under the same name: a forged CA, or a CRL signed by one.
  const impostor = TestCa.create(join(tmp, `${suite}-impostor`), suite, `Test ${suite} CA`)
  const key = (k: KeyKind = kind): string => PrivateKey.generate('x', k, { rsaBits: 2048 }).privatePem
  const sign = (o: { start?: Date; end?: Date; by?: TestCa; sm2Id?: string } = {}): string => (o.by ?? ca).issue(key(), { cn: 'TAX:231202', profile: 'sign', ...o })

  t.test(`${suite}: chain, key usage and validity at load`, async (t) => {
    const store = TrustStore.load({ anchors: [{ file: ca.certFile }] }, now)
    t.equal(reading(store, sign(), 'signing'), 'ok', 'a signing certificate issued by the anchor')
    t.equal(reading(store, ca.issue(key(), { cn: 'x', profile: suite === 'sm2' ? 'enc' : 'agree' }), 'encryption'), 'ok', `an encryption certificate (${suite === 'sm2' ? 'keyEncipherment/dataEncipherment' : 'keyAgreement'})`)
    t.equal(reading(store, ca.issue(key('rsa'), { cn: 'x', profile: 'enc' }), 'encryption'), 'ok', 'an RSA encryption certificate (keyEncipherment)')
    t.match(reading(store, ca.issue(key('rsa'), { cn: 'x', profile: 'agree' }), 'encryption'), /keyUsage keyAgreement does not allow encryption with a rsa key/)
    // Outside its validity: read, with a notice, and refused at use (an expiry must not stop a reload).
    const expired = store.readKey('TAX:231202#k', sign({ end: new Date(now.getTime() - DAY), start: new Date(now.getTime() - 30 * DAY) }), 'signing', now)
    t.same(expired.ok && [store.state(expired.key, now), expired.notices.some((n) => /expired on .*refused at use/.test(n))], ['expired', true], 'expired')
    const early = store.readKey('TAX:231202#k', sign({ start: new Date(now.getTime() + DAY) }), 'signing', now)
    t.same(early.ok && [store.state(early.key, now), store.state(early.key, new Date(now.getTime() + 2 * DAY)), early.notices.some((n) => /not valid before/.test(n))], ['not-yet-valid', 'valid', true], 'not yet valid: used from its notBefore')
    t.match(reading(store, sign({ by: stranger }), 'signing'), /issued by O=Tongban test, CN=Stranger .* which is not a trust anchor/, 'an unknown CA')
    t.match(reading(store, sign({ by: impostor }), 'signing'), /not a trust anchor/, 'a CA that only has the anchor\'s name (another key identifier)')
    t.match(reading(store, impostor.issue(key(), { cn: 'x', profile: 'sign-noaki' }), 'signing'), /the signature of .* does not verify under the configured anchor/, 'the same, without a key identifier: the signature decides')
    t.equal(reading(store, ca.issue(key(), { cn: 'x', profile: 'sign-noaki' }), 'signing'), 'ok', 'a genuine certificate without a key identifier')
    t.match(reading(store, sign(), 'encryption'), /does not allow encryption/, 'a signing certificate used for encryption')
    t.match(reading(store, ca.issue(key(), { cn: 'x', profile: 'enc' }), 'signing'), /does not allow signing/, 'an encryption certificate used for signing')
    t.match(reading(store, ca.issue(key(), { cn: 'x', profile: 'none' }), 'signing'), /no keyUsage extension/)
    t.match(reading(store, ca.issue(key(), { cn: 'x', profile: 'subca' }), 'signing'), /a CA certificate is not a partner key/)
    t.match(reading(store, sign() + sign(), 'signing'), /2 certificates in one key/)
    if (suite === 'sm2') {
      // SM2 certificates are signed under the GB/T 32918 default ID; under any other the signature fails.
      t.match(reading(store, sign({ sm2Id: 'another-user-id' }), 'signing'), /does not verify/, 'signed under another SM2 ID')
    }
    t.equal(reading(TrustStore.empty(), key().length > 0 ? PrivateKey.fromPem('x', key()).publicKey.toPem() : '', 'signing'), 'ok', 'a bare key is read when certificates are not required')
    t.match(reading(TrustStore.empty(), sign(), 'signing'), /not a trust anchor/, 'without anchors a certificate cannot chain')
  })

  t.test(`${suite}: validity and revocation at use; CRLs re-read on each directory load`, async (t) => {
    const short = sign({ end: new Date(now.getTime() + 2 * 3600_000) })
    const later = sign()
    const crlFile = ca.crl()
    const store = TrustStore.load({ anchors: [{ file: ca.certFile, crl: crlFile }] }, now)
    const doc = (): unknown => ({
      version: 1,
      participants: [{
        id: 'TAX:231202', name: 'tax', signingKeys: [{ kid: 'TAX:231202#short', publicKey: short }, { kid: 'TAX:231202#later', publicKey: later }],
        encryptionKey: { kid: 'TAX:231202#enc', publicKey: PrivateKey.generate('x', 'ec-p256').privateKey.publicKey.toPem() },
        endpoint: 'http://127.0.0.1:1/inbox', adapter: 'native', send: [], receive: ['tax.assessment.request'],
      }],
    })
    const checks: DirectoryChecks = { ...baseChecks, trust: store, clock: { now: () => now } }
    const dir = Directory.fromJson(doc(), checks, { file: 'd.json', baseDir: tmp })
    t.equal(dir.signingKeyStatus('TAX:231202#short', now).state, 'valid')
    t.equal(dir.signingKeyStatus('TAX:231202#short', new Date(now.getTime() + 3 * 3600_000)).state, 'expired', 'expired while the gateway runs')
    t.equal(dir.signingKey('TAX:231202#short', new Date(now.getTime() + 3 * 3600_000)), undefined)
    t.equal(dir.signingKeyStatus('TAX:231202#nobody', now).state, 'unknown')
    t.equal(dir.certifiedKeys().length, 2)

    ca.revoke(later)
    ca.crl()
    t.equal(dir.signingKeyStatus('TAX:231202#later', now).state, 'valid', 'a new CRL file changes nothing until it is read')
    const reloaded = Directory.fromJson(doc(), checks, { file: 'd.json', baseDir: tmp })
    t.equal(reloaded.signingKeyStatus('TAX:231202#later', now).state, 'revoked', 'the next directory load reads it: revoked')
    t.match(reloaded.notices, [/^\/participants\/0\/signingKeys\/1: TAX:231202#later: certificate .* is revoked .*loaded, refused at use/], 'loaded, with a notice')
    t.equal(reloaded.signingKeyStatus('TAX:231202#short', now).state, 'valid', 'the other key is not affected')

    // A CRL that is not the anchor's is a fault of the load, and the CRLs in force stay.
    impostor.crl({ file: crlFile })
    t.match(problems(() => store.reloadCrls(now)), [/^\/pki\/anchors\/0\/crl: .*signature does not verify under the anchor/])
    t.match(problems(() => Directory.fromJson(doc(), checks, { file: 'd.json', baseDir: tmp })), [/^\(configuration\) \/pki\/anchors\/0\/crl: /])
    t.equal(reloaded.signingKeyStatus('TAX:231202#later', now).state, 'revoked', 'still revoked after a bad CRL')
    stranger.crl({ file: crlFile })
    t.match(problems(() => store.reloadCrls(now)), [/issued by O=Tongban test, CN=Stranger .*, not by the anchor/])

    // DER is read too; a CRL past its nextUpdate is reported and still applied.
    ca.crl({ der: true, file: crlFile, lastUpdate: new Date(now.getTime() - 10 * DAY), nextUpdate: new Date(now.getTime() - DAY) })
    t.match(store.reloadCrls(now), [/^\/pki\/anchors\/0\/crl: the CRL of .* is past its nextUpdate/])
    t.equal(reloaded.signingKeyStatus('TAX:231202#later', now).state, 'revoked')
    t.ok(readFileSync(crlFile)[0] === 0x30, 'that CRL was DER')
  })
}

t.test('a directory load refuses a certificate from an unknown CA, naming its pointer', async (t) => {
  const ca = TestCa.create(join(tmp, 'dir-ca'), 'p256', 'Directory CA')
  const other = TestCa.create(join(tmp, 'dir-other'), 'p256', 'Other CA')
  const store = TrustStore.load({ anchors: [{ file: ca.certFile }] }, now)
  const doc = {
    version: 1,
    participants: [{
      id: 'TAX:231202', name: 'tax', signingKeys: [{ kid: 'TAX:231202#s1', publicKey: other.issue(PrivateKey.generate('x', 'ec-p256').privatePem, { cn: 'x', profile: 'sign' }) }],
      encryptionKey: { kid: 'TAX:231202#e1', publicKey: ca.issue(PrivateKey.generate('x', 'ec-p256').privatePem, { cn: 'x', profile: 'sign' }) },
      endpoint: 'http://127.0.0.1:1/inbox', adapter: 'native', send: [], receive: ['tax.assessment.request'],
    }],
  }
  try {
    Directory.fromJson(doc, { ...baseChecks, trust: store }, { file: 'd.json', baseDir: tmp })
    t.fail('loaded')
  } catch (err) {
    t.ok(err instanceof DirectoryError)
    t.match((err as DirectoryError).problems, [
      /^\/participants\/0\/signingKeys\/0: certificate of TAX:231202#s1: issued by O=Tongban test, CN=Other CA, which is not a trust anchor/,
      /^\/participants\/0\/encryptionKey: certificate of TAX:231202#e1: keyUsage .* does not allow encryption with a ec-p256 key \(needs keyAgreement\)/,
    ])
  }
})
