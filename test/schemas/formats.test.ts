import t from 'tap'
import {
  areaFault, caseIdFault, checkArea, checkCaseId, checkDateTime, checkDivision, checkFraction, checkMoney, checkParticipantId, checkResidentId, checkUnitCode, checkUscc,
  dateTimeFault, divisionFault, fractionFault, maskedMobileFault, moneyFault, participantIdFault, residentIdCheckChar, residentIdFault, unitCodeFault,
  usccCheckChar, usccFault, uuidFault, type FormatFault,
} from '../../src/core/formats.ts'

type Row = readonly [value: string, rule: string | null]

/** Each row: the fault's rule (null = valid); a reason never echoes the value. */
function table(name: string, fn: (v: string) => FormatFault | null, check: ((v: string) => string | null) | undefined, rows: readonly Row[]): void {
  t.test(name, async (t) => {
    for (const [value, rule] of rows) {
      const f = fn(value)
      t.equal(f?.rule ?? null, rule, `${JSON.stringify(value)} → ${rule ?? 'valid'}`)
      // Short values may occur by chance in a reason's fixed example (e.g. "1250000.00").
      if (f !== null && value.length >= 12) t.notOk(f.message.includes(value), `${JSON.stringify(value)}: reason does not echo the value`)
      if (check !== undefined) t.equal(check(value), f?.message ?? null, `${JSON.stringify(value)}: check… gives the same reason`)
    }
  })
}

// Published vectors (GB 11643, GB 32100; shared/vectors/gm-vectors.json) and the examples of DESIGN §3.
const RESIDENT_IDS = ['11010519491231002X', '440524188001010014']
const USCCS = ['91350100M000100Y43', '91230100MA1B2C3D49']

t.test('published vectors pass and their check characters are recomputed', async (t) => {
  for (const id of RESIDENT_IDS) {
    t.equal(checkResidentId(id), null, id)
    t.equal(residentIdCheckChar(id.slice(0, 17)), id[17], `${id}: check character`)
  }
  for (const c of USCCS) {
    t.equal(checkUscc(c), null, c)
    t.equal(usccCheckChar(c.slice(0, 17)), c[17], `${c}: check character`)
  }
})

table('unit code (GB/T 37346-2019): each part', unitCodeFault, checkUnitCode, [
  ['231202003004GB00012F00010001', null],
  ['231221101002GB00345F00020003', null],
  ['110105003012GB00023W00000000', null],
  ['441900001001JC00001Q00000001', null], // 东莞: a city without districts uses its prefecture code
  ['23120200300GB00012F00010001', 'length'],
  ['231202003004GB00012F000100011', 'length'],
  ['', 'length'],
  ['991202003004GB00012F00010001', 'division'],
  ['2312X2003004GB00012F00010001', 'division'],
  ['230000003004GB00012F00010001', 'division'], // a province is not where a unit lies
  ['2312020A3004GB00012F00010001', 'cadastral-district'],
  ['2312020030X4GB00012F00010001', 'cadastral-subdistrict'],
  ['231202003004XB00012F00010001', 'ownership'],
  ['231202003004gB00012F00010001', 'ownership'],
  ['231202003004GK00012F00010001', 'parcel-type'],
  ['231202003004GI00012F00010001', 'parcel-type'],
  ['231202003004GB00000F00010001', 'parcel-number'],
  ['231202003004GB0001AF00010001', 'parcel-number'],
  ['231202003004GB00012M00010001', 'fixture-code'],
  ['231202003004GB00012F0001000A', 'fixture-number'],
  ['231202003004GB00012W00010001', 'fixture-number'], // W (no fixture) must end in 00000000
])

