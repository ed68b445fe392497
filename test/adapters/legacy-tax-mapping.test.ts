import t from 'tap'
import { hmacHex } from '../../src/crypto/index.ts'
import { createMessageValidator } from '../../src/core/schemas.ts'
import { vendorFieldOf } from '../../adapters/legacy-tax/fields.ts'
import { messageIdFor } from '../../adapters/legacy-tax/inbound.ts'
import {
  assessmentFromVendor, assessmentToVendor, outcomeOf, PAYMENT, paymentFromVendor, paymentToVendor, rejectedFromVendor, rejectedToVendor, returnCodeFor,
} from '../../adapters/legacy-tax/mapping.ts'
import { checkSignature, signatureHeaders, signingInput } from '../../adapters/legacy-tax/signature.ts'
import { timeFromVendor, timeToVendor, wanFromYuan, yuanFromVendor, yuanFromWan } from '../../adapters/legacy-tax/units.ts'
import { parseVendorJson } from '../../adapters/legacy-tax/vendor.ts'
import { legacyFixture } from './helpers.ts'

// Issue 4, legacy adapter: the vendor format maps a real-looking transfer both ways, exactly.
const validator = createMessageValidator()
const request = legacyFixture('tax-assessment-request.231221.json').envelope
const zsxx = legacyFixture('zsxx.231221.json').zsxx
const wsxx = legacyFixture('wsxx.231221.json').wsxx
const payment = legacyFixture('payment-completed.231221.json').envelope
const thxx = legacyFixture('thxx.231221.json').thxx
const rejected = legacyFixture('assessment-rejected.231221.json').envelope
const ID = '0195d2a0-7c00-7abc-8def-0123456789ab'

t.test('征税信息 out: every party, 万元 and 元 amounts, local times, vendor codes', async (t) => {
  const vendor = assessmentToVendor({ id: ID, from: 'REG:231221', caseId: request.caseId as string, body: request.body })
  t.strictSame(vendor, zsxx, 'exactly the documented vendor JSON')
  t.match(JSON.stringify(vendor), /"jyjg":56\.876543,/, 'the price goes out as the 万元 number 56.876543, no float drift')
  t.same(vendor.jyfxx.map((p) => [p.nsrmc, p.zrfcsfbz]), [['张三', '1'], ['李四', '1'], ['刘小芳', '2']], 'every party with its 转让方/承受方 flag')
  t.equal(vendor.tssj, '2026-03-09 09:45:30', 'a UTC time becomes China Standard Time')

  const back = assessmentFromVendor(JSON.parse(JSON.stringify(vendor)))
  t.ok(back.ok)
  if (!back.ok) return
  const expected = { ...request.body, submittedAt: '2026-03-09T09:45:30+08:00' }
  t.strictSame(back.value, { id: ID, from: 'REG:231221', caseId: '231221-2026-000101', body: expected }, 'the vendor reads back the same message (times in +08:00)')
  t.ok(validator.validateBody('tax.assessment.request', 1, back.value.body).ok, 'and it is schema-valid')
})

t.test('完税 in: items in 元, totals and the assessed price in 万元, paid time', async (t) => {
  const r = paymentFromVendor(wsxx)
  t.ok(r.ok)
  if (!r.ok) return
  t.strictSame(r.value, { serial: 'WS2026031100000123', caseId: payment.caseId, unitCode: payment.unitCode, body: payment.body })
  t.ok(validator.validateBody('tax.payment.completed', 1, r.value.body).ok, 'schema-valid')
  const again = paymentFromVendor(JSON.parse(JSON.stringify(paymentToVendor(r.value))))
  t.strictSame(again.ok && again.value, r.value, 'standard → vendor → standard is the identity')
})

t.test('退回 in: reasons and time', async (t) => {
  const r = rejectedFromVendor(thxx)
  t.ok(r.ok)
  if (!r.ok) return
  t.strictSame(r.value, { serial: 'TH2026031000000045', caseId: rejected.caseId, unitCode: rejected.unitCode, body: rejected.body })
  t.ok(validator.validateBody('tax.assessment.rejected', 1, r.value.body).ok)
  const again = rejectedFromVendor(JSON.parse(JSON.stringify(rejectedToVendor(r.value))))
  t.strictSame(again.ok && again.value, r.value)
})

