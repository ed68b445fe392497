import t from 'tap'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 10 §4 (电子证照查验): a bank, a fund or a court asks the issuing registration centre, named in
// "to", whether a certificate stands; the asker learns the status only, and the check is on the record.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
const COURT = 'COURT:11231202MB00123459'

t.test('certificate checks', async (t) => {
  const w = await World.start({
    label: 'certverify',
    partners: [
      { id: REG, send: [], receive: ['certificate.verify'] },
      { id: TAX, send: [], receive: ['tax.assessment.request'] },
      { id: BANK, send: ['certificate.verify'], receive: [] },
      { id: COURT, divisions: ['231202'], send: ['certificate.verify'], receive: [] },
    ],
  })
  t.teardown(() => w.close())
  const q = validFixture('certificate.verify')
  const number = (bodyOf(q) as { certificateNumber: string }).certificateNumber
  let answerAbout = number
  w.partner(REG).server.onQuery(async (x) => ({ type: 'certificate.verify.result', body: { ...bodyOf(validFixture('certificate.verify.result')), certificateNumber: answerAbout, queryId: x.envelope.id } }))
  const refusal = async (as: string, over: Record<string, unknown>): Promise<[number, string | undefined, string | undefined]> => {
    const c = w.client(as)
    const env = c.envelope({ ...q.envelope, ...over })
    if (over.to === null) delete (env as { to?: string }).to
    const res = await c.http('POST', '/v1/queries', await c.encrypt(await c.sign(env)))
    const p = res.json as { code?: string; violations?: Array<{ pointer: string }> }
    return [res.status, p.code, p.violations?.[0]?.pointer]
  }

  t.test('the issuer answers the bank and the court: the status, nothing else', async (t) => {
    for (const [as, purpose] of [[BANK, 'loan-review'], [COURT, 'enforcement']] as const) {
      const a = await w.client(as).query({ ...q.envelope, body: { ...bodyOf(q), purpose } })
      t.same(Object.keys(a.envelope.body).sort(), ['certificateNumber', 'checkedAt', 'queryId', 'status'], `${as}: status only`)
      t.equal(a.envelope.from, REG)
    }
    const record = (await w.client(BANK).http('GET', '/v1/queries')).json as { queries: Array<Record<string, unknown>> }
    t.same(record.queries.map((r) => [r.type, r.responder, r.certificateNo, r.purpose, r.unitCode, r.applicationNo, r.outcome]), [['certificate.verify', REG, number, 'loan-review', null, null, 'answered']], 'on the bank\'s record, which shows the bank\'s own checks only')
  })

  t.test('each asks for its own purpose', async (t) => {
    t.same(await refusal(COURT, {}), [403, 'TB_ERR_FORBIDDEN', undefined], 'a court does not review loans')
    t.same(await refusal(BANK, { body: { ...bodyOf(q), purpose: 'enforcement' } }), [403, 'TB_ERR_FORBIDDEN', undefined], 'a bank does not enforce')
  })

  t.test('the issuer must be named, and must be a registration centre', async (t) => {
    t.same(await refusal(BANK, { to: null }), [400, 'TB_ERR_SCHEMA', '/to'], 'no "to"')
    t.same(await refusal(BANK, { to: TAX }), [403, 'TB_ERR_ROUTE_FORBIDDEN', undefined], 'a tax bureau issues no certificates')
    t.same(await refusal(BANK, { to: 'REG:231221' }), [422, 'TB_ERR_NO_ROUTE', undefined], 'a centre not in the directory')
  })

  t.test('an answer about another certificate does not reach the asker', async (t) => {
    answerAbout = '黑(2026)绥化市不动产证明第0009999号'
    t.same((await refusal(BANK, {})).slice(0, 2), [502, 'TB_ERR_PARTNER_BAD_ANSWER'])
    answerAbout = number
  })

  t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
})
