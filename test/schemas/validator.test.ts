import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { allRules } from '../../src/core/message-types.ts'
import { createMessageValidator, type ValidationResult } from '../../src/core/schemas.ts'
import type { Violation } from '../../src/errors.ts'
import { fullEnvelope, loadFixtures, type Fixture } from './fixtures.ts'

const validator = createMessageValidator()
const fixtures = loadFixtures()
const violationsOf = (r: ValidationResult): Violation[] => (r.ok ? [] : r.violations)
const first = (r: ValidationResult): { pointer: string; rule: string } | undefined => {
  const v = violationsOf(r)[0]
  return v && { pointer: v.pointer, rule: v.rule }
}

function validFixture(type: string): Fixture {
  const f = fixtures.find((x) => x.envelope.type === type && x.expect === undefined && x.file.endsWith('.valid.json'))
  if (f === undefined) throw new Error(`no valid fixture for ${type}`)
  return f
}
const body = (type: string): Record<string, unknown> => structuredClone(validFixture(type).envelope.body)

t.test('every type of the routing table has a v1 schema, and so have the answers mortgage.query.result and certificate.verify.result', async (t) => {
  const types = [...allRules().map((r) => r.type), 'mortgage.query.result', 'certificate.verify.result']
  for (const type of types) t.ok(validator.hasType(type, 1), `${type} v1`)
  t.same(validator.types().map((x) => `${x.type}@${x.v}`).sort(), types.map((x) => `${x}@1`).sort(), 'and no other schema is loaded')
  t.notOk(validator.hasType('tax.assessment.request', 2), 'no v2')
})

t.test('schema() gives the frozen body schema; unknown types have none', async (t) => {
  const s = validator.schema('tax.assessment.request', 1) as { $id?: string }
  t.equal(s.$id, 'urn:tongban:schema:tax.assessment.request:v1')
  t.ok(Object.isFrozen(s), 'frozen')
  t.equal(validator.schema('no.such.type', 1), undefined)
  t.equal((validator.envelopeSchema() as { $id?: string }).$id, 'urn:tongban:schema:envelope:v1')
  t.same(first(validator.validateBody('no.such.type', 1, {})), { pointer: '/type', rule: 'unknown-type' })
})

t.test('no coercion: "1" is not 1, and 1 is not "1"', async (t) => {
  const env = fullEnvelope(validFixture('tax.assessment.request'))
  t.same(first(validator.validateEnvelope({ ...env, v: '1' })), { pointer: '/v', rule: 'type' })
  t.same(first(validator.validateEnvelope({ ...env, iat: String(env.iat) })), { pointer: '/iat', rule: 'type' })
  const b = body('tax.assessment.request') as { property: Record<string, unknown> }
  b.property.floor = '1'
  t.same(first(validator.validateBody('tax.assessment.request', 1, b)), { pointer: '/body/property/floor', rule: 'type' })
  t.equal(b.property.floor, '1', 'the value was not rewritten')
  const r = body('registration.completed')
  r.registrationType = 200
  t.same(violationsOf(validator.validateBody('registration.completed', 1, r)).map((v) => v.rule), ['type'], 'a number for a string enum: only the type violation')
})

t.test('validation changes nothing: no defaults injected, no property removed', async (t) => {
  for (const f of fixtures) {
    const env = fullEnvelope(f)
    const before = structuredClone(env)
    validator.validateEnvelope(env)
    validator.validateBody(f.envelope.type, f.envelope.v, env.body)
    t.ok(isDeepStrictEqual(env, before), `${f.agency}/${f.file}: deep-equal after validation`)
  }
  const extra = { ...body('tax.payment.completed'), returnCode: '0000' }
  validator.validateBody('tax.payment.completed', 1, extra)
  t.equal(extra.returnCode, '0000', 'an extra property is reported, not removed')
})