t.test('money converts exactly and never finer than a fen', async (t) => {
  t.equal(56.876543 * 10000, 568765.4299999999, 'why: multiplying floats drifts (this very price would lose a fen)')
  const wan: Array<[number, string | undefined]> = [
    [12.65, '126500.00'], [0.000001, '0.01'], [56.876543, '568765.43'], [0, '0.00'], [1, '10000.00'], [125, '1250000.00'],
    [999999999.999999, '9999999999999.99'], [0.0000001, undefined], [1.2345678, undefined], [0.1 + 0.2, undefined], [-1, undefined],
    [Number.NaN, undefined], [1e21, undefined],
  ]
  for (const [n, y] of wan) t.equal(yuanFromWan(n), y, `${n} 万元 → ${String(y)}`)
  const yuan: Array<[string, number]> = [['126500.00', 12.65], ['0.01', 0.000001], ['420000.00', 42], ['568765.43', 56.876543], ['0.00', 0], ['9999999999999.99', 999999999.999999]]
  for (const [y, n] of yuan) t.equal(wanFromYuan(y), n, `${y} 元 → ${n} 万元`)
  t.throws(() => wanFromYuan('123456789012345.67'), RangeError, 'an amount a double cannot carry is refused, not rounded')
  t.throws(() => wanFromYuan('12.5'), RangeError)
  for (const [v, y] of [['4200', '4200.00'], ['4200.5', '4200.50'], ['0', '0.00'], ['4200.505', undefined], ['04200', undefined], ['-1', undefined], ['1e3', undefined], ['', undefined]] as const) {
    t.equal(yuanFromVendor(v), y, `元 "${v}" → ${String(y)}`)
  }
})

t.test('number literals are checked on the text, before JSON.parse rounds them', async (t) => {
  const body = (ynsehj: string): Buffer => Buffer.from(JSON.stringify(wsxx).replace('"ynsehj":3.845937', `"ynsehj":${ynsehj}`), 'utf8')
  t.ok(parseVendorJson(body('3.845937')).ok)
  for (const bad of ['3.8459371', '3.845937000000000001', '3845937e-6', '1234567890.5']) {
    const r = parseVendorJson(body(bad))
    t.same(!r.ok && r.fault.field, 'ynsehj', `${bad} is refused, naming ynsehj`)
  }
  const notUtf8 = parseVendorJson(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))
  t.same(!notUtf8.ok && notUtf8.fault.field, '(body)', 'bytes that are not UTF-8 are refused')
})

t.test('times: vendor local time ↔ RFC 3339 +08:00', async (t) => {
  t.equal(timeFromVendor('2026-03-11 10:05:00'), '2026-03-11T10:05:00+08:00')
  t.equal(timeToVendor('2026-03-11T10:05:00+08:00'), '2026-03-11 10:05:00')
  t.equal(timeToVendor('2026-03-01T20:00:00-05:00'), '2026-03-02 09:00:00', 'another offset crosses midnight')
  t.equal(timeToVendor('2026-12-31T16:00:00.999999Z'), '2027-01-01 00:00:00', 'fractions of a second are dropped')
  for (const bad of ['2026-02-30 10:00:00', '2026-03-11 24:00:00', '2026-03-11T10:05:00+08:00', '2026-03-11 10:05', '2026/03/11 10:05:00']) {
    t.equal(timeFromVendor(bad), undefined, `${bad} is refused`)
  }
})

t.test('a vendor fault names the field and the rule, never the value', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a wszt code outside the list', { ...wsxx, wszt: '0' }, 'wszt'],
    ['an item amount finer than a fen', { ...wsxx, mxxx: [wsxx.mxxx[0], { ...wsxx.mxxx[1], ynse: '27084.071' }] }, 'mxxx[1].ynse'],
    ['a 万元 total sent as a string', { ...wsxx, ynsehj: '3.845937' }, 'ynsehj'],
    ['an RFC 3339 time where local time is due', { ...wsxx, jkrksj: '2026-03-11T10:05:00+08:00' }, 'jkrksj'],
    ['a field the message does not have (with personal data in it)', { ...wsxx, nsrmc: '刘小芳' }, 'nsrmc'],
    ['a missing voucher number', { ...wsxx, sphm: undefined }, 'sphm'],
    ['no items', { ...wsxx, mxxx: [] }, 'mxxx'],
    ['a side flag outside the list', { ...wsxx, mxxx: [{ ...wsxx.mxxx[0], zrfcsfbz: '3' }] }, 'mxxx[0].zrfcsfbz'],
  ]
  for (const [what, body, field] of cases) {
    const r = paymentFromVendor(JSON.parse(JSON.stringify(body)))
    t.equal(!r.ok && r.fault.field, field, `${what}: ${field}`)
    t.notMatch(JSON.stringify(r), /刘小芳|27084\.071/, `${what}: the value is not repeated`)
  }
})

