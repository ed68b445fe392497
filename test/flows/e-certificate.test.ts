import t from 'tap'
import canonicalize from 'canonicalize'
import { signElectronicCertificate, verifyElectronicCertificate, type ElectronicCertificate } from '../../src/client/index.ts'
import { signJws } from '../../src/crypto/index.ts'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 10 §4 (电子证照): a registration centre's electronic certificate is a JWS it signs with its
// own key over the canonical JSON of the certificate; the gateway checks one carried by
// registration.completed or mortgage.registration.completed, and a recipient verifies it
// offline with the published directory.
const REG = 'REG:231202'
const REG_WK = 'REG:231221'
const TAX = 'TAX:231202'

for (const suite of ['national', 'international'] as const) {
  t.test(`electronic certificates (${suite})`, async (t) => {
    const w = await World.start({
      label: `ecert${suite.slice(0, 3)}`,
      partners: [
        { id: REG, suite, send: ['tax.assessment.request', 'registration.completed'], receive: ['tax.payment.completed'] },
        { id: REG_WK, suite, send: ['registration.completed'], receive: [] },
        { id: TAX, suite, send: [], receive: ['tax.assessment.request', 'registration.completed'] },
      ],
    })
    t.teardown(() => w.close())
    await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope })
    const f = validFixture('registration.completed')
    const number = (bodyOf(f) as { certificateNumber: string }).certificateNumber
    const cert: Omit<ElectronicCertificate, 'issuer'> = {
      certificateNumber: number, kind: 'title', unitCode: f.envelope.unitCode as string, issuedAt: '2026-03-05T10:00:00+08:00',
      document: { digest: { alg: 'SM3', value: 'a'.repeat(64) } },
    }
    const key = (id: string) => w.partner(id).signingKey
    const refused = async (jws: string): Promise<[number, string | undefined, string | undefined, string | undefined]> => {
      const c = w.client(REG)
      const res = await c.http('POST', '/v1/messages', await c.encrypt(await c.sign(c.envelope({ ...f.envelope, body: { ...bodyOf(f), electronicCertificate: jws } }))))
      const p = res.json as { code?: string; violations?: Array<{ pointer: string; rule: string }> }
      return [res.status, p.code, p.violations?.[0]?.pointer, p.violations?.[0]?.rule]
    }
    const BAD: [number, string, string, string] = [400, 'TB_ERR_SCHEMA', '/body/electronicCertificate', 'certificate']

    t.test('the gateway refuses a certificate that does not hold', async (t) => {
      t.same(await refused(await signElectronicCertificate(cert, key(REG_WK))), BAD, 'signed by another centre')
      t.same(await refused(await signElectronicCertificate({ ...cert, kind: 'mortgage' }, key(REG))), BAD, 'a mortgage certificate on a register entry')
      t.same(await refused(await signElectronicCertificate({ ...cert, certificateNumber: number.replace(/\d号$/, (m) => `${(Number(m[0]) + 1) % 10}号`) }, key(REG))), BAD, 'another certificate number')
      t.same(await refused(await signElectronicCertificate({ ...cert, unitCode: '231202003004GB00012F00010002' }, key(REG))), BAD, 'another unit')
      const full = { ...cert, issuer: REG }
      t.same(await refused(await signJws(Buffer.from(JSON.stringify(full, null, 1), 'utf8'), key(REG), { typ: 'tongban+certificate' })), BAD, 'not in canonical form')
      t.same(await refused(await signJws(Buffer.from(canonicalize(full) as string, 'utf8'), key(REG), { typ: 'tongban+jws' })), BAD, 'the typ of a message')
      t.same(await refused(await signJws(Buffer.from(canonicalize({ ...full, owner: '张三' }) as string, 'utf8'), key(REG), { typ: 'tongban+certificate' })), BAD, 'a member more')
      // Signed, but no canonical form exists: a number out of range, a lone surrogate, bytes that are not UTF-8.
      for (const payload of [Buffer.from('{"n":1e400}'), Buffer.from('{"s":"\\ud800"}'), Buffer.from([0x7b, 0xff, 0x7d])]) {
        const hostile = await signJws(payload, key(REG), { typ: 'tongban+certificate' })
        t.same(await refused(hostile), BAD, `not a certificate: ${payload.toString('hex')}`)
        await t.rejects(verifyElectronicCertificate(hostile, await w.client(TAX).directory()), { code: 'TB_CLIENT_CERTIFICATE_INVALID' }, 'and the SDK says so')
      }
      t.equal(w.partner(TAX).server.ofType('registration.completed').length, 0, 'nothing was delivered')
    })

    t.test('a sound certificate is carried, and verifies offline with the directory', async (t) => {
      const jws = await signElectronicCertificate(cert, key(REG))
      const r = await w.client(REG).send({ ...f.envelope, body: { ...bodyOf(f), electronicCertificate: jws } })
      t.equal(r.status, 202)
      await w.partner(TAX).server.waitFor(2)
      const got = w.partner(TAX).server.ofType('registration.completed')[0]?.envelope.body.electronicCertificate as string
      const dir = await w.client(TAX).directory()
      const c = await verifyElectronicCertificate(got, dir)
      t.same(c, { ...cert, issuer: REG })
      const [h, p, s] = got.split('.') as [string, string, string]
      const altered = Buffer.from(canonicalize({ ...c, unitCode: '231202003004GB00012F00010002' }) as string, 'utf8').toString('base64url')
      await t.rejects(verifyElectronicCertificate(`${h}.${altered}.${s}`, dir), { code: 'TB_CLIENT_CERTIFICATE_INVALID' }, 'a changed payload does not verify')
      await t.rejects(verifyElectronicCertificate(`${h}.${p}`, dir), { code: 'TB_CLIENT_CERTIFICATE_INVALID' }, 'not a JWS')
      await t.rejects(verifyElectronicCertificate(await signElectronicCertificate(cert, key(TAX)), dir), { code: 'TB_CLIENT_CERTIFICATE_INVALID' }, 'signed by a participant that is not a registration centre')
    })

    t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
  })
}