t.test('violations never contain the offending values', async (t) => {
  const b = body('mortgage.registration.request') as Record<string, any>
  const secrets = ['231202199208083010', '13912345', '91230100MA1B2C3D48', '2046-02-30', '231202003004GB00012M00010001', '自定义的字段值']
  b.mortgagors[0].idNumber = secrets[0]
  b.mortgagors[0].phone = secrets[1]
  b.mortgagee.uscc = secrets[2]
  b.term.end = secrets[3]
  b.property.unitCode = secrets[4]
  b.scope = { text: secrets[5] }
  const violations = violationsOf(validator.validateBody('mortgage.registration.request', 1, b))
  t.same(violations.map((v) => `${v.pointer} ${v.rule}`).sort(), [
    '/body/mortgagee/uscc format:uscc',
    '/body/mortgagors/0/idNumber format:resident-id',
    '/body/mortgagors/0/phone pattern',
    '/body/property/unitCode format:unit-code',
    '/body/scope type',
    '/body/term/end format:date',
  ])
  const text = JSON.stringify(violations)
  for (const s of secrets) t.notOk(text.includes(s), `no ${s}`)
  for (const v of violations) t.ok(v.message.length > 0, `${v.pointer} has a reason`)
})

t.test('format violations carry the precise reason of formats.ts', async (t) => {
  const b = body('tax.assessment.request') as Record<string, any>
  b.property.unitCode = '231202003004GB00012W00010001'
  const [v] = violationsOf(validator.validateBody('tax.assessment.request', 1, b))
  t.equal(v?.rule, 'format:unit-code')
  t.match(v?.message, /00000000/, 'names the fixture-number rule, not just "bad format"')
})

t.test('the envelope (DESIGN §4)', async (t) => {
  const env = fullEnvelope(validFixture('tax.assessment.request'))
  const check = (patch: Record<string, unknown>): ReturnType<typeof first> => first(validator.validateEnvelope({ ...env, ...patch }))
  t.equal(check({}), undefined, 'valid')
  const minimal = { ...env }
  delete minimal.caseId
  delete minimal.unitCode
  t.ok(validator.validateEnvelope(minimal).ok, 'to, caseId and unitCode are optional')
  t.ok(validator.validateEnvelope({ ...env, to: 'TAX:231202' }).ok, 'with to')
  t.same(check({ id: String(env.id).toUpperCase() }), { pointer: '/id', rule: 'format:uuid' })
  t.same(check({ type: 'Tax.Assessment' }), { pointer: '/type', rule: 'pattern' })
  t.same(check({ type: 'tax' }), { pointer: '/type', rule: 'pattern' })
  t.same(check({ v: 0 }), { pointer: '/v', rule: 'minimum' })
  t.same(check({ v: 1.5 }), { pointer: '/v', rule: 'type' })
  t.same(check({ from: 'OPS:test-operator' }), { pointer: '/from', rule: 'format:participant-id' })
  t.same(check({ to: 'BANK:91230100MA1B2C3D48' }), { pointer: '/to', rule: 'format:participant-id' })
  t.same(check({ caseId: '-231202' }), { pointer: '/caseId', rule: 'format:case-id' })
  t.same(check({ caseId: 'A'.repeat(64) }), { pointer: '/caseId', rule: 'format:case-id' })
  t.same(check({ nonce: 'short' }), { pointer: '/nonce', rule: 'pattern' })
  t.same(check({ nonce: 'a'.repeat(65) }), { pointer: '/nonce', rule: 'pattern' })
  t.same(check({ nonce: 'bm9uY2Utbm9uY2Utbm9uY2U=' }), { pointer: '/nonce', rule: 'pattern' })
  t.same(check({ body: [] }), { pointer: '/body', rule: 'type' })
  t.same(check({ extra: 1 }), { pointer: '/extra', rule: 'additionalProperties' })
  const { body: _b, ...noBody } = env
  t.same(first(validator.validateEnvelope(noBody)), { pointer: '/body', rule: 'required' })
  t.same(first(validator.validateEnvelope('not an object')), { pointer: '', rule: 'type' })
})

