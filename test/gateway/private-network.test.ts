import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// DESIGN §4: encryption may be waived per participant only on a link the configuration marks as
// a private network (e.g. 金土工程网); a signature never is.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'privnet',
  partners: [
    { id: REG, privateNetwork: true, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())

t.test('on a private-network link a bare signed JWS is accepted, and delivered encrypted', async (t) => {
  const reg = w.client(REG)
  const env = reg.envelope({ ...validFixture('tax.assessment.request').envelope })
  const res = await reg.http('POST', '/v1/messages', await reg.sign(env))
  t.equal(res.status, 202)
  await w.partner(TAX).server.waitFor(1)
  t.equal(w.partner(TAX).server.received[0]?.delivery.envelope.id, env.id, 'the partner got it (its link is encrypted)')
})

t.test('the signature is never waived', async (t) => {
  const reg = w.client(REG)
  const env = reg.envelope({ ...validFixture('tax.assessment.request').envelope, caseId: '231202-2026-000600' })
  const jws = await reg.sign(env)
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'tongban+jws', kid: `${REG}#sign-1` })).toString('base64url')}.${jws.split('.')[1]}.`
  const r1 = await reg.http('POST', '/v1/messages', unsigned)
  t.ok(['TB_ERR_JOSE_MALFORMED', 'TB_ERR_ALG_UNSUPPORTED', 'TB_ERR_SIGNATURE_INVALID'].includes((r1.json as { code: string }).code), `alg none refused (${(r1.json as { code: string }).code})`)
  const [h, p, s] = jws.split('.') as [string, string, string]
  const sig = Buffer.from(s, 'base64url')
  sig[0] = (sig[0] ?? 0) ^ 1
  const r2 = await reg.http('POST', '/v1/messages', `${h}.${p}.${sig.toString('base64url')}`)
  t.equal((r2.json as { code: string }).code, 'TB_ERR_SIGNATURE_INVALID')
})

t.test('a participant not on a private network must encrypt', async (t) => {
  const tax = w.client(TAX)
  const res = await tax.http('POST', '/v1/messages', await tax.sign(tax.envelope({ ...validFixture('tax.payment.completed').envelope })))
  t.equal((res.json as { code: string }).code, 'TB_ERR_ENCRYPTION_REQUIRED')
})