const NOW = new Date('2026-03-02T00:00:00+08:00')
table('resident ID number (GB 11643)', (v) => residentIdFault(v, NOW), undefined, [
  ...RESIDENT_IDS.map((id): Row => [id, null]),
  ['231202197503151230', null],
  ['231202199208083019', null],
  ['231202199208083010', 'check'],
  ['11010519491231002Y', 'characters'],
  ['11010519491231002x', 'characters'], // a lower-case x is not accepted
  ['1101051949123100X2', 'characters'],
  ['11010519491231002', 'length'],
  ['110105194912310021X', 'length'],
  ['110105490101001', 'length'], // the old 15-digit numbers are not accepted
  ['991202197503151230', 'address'],
  ['231202199202303017', 'date'], // 1992-02-30, check digit right
  ['231202199913011234', 'date'], // month 13
  ['231202209901012047', 'date'], // born 2099
  ['231202202603030000', 'date'], // born tomorrow
  ['231202179901010000', 'date'], // before 1800
])

t.test('resident ID: the birth-date bound follows the clock', async (t) => {
  const bornToday = '231202202603020000'
  const id = bornToday.slice(0, 17) + residentIdCheckChar(bornToday.slice(0, 17))
  t.equal(residentIdFault(id, NOW), null, 'born today is fine')
  t.equal(residentIdFault(id, new Date('2026-03-01T12:00:00+08:00'))?.rule, 'date', 'born tomorrow is not')
  // 2026-03-01T20:00Z is already 2 March in China.
  t.equal(residentIdFault(id, new Date('2026-03-01T20:00:00Z')), null, 'the day is China\'s (UTC+8)')
})

table('unified social credit code (GB 32100)', usccFault, checkUscc, [
  ...USCCS.map((c): Row => [c, null]),
  ['91231202MA1D5E6F7Y', null],
  ['91350100M000100Y42', 'check'],
  ['91230100MA1B2C3D48', 'check'],
  ['91350100M000100Y4', 'length'],
  ['91350100M000100Y433', 'length'],
  ['91350100I000100Y43', 'alphabet'], // I, O, S, V, Z are not in the alphabet
  ['91350100O000100Y43', 'alphabet'],
  ['91350100m000100Y43', 'alphabet'],
])

table('division (GB/T 2260)', divisionFault, checkDivision, [
  ['231202', null],
  ['231221', null],
  ['231200', null], // prefecture level: a city's housing bureau
  ['230000', null], // province level: a provincial agency
  ['110105', null],
  ['820000', null],
  ['991202', 'province'],
  ['001202', 'province'],
  ['20120', 'digits'],
  ['2312020', 'digits'],
  ['2312a2', 'digits'],
])

table('participant id', participantIdFault, checkParticipantId, [
  ['REG:231202', null],
  ['TAX:231202', null],
  ['HOUSING:231200', null],
  ['COURT:11231202MB00123459', null],
  ['COURT:11231202MB00123459:zxk', null],
  ['COURT:231202', 'code'],
  ['FUND:12231200MB07654323', null],
  ['FUND:231200', 'code'],
  ['COURT:11231202MB00123458', 'code'],
  ['UTILITY:91231200MA1W00001Q:water', null],
  ['UTILITY:91231200MA1P00002Y:power', null],
  ['UTILITY:91231200MA1W00001Q', 'service'],
  ['UTILITY:91231200MA1W00001Q:internet', 'service'],
  ['UTILITY:231202:water', 'code'],
  ['BANK:91230100MA1B2C3D49', null],
  ['BANK:91230100MA1B2C3D49:suihua', null],
  ['REG:231202:bdc-v2_1', null],
  ['OPS:test-operator', 'operator'],
  ['OPS:231202', 'operator'],
  ['REG', 'shape'],
  ['REG:231202:a:b', 'shape'],
  ['FOO:231202', 'role'],
  ['reg:231202', 'role'],
  ['REG:991202', 'code'],
  ['REG:91230100MA1B2C3D49', 'code'],
  ['BANK:231202', 'code'],
  ['BANK:91230100MA1B2C3D48', 'code'],
  ['REG:231202:', 'subsystem'],
  ['REG:231202:Suihua', 'subsystem'],
  ['REG:231202:-x', 'subsystem'],
  [`REG:231202:${'a'.repeat(33)}`, 'subsystem'],
])