t.test('one fault, one violation: combinator, if/then and type noise is removed', async (t) => {
  const q = body('mortgage.query')
  q.certificateNumber = '黑(2016)绥化市不动产权第0012345号'
  t.same(violationsOf(validator.validateBody('mortgage.query', 1, q)).map((v) => `${v.pointer} ${v.rule}`), ['/body oneOf'], 'both')
  delete q.certificateNumber
  delete q.unitCode
  t.same(violationsOf(validator.validateBody('mortgage.query', 1, q)).map((v) => `${v.pointer} ${v.rule}`), ['/body oneOf'], 'neither')
  const r = body('tax.assessment.request') as Record<string, any>
  r.parties[2].idNumber = 231202199208083019
  t.same(violationsOf(validator.validateBody('tax.assessment.request', 1, r)).map((v) => `${v.pointer} ${v.rule}`), ['/body/parties/2/idNumber type'], 'a number where the if/then also wants a string: one violation')
})

t.test('masked owners in mortgage.query.result', async (t) => {
  const ok = (idNumber: string, idType = '1'): boolean => {
    const b = body('mortgage.query.result') as Record<string, any>
    b.ownership.owners[0] = { name: '张*', idType, idNumber, share: '0.5' }
    return validator.validateBody('mortgage.query.result', 1, b).ok
  }
  t.ok(ok('231***********1230'), 'resident ID masked 3 + 11 + 4')
  t.ok(ok('231202197503151230'), 'clear')
  t.notOk(ok('231**********1230'), 'a mask of another shape')
  t.notOk(ok('231202197503151231'), 'a clear number with a wrong check digit')
  t.ok(ok('912***********7Y', '8'), 'an organisation code masked')
  t.ok(ok('E1234****', '3'), 'a passport number masked')
  const other = body('registration.completed') as Record<string, any>
  other.owners[0].idNumber = '231***********3019'
  t.same(first(validator.validateBody('registration.completed', 1, other)), { pointer: '/body/owners/0/idNumber', rule: 'format:resident-id' }, 'masks are accepted only in the query result')
})

t.test('ID rules follow idType', async (t) => {
  const b = body('housing.contract.filed') as Record<string, any>
  b.buyers[0] = { name: 'JOHN SMITH', idType: '3', idNumber: 'E12345678' }
  t.ok(validator.validateBody('housing.contract.filed', 1, b).ok, 'a passport is not checked as a resident ID')
  b.buyers[0] = { name: '绥化示范置业有限公司', idType: '8', idNumber: '91231202MA1D5E6F7Y' }
  t.ok(validator.validateBody('housing.contract.filed', 1, b).ok, 'an organisation with a valid USCC')
  b.buyers[0].idNumber = '91231202MA1D5E6F7X'
  t.same(first(validator.validateBody('housing.contract.filed', 1, b)), { pointer: '/body/buyers/0/idNumber', rule: 'format:uscc' })
})

t.test('the bank view the gateway makes of the valid answer passes the result schema', async (t) => {
  // Contract with src/core/query-policies.ts: masking and restriction must produce schema-valid answers.
  const { minimise } = await import('../../src/core/query-policies.ts')
  const result = body('mortgage.query.result')
  const query = validFixture('mortgage.query').envelope.body as { loanApplication: { applicants: Array<{ name: string; idType: string; idNumber: string }> } }
  const view = minimise(result, 'BANK:91230100MA1B2C3D49:suihua', query.loanApplication.applicants)
  t.same(violationsOf(validator.validateBody('mortgage.query.result', 1, view)), [], 'masked owners and a restricted mortgage are valid')
  const mask = fixtures.find((f) => f.file === 'mortgage-query-result.valid_bank-view.json')
  t.same(view, mask?.envelope.body, 'and equal the bank-view fixture')
  const owner = structuredClone(result) as { ownership: { owners: Array<Record<string, string>> } }
  const asApplicant = owner.ownership.owners.map((o) => ({ name: o.name as string, idType: o.idType as string, idNumber: o.idNumber as string }))
  t.same(violationsOf(validator.validateBody('mortgage.query.result', 1, minimise(result, 'BANK:91231202MA1D5E6F7Y', asApplicant))), [], 'the mortgagee bank with the owners as applicants: clear and full')
})
