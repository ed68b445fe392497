import t from 'tap'
import { messageIdFor } from '../../adapters/legacy-tax/inbound.ts'
import { LegacyTaxSystem, type GatewayReply } from '../../adapters/legacy-tax/reference-partner.ts'
import { parseJws, verifyJws, type Suite } from '../../src/crypto/index.ts'
import { World, type Assert } from '../helpers/world.ts'
import { legacyFixture } from './helpers.ts'
import { until } from '../helpers/wait.ts'

// Issue 4, legacy adapter, end to end: a registration centre sends 征税信息 with no "to"; the
// gateway routes it by division to a tax system behind the legacy-tax adapter, which gets flat
// signed JSON; the tax system posts 完税 / 退回 in its own format through the adapter's route;
// the registration centre gets standard messages the gateway attests. Bad input changes nothing.
const REG = 'REG:231221'
const TAX = 'TAX:231221'
const request = legacyFixture('tax-assessment-request.231221.json').envelope
const wsxx = legacyFixture('wsxx.231221.json').wsxx
const payment = legacyFixture('payment-completed.231221.json').envelope
const thxx = legacyFixture('thxx.231221.json').thxx
const rejected = legacyFixture('assessment-rejected.231221.json').envelope
const CASE_REJECTED = '231221-2026-000102'