t.test('masked mobile number', async (t) => {
  t.equal(maskedMobileFault('138****5678'), null)
  t.equal(maskedMobileFault('199****0001'), null)
  t.equal(maskedMobileFault('13812345678')?.rule, 'clear', 'a full number is refused as such')
  for (const bad of ['138***5678', '1381****678', '238****5678', '138****567x', '+86138****5678', '']) t.equal(maskedMobileFault(bad)?.rule, 'masked-mobile', bad)
})

table('money (yuan, two decimals)', moneyFault, checkMoney, [
  ['1250000.00', null],
  ['0.00', null],
  ['420000.00', null],
  ['1250000', 'money'],
  ['1250000.0', 'money'],
  ['1250000.005', 'money'],
  ['-1.00', 'money'],
  ['+1.00', 'money'],
  ['01.00', 'money'],
  ['1,250.00', 'money'],
  ['1e6', 'money'],
  ['', 'money'],
])

table('area (m², up to two decimals)', areaFault, checkArea, [
  ['89.56', null],
  ['89', null],
  ['89.5', null],
  ['0', null],
  ['89.567', 'area'],
  ['-1', 'area'],
  ['089.5', 'area'],
  ['89.', 'area'],
  ['1e3', 'area'],
])

table('fraction (shares, rates)', fractionFault, checkFraction, [
  ['0.5', null],
  ['1', null],
  ['1.00', null],
  ['0', null],
  ['0.333333', null],
  ['0.015', null],
  ['0.3333333', 'fraction'],
  ['1.5', 'fraction'],
  ['2', 'fraction'],
  ['50%', 'fraction'],
  ['.5', 'fraction'],
])

table('date-time (RFC 3339, offset required)', dateTimeFault, checkDateTime, [
  ['2026-03-02T10:15:00+08:00', null],
  ['2026-03-02T02:15:00Z', null],
  ['2026-03-02T10:15:00.123+08:00', null],
  ['2024-02-29T00:00:00-05:30', null],
  ['2026-03-02T10:15:00', 'offset'],
  ['2026-03-02T10:15:00+24:00', 'offset'],
  ['2026-03-02T10:15:00+08', 'shape'],
  ['2026-03-02T10:15:00+0800', 'shape'],
  ['2026-03-02 10:15:00+08:00', 'shape'],
  ['2026-03-02t10:15:00z', 'shape'],
  ['2026-03-02', 'shape'],
  ['2026-02-29T10:15:00+08:00', 'date'],
  ['2026-03-02T24:00:00+08:00', 'time'],
  ['2026-03-02T23:59:60Z', 'time'],
])

table('uuid (canonical lower case)', uuidFault, undefined, [
  ['0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', null],
  ['0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B', 'uuid'],
  ['urn:uuid:0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 'uuid'],
  ['0193a1b2c3d47e5f8a9b0c1d2e3f4a5b', 'uuid'],
])

table('case id (受理编号)', caseIdFault, checkCaseId, [
  ['231202-2026-000123', null],
  ['231202-2026-1', null],
  ['231202-2026-000000000123', null],
  ['231202-2026-J000101', null],
  ['231202-2026-J1', null],
  ['231202-2026-J00000000001', null],
  ['231202-2026-J000000000001', 'case-id'],
  ['231202-2026-j000101', 'case-id'],
  ['231202-2026-J', 'case-id'],
  ['231202-2026-JJ000101', 'case-id'],
  ['231202-2026-0000000001234', 'case-id'],
  ['231202-2026-', 'case-id'],
  ['231202/2026/000123', 'case-id'],
  ['231202-26-000123', 'case-id'],
  ['2312-2026-000123', 'case-id'],
  ['231202-2026-B00012', 'case-id'],
  ['A'.repeat(64), 'case-id'],
  ['231202-2026-000123\u0000', 'case-id'],
  [' 231202-2026-000123', 'case-id'],
  ['991202-2026-000123', 'division'],
])
