import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrivateKey, signJws, type KeyKind } from '../../src/crypto/index.ts'
import { TestClock } from '../helpers/clock.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { TestCa } from '../helpers/openssl-ca.ts'
import { World } from '../helpers/world.ts'

// Issue 7 item 7, through the HTTP API: partner keys given as certificates issued by the
// configured anchors (an SM2 CA and a P-256 CA, made here with `openssl ca`). A valid chain is
// accepted; a certificate revoked by its CA's CRL is refused with TB_ERR_KEY_REVOKED (for a
// message and for a token request, and after a CRL update while the gateway runs); one that
// expires while the gateway runs is refused with TB_ERR_KEY_EXPIRED.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const HOUR = 3_600_000
const clock = new TestClock()
const tmp = mkdtempSync(join(tmpdir(), 'tongban-certs-'))
const sm2Ca = TestCa.create(join(tmp, 'sm2'), 'sm2', 'Partner SM2 CA')
const p256Ca = TestCa.create(join(tmp, 'p256'), 'p256', 'Partner P-256 CA')
sm2Ca.crl()
p256Ca.crl()

const w = await World.start({
  label: 'certs',
  clock,
  config: { pki: { anchors: [{ file: sm2Ca.certFile, crl: sm2Ca.crlFile }, { file: p256Ca.certFile, crl: p256Ca.crlFile }], requireCertificates: false } },
  partners: [
    { id: REG, suite: 'national', send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, suite: 'international', send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(async () => {
  await w.close()
  rmSync(tmp, { recursive: true, force: true })
})

const request = validFixture('tax.assessment.request')
let caseNo = 900
const nextCase = (): string => `231202-2026-${String(caseNo++).padStart(6, '0')}`

/** An extra signing key of `owner` with a certificate from the CA of its kind. */
function extraKey(owner: string, name: string, kind: KeyKind, o: { end?: Date } = {}): { key: PrivateKey; cert: string } {
  const { privateKey: key, privatePem } = PrivateKey.generate(`${owner}#${name}`, kind)
  return { key, cert: (kind === 'sm2' ? sm2Ca : p256Ca).issue(privatePem, { cn: owner, profile: 'sign', ...o }) }
}

/** The world's partners with certificates for their own keys (signing, and encryption), plus `extra` signing keys of REG. */
function writeDirectory(extra: ReadonlyArray<{ key: PrivateKey; cert: string }>): void {
  const reg = w.partner(REG)
  const tax = w.partner(TAX)
  const certs = {
    regSign: sm2Ca.issue(reg.signingPem, { cn: REG, profile: 'sign' }),
    regEnc: sm2Ca.issue(reg.encryptionPem, { cn: REG, profile: 'enc' }),
    taxSign: p256Ca.issue(tax.signingPem, { cn: TAX, profile: 'sign' }),
    taxEnc: p256Ca.issue(tax.encryptionPem, { cn: TAX, profile: 'enc' }),
  }
  w.writeDirectory((doc) => {
    for (const p of doc.participants) {
      const [sign, enc] = p.id === REG ? [certs.regSign, certs.regEnc] : [certs.taxSign, certs.taxEnc]
      const keys = p.signingKeys as Array<{ kid: string; publicKey: string }>
      p.signingKeys = [{ kid: keys[0]?.kid, publicKey: sign }, ...(p.id === REG ? extra.map((x) => ({ kid: x.key.kid, publicKey: x.cert })) : [])]
      p.encryptionKey = { kid: (p.encryptionKey as { kid: string }).kid, publicKey: enc }
    }
  })
}

async function restart(extra: ReadonlyArray<{ key: PrivateKey; cert: string }>): Promise<void> {
  await w.stopGateway()
  writeDirectory(extra)
  await w.boot()
}

/** Posts a tax.assessment.request from REG signed with `key` (with REG's token). */
async function postSignedBy(key: PrivateKey): Promise<{ status: number; code: string | undefined }> {
  const reg = w.client(REG)
  const env = reg.envelope({ ...request.envelope, caseId: nextCase() })
  const jws = await signJws(Buffer.from(JSON.stringify(env)), key, { typ: 'tongban+jws' })
  const res = await reg.http('POST', '/v1/messages', await reg.encrypt(jws))
  return { status: res.status, code: (res.json as { code?: string } | undefined)?.code }
}

/** Asks for a token with a token request signed by `key`. */
async function tokenSignedBy(key: PrivateKey, sub = REG): Promise<{ status: number; code: string | undefined }> {
  const reg = w.client(REG)
  const claims = { sub, aud: (await reg.directory()).gatewayId, iat: Math.floor(clock.now().getTime() / 1000), jti: randomBytes(16).toString('base64url') }
  const jws = await signJws(Buffer.from(JSON.stringify(claims)), key, { typ: 'tongban+token-request' })
  const res = await reg.http('POST', '/v1/token', jws, { auth: false })
  return { status: res.status, code: (res.json as { code?: string } | undefined)?.code }
}

const es = extraKey(REG, 'sign-es256', 'ec-p256')
const sm2Revoked = extraKey(REG, 'sm2-revoked', 'sm2')
const esRevoked = extraKey(REG, 'es-revoked', 'ec-p256')
sm2Ca.revoke(sm2Revoked.cert)
p256Ca.revoke(esRevoked.cert)
sm2Ca.crl()
p256Ca.crl()
await restart([es, sm2Revoked, esRevoked])

t.test('a valid chain is accepted: SM2 and P-256 certificates, messages and token requests', async (t) => {
  const sent = await w.client(REG).send({ ...request.envelope, caseId: nextCase() })
  t.equal(sent.status, 202, 'a message signed with the SM2 key of an SM2 certificate')
  t.same(await postSignedBy(es.key), { status: 202, code: undefined }, 'a message signed with the P-256 key of a P-256 certificate')
  t.match(await w.client(TAX).token(), /\S+/, 'a token for the partner whose keys are P-256 and RSA certificates')
  t.same(await tokenSignedBy(es.key), { status: 200, code: undefined })
  t.match(w.logText(), /sm2-revoked: certificate [0-9a-f]+ is revoked by the CRL of O=Tongban test, CN=Partner SM2 CA: loaded, refused at use/, 'the revoked key was logged at load')
})

t.test('a certificate revoked by its CA\'s CRL → 401 TB_ERR_KEY_REVOKED', async (t) => {
  const before = await w.counts()
  t.same(await postSignedBy(sm2Revoked.key), { status: 401, code: 'TB_ERR_KEY_REVOKED' }, 'SM2: a message')
  t.same(await postSignedBy(esRevoked.key), { status: 401, code: 'TB_ERR_KEY_REVOKED' }, 'P-256: a message')
  t.same(await tokenSignedBy(sm2Revoked.key), { status: 401, code: 'TB_ERR_KEY_REVOKED' }, 'SM2: a token request')
  t.same(await tokenSignedBy(esRevoked.key), { status: 401, code: 'TB_ERR_KEY_REVOKED' }, 'P-256: a token request')
  t.same(await w.counts(), before, 'nothing stored')
})

t.test('a CRL updated while the gateway runs is applied when re-read', async (t) => {
  t.equal((await postSignedBy(es.key)).status, 202)
  p256Ca.revoke(es.cert)
  p256Ca.crl()
  // What a directory reload does (Directory.load re-reads every anchor's CRL); here the CRLs alone.
  w.app.tb.directory.trust.reloadCrls(clock.now())
  t.same(await postSignedBy(es.key), { status: 401, code: 'TB_ERR_KEY_REVOKED' })
  t.equal((await w.client(REG).send({ ...request.envelope, caseId: nextCase() })).status, 202, 'the other keys still work')
})

t.test('a certificate that expires while the gateway runs → 401 TB_ERR_KEY_EXPIRED', async (t) => {
  const end = new Date(clock.now().getTime() + 2 * HOUR)
  const sm2Short = extraKey(REG, 'sm2-short', 'sm2', { end })
  const esShort = extraKey(REG, 'es-short', 'ec-p256', { end })
  await restart([sm2Short, esShort])
  t.equal((await postSignedBy(sm2Short.key)).status, 202, 'SM2: accepted while valid')
  t.equal((await postSignedBy(esShort.key)).status, 202, 'P-256: accepted while valid')
  clock.advance(3 * HOUR)
  try {
    t.same(await postSignedBy(sm2Short.key), { status: 401, code: 'TB_ERR_KEY_EXPIRED' }, 'SM2: a message')
    t.same(await postSignedBy(esShort.key), { status: 401, code: 'TB_ERR_KEY_EXPIRED' }, 'P-256: a message')
    t.same(await tokenSignedBy(esShort.key), { status: 401, code: 'TB_ERR_KEY_EXPIRED' }, 'a token request')
    t.equal((await w.client(REG).send({ ...request.envelope, caseId: nextCase() })).status, 202, 'a key valid for a year still works')
  } finally {
    clock.advance(-3 * HOUR)
  }
})
