import t from 'tap'
import { createMessageValidator, type ValidationResult } from '../../src/core/schemas.ts'
import type { Violation } from '../../src/errors.ts'
import { fullEnvelope, loadFixtures, personalData } from './fixtures.ts'
import { combineViolations, envelopeViolations, ruleFor, senderCodeViolations } from '../../src/core/message-types.ts'

const validator = createMessageValidator()
const fixtures = loadFixtures()

/** What the gateway does: the envelope first, then the body of its type and the checks across the two (message-types.ts). */
function validate(envelope: Record<string, unknown>): ValidationResult {
  const env = validator.validateEnvelope(envelope)
  if (!env.ok) return env
  const body = validator.validateBody(envelope.type as string, envelope.v as number, envelope.body)
  const rule = ruleFor(envelope.type as string)
  const cross = rule === undefined ? [] : [...envelopeViolations(envelope as Parameters<typeof envelopeViolations>[0], rule), ...senderCodeViolations(envelope as Parameters<typeof senderCodeViolations>[0], rule)]
  const all = combineViolations(body.ok ? [] : body.violations, cross)
  return all.length === 0 ? { ok: true } : { ok: false, violations: all }
}

const violationsOf = (r: ValidationResult): Violation[] => (r.ok ? [] : r.violations)

t.test('every valid fixture passes the envelope and its body schema', async (t) => {
  const valid = fixtures.filter((f) => f.expect === undefined)
  t.ok(valid.length >= 13, 'a valid fixture for every type, plus the extra ones')
  for (const f of valid) {
    t.same(violationsOf(validate(fullEnvelope(f))), [], `${f.agency}/${f.file}`)
  }
})

t.test('every invalid fixture fails with exactly the pointer and rule it names', async (t) => {
  const invalid = fixtures.filter((f) => f.expect !== undefined)
  for (const f of invalid) {
    const violations = violationsOf(validate(fullEnvelope(f)))
    const first = violations[0]
    t.equal(f.expect?.code, 'TB_ERR_SCHEMA', `${f.file}: a schema fixture`)
    t.same(first && { pointer: first.pointer, rule: first.rule }, { pointer: f.expect?.pointer, rule: f.expect?.rule }, `${f.agency}/${f.file}: first violation`)
    // Each invalid fixture holds one fault: a second violation would be noise the validator failed to remove.
    t.equal(violations.length, 1, `${f.agency}/${f.file}: one violation`)
  }
})

t.test('fixtures cover every message type, valid and invalid', async (t) => {
  for (const { type, v } of validator.types()) {
    const mine = fixtures.filter((f) => f.envelope.type === type && f.envelope.v === v)
    t.ok(mine.some((f) => f.expect === undefined), `${type} v${v} has a valid fixture`)
    t.ok(mine.filter((f) => f.expect !== undefined).length >= 3, `${type} v${v} has several invalid fixtures`)
  }
})

t.test('the cases the brief names are all covered', async (t) => {
  const rules = new Set(fixtures.flatMap((f) => (f.expect ? [`${f.expect.rule} ${f.file}`] : [])))
  const has = (re: RegExp): boolean => [...rules].some((r) => re.test(r))
  for (const part of ['division', 'district', 'subdistrict', 'ownership', 'parcel-type', 'parcel-number', 'fixture-code', 'fixture-number']) {
    t.ok(has(new RegExp(`^format:unit-code .*unit-code-${part}\\.json$`)), `bad unit code: ${part}`)
  }
  t.ok(has(/^format:resident-id .*check/), 'bad resident-ID check digit')
  t.ok(has(/^format:resident-id .*birth-date/), 'impossible birth date')
  t.ok(has(/^format:uscc /), 'bad USCC check character')
  t.ok(has(/^required /), 'missing required field')
  t.ok(has(/^additionalProperties /), 'extra field')
  t.ok(has(/^type /), 'wrong type')
  t.ok(has(/^enum /), 'bad enum')
  t.ok(has(/^format:money /), 'bad money format')
  t.ok(has(/^format:date-time .*no-offset/), 'date-time without offset')
  t.ok(has(/^oneOf .*both-unit-and-certificate/) && has(/^oneOf .*neither-unit-nor-certificate/), 'both / neither unitCode and certificateNumber')
})

t.test('the canonical <name>.valid.json sorts first among the valid fixtures of its type', async (t) => {
  // test/helpers/fixtures.ts validFixture(type) takes the first one.
  for (const { type } of validator.types()) {
    const first = fixtures.find((f) => f.envelope.type === type && f.expect === undefined)
    t.match(first?.file, /^[a-z-]+\.valid\.json$/, `${type}: ${first?.file}`)
  }
})

t.test('the transfer case fixtures agree with one another', async (t) => {
  // A certificate check names no unit (it asks by certificate number and digest only).
  // A cross-region application is for a unit of another division; a developer's filings are for the new building's units.
  const crossRegion = (f: (typeof fixtures)[number]): boolean => ['registration.application.forwarded', 'registration.application.examined', 'certificate.print.request', 'certificate.printed'].includes(f.envelope.type)
  const transfer = fixtures.filter((f) => !f.file.includes('wangkui') && !f.envelope.type.startsWith('certificate.verify') && !crossRegion(f) && f.agency !== 'enterprise')
  for (const f of fixtures.filter(crossRegion)) {
    t.same([f.envelope.caseId, f.envelope.unitCode], ['231202-2026-000901', '231221101002GB00345F00030101'], `${f.file}: the Suihua case, applied in 北林 for a unit in 望奎`)
  }
  for (const f of transfer) {
    if (f.expect?.pointer === '/unitCode' || f.expect?.pointer === '/caseId') continue
    t.equal(f.envelope.unitCode, '231202003004GB00012F00010001', `${f.file}: unit code`)
    // A court's seizure cases are in its own namespace (a J serial): one per seizure.
    const judicial = f.envelope.type.startsWith('judicial.')
    if (f.envelope.caseId !== undefined) t.equal(f.envelope.caseId, judicial ? (f.file.includes('waiting') ? '231202-2026-J000102' : '231202-2026-J000101') : '231202-2026-000123', `${f.file}: case`)
  }
  const wangkui = fixtures.find((f) => f.file === 'mortgage-query.valid_wangkui.json')
  t.equal(wangkui?.envelope.unitCode?.slice(0, 6), '231221', 'the 望奎县 query is for division 231221')
})

t.test('no violation of any fixture carries personal data', async (t) => {
  const pd = personalData()
  const secrets = [...pd.names, ...pd.idNumbers, ...pd.phones, ...pd.addresses]
  for (const f of fixtures.filter((x) => x.expect !== undefined)) {
    const text = JSON.stringify(violationsOf(validate(fullEnvelope(f))))
    t.same(secrets.filter((s) => text.includes(s)), [], `${f.file}: no personal data in violations`)
  }
})