t.test('the gateway\'s schema pointers are named by vendor field', async (t) => {
  t.equal(vendorFieldOf(PAYMENT, '/body/items/1/paid'), 'mxxx[1].sjnse')
  t.equal(vendorFieldOf(PAYMENT, '/body/totals/due'), 'ynsehj')
  t.equal(vendorFieldOf(PAYMENT, '/body/taxOfficeCode'), 'swjgdm')
  t.equal(vendorFieldOf(PAYMENT, '/unitCode'), 'bdcdyh')
  t.equal(vendorFieldOf(PAYMENT, '/body/invoice/number'), 'fphm')
  t.equal(vendorFieldOf(PAYMENT, '/body/invoice'), 'fpdm', 'a parent object is named by its first field')
  t.equal(vendorFieldOf(PAYMENT, '/body/items/2'), 'mxxx[2]')
})

t.test('return codes: one place decides what is final and what is retried', async (t) => {
  for (const [fhm, outcome] of [['0000', 'accepted'], ['0001', 'accepted'], ['1001', 'final'], ['1002', 'final'], ['1999', 'final'], ['2001', 'retry'], ['2999', 'retry'], ['9001', 'final'], ['9002', 'retry'], ['0002', 'retry'], ['5000', 'retry']] as const) {
    t.equal(outcomeOf(fhm), outcome, `${fhm} → ${outcome}`)
  }
  t.equal(returnCodeFor('TB_ERR_SIGNATURE_INVALID', 401), '9001')
  t.equal(returnCodeFor('TB_ERR_IAT_WINDOW', 400), '9002')
  t.equal(returnCodeFor('TB_ERR_SCHEMA', 400), '1001')
  t.equal(returnCodeFor('TB_ERR_CASE_NOT_FOUND', 409), '1002')
  t.equal(returnCodeFor('TB_ERR_DUPLICATE_ID', 409), '1002')
  t.equal(returnCodeFor('TB_ERR_UNAVAILABLE', 503), '2001')
})

t.test('message ids come from the participant and the vendor\'s 流水号', async (t) => {
  const a = messageIdFor('TAX:231221', 'WS2026031100000123')
  t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID, version 8, RFC 9562 variant')
  t.equal(messageIdFor('TAX:231221', 'WS2026031100000123'), a, 'deterministic')
  t.not(messageIdFor('TAX:231202', 'WS2026031100000123'), a, 'another partner\'s serial is another message')
  t.not(messageIdFor('TAX:231221', 'WS2026031100000124'), a)
})

t.test('the HMAC-SM3 header covers timestamp + "\\n" + body, within ±300 s', async (t) => {
  const secret = Buffer.alloc(32, 7)
  const body = Buffer.from('{"fhm":"0000"}', 'utf8')
  const now = new Date('2026-03-11T02:05:00Z')
  const mac = (d: Uint8Array): string => hmacHex('SM3', secret, d)
  const h = signatureHeaders(body, now, mac)
  t.equal(h['x-tb-timestamp'], String(now.getTime() / 1000))
  t.equal(h['x-tb-signature'], hmacHex('SM3', secret, Buffer.from(`${h['x-tb-timestamp']}\n{"fhm":"0000"}`, 'utf8')))
  t.strictSame(signingInput('1', body), Buffer.from('1\n{"fhm":"0000"}'))
  const verify = (d: Uint8Array, m: string): boolean => mac(d) === m
  t.equal(checkSignature(h, body, now, verify), 'ok')
  t.equal(checkSignature(h, Buffer.from('{"fhm":"0001"}'), now, verify), 'bad', 'another body')
  t.equal(checkSignature(h, body, new Date(now.getTime() + 301_000), verify), 'stale', 'past the window')
  t.equal(checkSignature(h, body, new Date(now.getTime() - 300_000), verify), 'ok', 'at the edge of the window')
  t.equal(checkSignature({ 'x-tb-timestamp': h['x-tb-timestamp'] }, body, now, verify), 'missing')
})
