import t from 'tap'
import { bodyOf, validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 11, "an answering partner that omits nonce learns why from the API, not from our logs":
// the 502 TB_ERR_PARTNER_BAD_ANSWER names the violations, the query record keeps them, and the
// answering system reads them back with GET /v1/queries/:id/problem (as may the asker; nobody else).
const REG = 'REG:231202'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
const OTHER_BANK = 'BANK:91350100M000100Y43'
const w = await World.start({
  label: 'qproblem',
  partners: [
    { id: REG, suite: 'national', send: [], receive: ['mortgage.query'] },
    { id: BANK, suite: 'national', send: ['mortgage.query'], receive: [] },
    { id: OTHER_BANK, send: ['mortgage.query'], receive: [] },
  ],
})
t.teardown(() => w.close())
const q = validFixture('mortgage.query')
const result = validFixture('mortgage.query.result')
type Problem = { code?: string; status?: number; reason?: string; violations?: Array<{ pointer: string; rule: string }> }

t.test('an answer envelope without nonce: the 502 names it, and the answerer reads why back', async (t) => {
  const reg = w.client(REG)
  // The answering system follows an old protocol text: no nonce in its answer's envelope.
  w.partner(REG).server.onQuery(async (query) => {
    const env = reg.envelope({ type: 'mortgage.query.result', to: BANK, unitCode: query.envelope.unitCode as string, body: { ...bodyOf(result), queryId: query.envelope.id, unitCode: query.envelope.unitCode } }) as unknown as Record<string, unknown>
    delete env.nonce
    return { jose: await reg.encrypt(await reg.sign(env)) }
  })
  const refused = await w.client(BANK).query({ ...q.envelope, body: bodyOf(q) }).then(() => undefined, (err: { status?: number; problem?: Problem }) => err)
  t.equal(refused?.status, 502)
  const p = refused?.problem ?? {}
  t.equal(p.code, 'TB_ERR_PARTNER_BAD_ANSWER')
  t.ok(p.violations?.some((v) => v.pointer === '/nonce' && v.rule === 'required'), `the violation is named: ${JSON.stringify(p.violations)}`)
  t.match(p.reason, /envelope does not match its schema/)

  const record = (await w.client(BANK).http('GET', '/v1/queries')).json as { queries: Array<{ queryId: string; outcome: string }> }
  const id = record.queries[0]?.queryId as string
  t.equal(record.queries[0]?.outcome, 'bad_answer')
  const seen = await reg.http('GET', `/v1/queries/${id}/problem`)
  t.equal(seen.status, 200, 'the answering system reads it back')
  const why = seen.json as { outcome: string; errorCode: string; reason: string; violations: Array<{ pointer: string; rule: string; message: string }>; responder: string }
  t.same([why.outcome, why.errorCode, why.responder], ['bad_answer', 'TB_ERR_PARTNER_BAD_ANSWER', REG])
  t.ok(why.violations.some((v) => v.pointer === '/nonce' && v.rule === 'required'))
  t.equal((await w.client(BANK).http('GET', `/v1/queries/${id}/problem`)).status, 200, 'and the asker')
  t.equal((await w.client(OTHER_BANK).http('GET', `/v1/queries/${id}/problem`)).status, 404, 'nobody else')
  t.equal((await w.operatorClient().http('GET', `/v1/queries/${id}/problem`)).status, 200, 'operators too')
  t.equal((await reg.http('GET', '/v1/queries/not-a-uuid/problem')).status, 404)
})

t.test('an answer body that breaks its schema: the violations are in the body\'s pointers', async (t) => {
  w.partner(REG).server.onQuery(async (query) => ({ type: 'mortgage.query.result', body: { ...bodyOf(result), queryId: query.envelope.id, unitCode: query.envelope.unitCode, status: 'no-such-status' } }))
  const refused = await w.client(BANK).query({ ...q.envelope, body: bodyOf(q) }).then(() => undefined, (err: { status?: number; problem?: Problem }) => err)
  t.equal(refused?.problem?.code, 'TB_ERR_PARTNER_BAD_ANSWER')
  t.ok(refused?.problem?.violations?.every((v) => v.pointer.startsWith('/body')), JSON.stringify(refused?.problem?.violations))
  t.ok((refused?.problem?.violations?.length ?? 0) > 0)
})

t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