for (const suite of ['national', 'international'] as Suite[]) {
  t.test(`registration centre in the ${suite} suite`, async (t) => {
    let w: World | undefined
    const tax = new LegacyTaxSystem({ participantId: TAX, secret: () => w?.partner(TAX).secret as Buffer, gatewayUrl: () => w?.url ?? '' })
    await tax.start()
    w = await World.start({
      label: `legacy${suite.slice(0, 3)}`,
      partners: [
        { id: REG, suite, send: ['tax.assessment.request'], receive: ['tax.payment.completed', 'tax.assessment.rejected'] },
        { id: TAX, adapter: 'legacy-tax', sharedSecret: true, endpoint: tax.endpoint, send: ['tax.payment.completed', 'tax.assessment.rejected'], receive: ['tax.assessment.request'] },
      ],
    })
    const world = w
    t.teardown(async () => { await world.close(); await tax.stop() })
    const reg = world.partner(REG).server
    const steps = async (caseId: string): Promise<string[][]> =>
      ((await world.client(REG).getCase(caseId)).json as { steps: Array<{ kind: string; status: string }> }).steps.map((s) => [s.kind, s.status])
    const counts = () => world.counts()
    const bytes = (o: unknown): Buffer => Buffer.from(JSON.stringify(o), 'utf8')
    const refusedCleanly = async (t: Assert, r: GatewayReply, status: number, code: string, before: unknown): Promise<void> => {
      t.equal(r.status, status, `HTTP ${status}`)
      t.equal(r.answer.cwdm, code, code)
      t.equal(r.authentic, 'ok', 'the answer is signed with the shared secret')
      t.same(await counts(), before, 'nothing was stored')
    }

    t.test('征税信息: routed by division to the legacy system, as signed flat JSON', async (t) => {
      const sent = await world.client(REG).send({ ...request })
      await until('the 征税信息', () => tax.received().length === 1)
      const a = tax.received()[0]
      t.equal(tax.refused, 0, 'its signature and content were good')
      t.equal(a?.vendor.lsh, sent.exchangeId, '流水号 = the exchange id (unique across senders)')
      t.equal(a?.vendor.fsf, REG)
      t.equal(a?.vendor.jyjg, 56.876543, 'price in 万元')
      t.equal(a?.vendor.jyfxx[2]?.zjhm, '231221198804162826', 'the parties, in clear to the tax system (and only to it)')
      t.strictSame(a?.standard.body, { ...request.body, submittedAt: '2026-03-09T09:45:30+08:00' }, 'it maps back to the message REG sent')
      t.same(await steps(request.caseId), [['tax', 'open']])
    })

    t.test('完税 through the inbound route: REG gets a standard message the gateway attests; the tax step is completed', async (t) => {
      const r = await tax.postPaymentCompleted(wsxx)
      t.equal(r.status, 202)
      t.match(r.answer, { fhm: '0000', lsh: wsxx.lsh, jhbh: /^[0-9a-f-]{36}$/, hzzy: /^[0-9a-f]{64}$/ })
      t.equal(r.authentic, 'ok', 'the answer is signed')
      const receipt = parseJws(r.answer.hz as string)
      const key = world.gatewaySigningKeys().find((k) => k.kid === receipt.header.kid)
      t.ok(key && (await verifyJws(receipt, key)), 'hz is a receipt signed by the gateway')
      t.match(JSON.parse(receipt.payload.toString('utf8')), { exchangeId: r.answer.jhbh, digest: r.answer.hzzy })

      await until('REG gets 完税', () => reg.ofType('tax.payment.completed').length === 1)
      const d = reg.ofType('tax.payment.completed')[0]
      t.equal(d?.attestedBy, 'gateway', 'the SDK verified it as attested by the gateway')
      t.match(d?.envelope, { id: messageIdFor(TAX, wsxx.lsh), from: TAX, caseId: payment.caseId, unitCode: payment.unitCode })
      t.strictSame(d?.envelope.body, payment.body, 'exactly the standard 完税结果 (元 strings, RFC 3339)')
      t.same(await steps(request.caseId), [['tax', 'completed']])
    })

    t.test('the same bytes again get the original exchange id (200, 0001)', async (t) => {
      const first = reg.ofType('tax.payment.completed').length
      const r = await tax.post('wsxx', bytes(wsxx))
      t.equal(r.status, 200)
      t.equal(r.answer.fhm, '0001')
      t.equal(r.answer.jhbh, (await world.db.query(`SELECT id FROM exchanges WHERE type = 'tax.payment.completed'`)).rows[0]?.id)
      await new Promise((r) => setTimeout(r, 200))
      t.equal(reg.ofType('tax.payment.completed').length, first, 'nothing new is delivered')
    })

    t.test('the same 流水号 with other bytes: TB_ERR_DUPLICATE_ID', async (t) => {
      const before = await counts()
      const r = await tax.postPaymentCompleted({ ...wsxx, sphm: '323122126000099999' })
      t.equal(r.answer.fhm, '1002')
      await refusedCleanly(t, r, 409, 'TB_ERR_DUPLICATE_ID', before)
    })

    t.test('退回 on another case closes its tax step as rejected', async (t) => {
      await world.client(REG).send({ ...request, caseId: CASE_REJECTED, body: { ...request.body, case: { ...(request.body.case as object), receiptNumber: CASE_REJECTED } } })
      await until('the second 征税信息', () => tax.received().length === 2)
      t.equal(tax.received()[1]?.vendor.ywh, CASE_REJECTED)
      const r = await tax.postRejected(thxx)
      t.equal(r.status, 202)
      t.equal(r.answer.fhm, '0000')
      await until('REG gets 退回', () => reg.ofType('tax.assessment.rejected').length === 1)
      const d = reg.ofType('tax.assessment.rejected')[0]
      t.equal(d?.attestedBy, 'gateway')
      t.strictSame(d?.envelope.body, rejected.body)
      t.same(await steps(CASE_REJECTED), [['tax', 'rejected']])
    })

    const another = { ...wsxx, lsh: 'WS2026031100000999', ywh: '231221-2026-000199' }

    t.test('a bad HMAC: 401 in the vendor format, nothing stored', async (t) => {
      const before = await counts()
      const r = await tax.post('wsxx', bytes(another), { signature: 'ab'.repeat(32) })
      t.equal(r.answer.fhm, '9001')
      await refusedCleanly(t, r, 401, 'TB_ERR_SIGNATURE_INVALID', before)
    })

    t.test('a stale timestamp, however well signed: refused, nothing stored', async (t) => {
      const before = await counts()
      const r = await tax.post('wsxx', bytes(another), { timestamp: Math.floor(Date.now() / 1000) - 600 })
      t.equal(r.answer.fhm, '9002')
      await refusedCleanly(t, r, 400, 'TB_ERR_IAT_WINDOW', before)
    })

    t.test('an invalid vendor field: 400 naming it, never its value', async (t) => {
      const before = await counts()
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['a 完税状态 outside the code list', { ...another, wszt: '0' }, 'wszt'],
        ['a total finer than a fen', { ...another, ynsehj: 3.8459371 }, 'ynsehj'],
        ['a field the format does not have', { ...another, nsrmc: '刘小芳' }, 'nsrmc'],
        ['a tax office code the schema refuses (the gateway\'s check, named in vendor terms)', { ...another, swjgdm: '1231221' }, 'swjgdm'],
        ['a unit code that is not one', { ...another, bdcdyh: '231221101002GB00345X00020003' }, 'bdcdyh'],
        ['an item amount that is not 元', { ...another, mxxx: [{ ...wsxx.mxxx[0], sjnse: '1e3' }] }, 'mxxx[0].sjnse'],
        ['an item rate the schema refuses', { ...another, mxxx: [{ ...wsxx.mxxx[0], sl: '1.5' }] }, 'mxxx[0].sl'],
        ['an electronic voucher number the schema refuses', { ...another, dzsphm: 'AB' }, 'dzsphm'],
      ]
      for (const [what, body, field] of cases) {
        const r = await tax.postPaymentCompleted(body)
        t.equal(r.status, 400, `${what}: 400`)
        t.match(r.answer, { fhm: '1001', cwdm: 'TB_ERR_SCHEMA', cwzd: field }, `${what}: names ${field}`)
        t.notMatch(JSON.stringify(r.answer), /刘小芳|3\.8459371|231221101002GB00345X/, `${what}: no value echoed`)
      }
      const notJson = await tax.post('wsxx', '{"lsh": "WS1", 13812340001}')
      t.match({ status: notJson.status, ...notJson.answer }, { status: 400, fhm: '1001', cwdm: 'TB_ERR_BAD_REQUEST' }, 'a body that is not JSON: 400')
      t.same(await counts(), before, 'nothing was stored')
    })

    t.test('完税 for a case with no open tax step: TB_ERR_CASE_NOT_FOUND in the vendor format', async (t) => {
      const before = await counts()
      const r = await tax.postPaymentCompleted(another)
      t.equal(r.answer.fhm, '1002')
      await refusedCleanly(t, r, 409, 'TB_ERR_CASE_NOT_FOUND', before)
    })

    if (suite === 'national') {
      t.test('the vendor answers 2001 (busy): retried; 1002 (data refused): final, dead at once', async (t) => {
        const busyCase = '231221-2026-000103'
        let calls = 0
        tax.behave(() => (++calls === 1 ? { vendorCode: '2001' } : {}))
        await world.client(REG).send({ ...request, caseId: busyCase, body: { ...request.body, case: { ...(request.body.case as object), receiptNumber: busyCase } } })
        await until('the retried 征税信息', () => tax.received().some((a) => a.caseId === busyCase))
        const events = async (caseId: string): Promise<string[]> =>
          ((await world.client(REG).getCase(caseId)).json as { timeline: Array<{ event: string }> }).timeline.map((e) => e.event).filter((e) => e.startsWith('delivery.'))
        await until('delivered', async () => (await events(busyCase)).includes('delivery.delivered'))
        t.same(await events(busyCase), ['delivery.failed', 'delivery.delivered'])

        const refusedCase = '231221-2026-000104'
        tax.behave(() => ({ vendorCode: '1002' }))
        await world.client(REG).send({ ...request, caseId: refusedCase, body: { ...request.body, case: { ...(request.body.case as object), receiptNumber: refusedCase } } })
        await until('dead', async () => (await events(refusedCase)).includes('delivery.dead'))
        t.same(await events(refusedCase), ['delivery.dead'], 'no retry of a refusal')
        t.notOk(tax.received().some((a) => a.caseId === refusedCase))
        tax.behave(() => ({}))
      })
    }

    t.test('no personal data in logs or in clear in the database', async (t) => world.checkLogs(t))
  })
}
