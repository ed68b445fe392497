/**
 * The custom formats of DESIGN §5: unit code, resident ID, unified social credit code, division,
 * participant id, money, area, fraction, case id (受理编号) and a strict RFC 3339 date-time.
 *
 * Each `…Fault` function returns null for a valid value, else a stable `rule` (for tests and
 * tools) and a human `message` naming the rule broken. Messages never echo the value: it may be
 * personal data. The `check…` functions are the same contract reduced to the message.
 */

/** Why a value breaks a format: a stable rule id and a human reason without the value. */
export interface FormatFault {
  readonly rule: string
  readonly message: string
}

const fault = (rule: string, message: string): FormatFault => ({ rule, message })
const messageOf = (f: FormatFault | null): string | null => (f === null ? null : f.message)

// ── Administrative division (GB/T 2260) ─────────────────────────────────────────────────────

/** First two digits of GB/T 2260 codes: the provinces, Taiwan (71), Hong Kong (81), Macao (82). */
const PROVINCES = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
  '71', '81', '82',
])

/**
 * Any level of division: a provincial agency (230000) or a prefecture-level one (231200) is a
 * legitimate participant, so only the unit code asks for county level (see unitCodeFault).
 */
export function divisionFault(code: string): FormatFault | null {
  if (!/^\d{6}$/.test(code)) return fault('digits', 'a division code (行政区划代码, GB/T 2260) is exactly 6 digits')
  if (!PROVINCES.has(code.slice(0, 2))) return fault('province', 'the first two digits of a division code must be a province code of GB/T 2260')
  return null
}

/** null when `code` is a GB/T 2260 division code (any level), else the reason. */
export function checkDivision(code: string): string | null {
  return messageOf(divisionFault(code))
}

// ── Real-estate unit code (GB/T 37346-2019) ─────────────────────────────────────────────────

/** The parts of a unit code, in order, each with the rule a bad value breaks. */
const UNIT_CODE_PARTS: ReadonlyArray<{ rule: string; from: number; to: number; re: RegExp; message: string }> = [
  { rule: 'cadastral-district', from: 6, to: 9, re: /^\d{3}$/, message: 'positions 7–9 of a unit code (cadastral district 地籍区) must be 3 digits' },
  { rule: 'cadastral-subdistrict', from: 9, to: 12, re: /^\d{3}$/, message: 'positions 10–12 of a unit code (cadastral sub-district 地籍子区) must be 3 digits' },
  { rule: 'ownership', from: 12, to: 13, re: /^[GJZ]$/, message: 'position 13 of a unit code (ownership letter 宗地特征码 所有权) must be G, J or Z' },
  { rule: 'parcel-type', from: 13, to: 14, re: /^[ABSXCDEFLNHGWY]$/, message: 'position 14 of a unit code (parcel type 宗地特征码 类型) must be one of A B S X C D E F L N H G W Y' },
  { rule: 'parcel-number', from: 14, to: 19, re: /^(?!00000)\d{5}$/, message: 'positions 15–19 of a unit code (parcel number 宗地顺序号) must be 5 digits from 00001 to 99999' },
  { rule: 'fixture-code', from: 19, to: 20, re: /^[FLQW]$/, message: 'position 20 of a unit code (fixture code 定着物特征码) must be F, L, Q or W' },
  { rule: 'fixture-number', from: 20, to: 28, re: /^\d{8}$/, message: 'positions 21–28 of a unit code (fixture unit number 定着物单元编号) must be 8 digits' },
]

/** Which part of a 28-character unit code is wrong, if any. */
export function unitCodeFault(code: string): FormatFault | null {
  if (code.length !== 28) return fault('length', 'a unit code (不动产单元代码, GB/T 37346-2019) is exactly 28 characters')
  const division = code.slice(0, 6)
  const d = divisionFault(division)
  if (d !== null) return fault('division', `positions 1–6 of a unit code (division 行政区划): ${d.message}`)
  // A unit lies in a county-level area; a city without districts (东莞 441900) uses its own code.
  if (division.endsWith('0000')) return fault('division', 'positions 1–6 of a unit code (division 行政区划) must be a county-level code, not a province')
  for (const p of UNIT_CODE_PARTS) {
    if (!p.re.test(code.slice(p.from, p.to))) return fault(p.rule, p.message)
  }
  // W means "no fixture": the land parcel alone, whose fixture number is all zeros.
  if (code[19] === 'W' && code.slice(20) !== '00000000') return fault('fixture-number', 'a unit code with fixture code W (no fixture) must end in 00000000')
  return null
}

/** null when `code` is a valid unit code, else the reason naming the part that is wrong. */
export function checkUnitCode(code: string): string | null {
  return messageOf(unitCodeFault(code))
}

// ── Resident identity number (GB 11643, ISO 7064 MOD 11-2) ──────────────────────────────────

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const
const ID_CHECK = '10X98765432'
// Residence permits of Hong Kong, Macao and Taiwan residents carry 810000/820000/830000.
const ID_PROVINCES = new Set([...PROVINCES, '83'])
// The standard's own example (440524188001010014) is born in 1880: 1900 would reject it.
const EARLIEST_BIRTH_YEAR = 1800

/** The check character of the first 17 digits of a resident ID number. */
export function residentIdCheckChar(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (ID_WEIGHTS[i] ?? 0)
  return ID_CHECK[sum % 11] as string
}

/** Today's date (YYYYMMDD) in China (UTC+8): a birth date may not be after it. */
function chinaToday(now: Date): string {
  return new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '')
}

/** Whether YYYY-MM-DD is a real calendar day. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0
  return day <= days
}

/** Why an 18-character resident ID number is invalid, if it is. */
export function residentIdFault(id: string, now: Date = new Date()): FormatFault | null {
  if (id.length !== 18) return fault('length', 'a resident ID number (居民身份证号码, GB 11643) is exactly 18 characters')
  if (!/^\d{17}[\dX]$/.test(id)) {
    return /^\d{17}x$/.test(id)
      ? fault('characters', 'the check character of a resident ID number must be an upper-case X')
      : fault('characters', 'a resident ID number is 17 digits followed by a digit or X')
  }
  if (!ID_PROVINCES.has(id.slice(0, 2))) return fault('address', 'positions 1–6 of a resident ID number (address code) must start with a province code')
  const birth = id.slice(6, 14)
  const year = Number(birth.slice(0, 4))
  if (!isCalendarDate(year, Number(birth.slice(4, 6)), Number(birth.slice(6, 8)))) {
    return fault('date', 'positions 7–14 of a resident ID number (birth date) are not a calendar date')
  }
  if (year < EARLIEST_BIRTH_YEAR || birth > chinaToday(now)) {
    return fault('date', `positions 7–14 of a resident ID number (birth date) must lie between ${EARLIEST_BIRTH_YEAR} and today`)
  }
  if (residentIdCheckChar(id.slice(0, 17)) !== id[17]) return fault('check', 'the check character of the resident ID number is wrong (ISO 7064 MOD 11-2)')
  return null
}

/** null when `id` is a valid 18-character resident ID number, else the reason. */
export function checkResidentId(id: string): string | null {
  return messageOf(residentIdFault(id))
}

// ── Unified social credit code (GB 32100-2015) ──────────────────────────────────────────────

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const

/** The check character of the first 17 characters of a unified social credit code. */
export function usccCheckChar(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(first17[i] ?? '') * (USCC_WEIGHTS[i] ?? 0)
  return USCC_ALPHABET[(31 - (sum % 31)) % 31] as string
}

/** Why a unified social credit code is invalid, if it is. */
export function usccFault(code: string): FormatFault | null {
  if (code.length !== 18) return fault('length', 'a unified social credit code (统一社会信用代码, GB 32100) is exactly 18 characters')
  for (const ch of code) {
    if (!USCC_ALPHABET.includes(ch)) return fault('alphabet', 'a unified social credit code uses only 0-9 and upper-case letters other than I, O, S, V and Z')
  }
  if (usccCheckChar(code.slice(0, 17)) !== code[17]) return fault('check', 'the check character of the unified social credit code is wrong (GB 32100)')
  return null
}

/** null when `code` is a valid unified social credit code, else the reason. */
export function checkUscc(code: string): string | null {
  return messageOf(usccFault(code))
}

// ── Participant id (DESIGN §3) ──────────────────────────────────────────────────────────────

const PARTICIPANT_ROLES = new Set(['REG', 'TAX', 'HOUSING', 'BANK', 'FUND', 'COURT', 'UTILITY', 'ENTERPRISE'])
/** Roles whose CODE is the body's unified social credit code (DESIGN §3); the others use their division. */
export const CREDIT_CODE_ROLES: ReadonlySet<string> = new Set(['BANK', 'FUND', 'COURT', 'UTILITY', 'ENTERPRISE'])
/** A utility company's SUBSYSTEM is the service it transfers (roles.ts UTILITY_SERVICES). */
const UTILITY_SERVICE = /^(water|power|gas|heating)$/
const SUBSYSTEM = /^[a-z0-9][a-z0-9_-]{0,31}$/

/** Why a participant id `ROLE:CODE[:SUBSYSTEM]` is invalid, if it is. */
export function participantIdFault(id: string): FormatFault | null {
  const parts = id.split(':')
  const [role = '', code = '', subsystem] = parts
  if (role === 'OPS') return fault('operator', 'OPS ids are gateway operators, not participants')
  if (parts.length < 2 || parts.length > 3) return fault('shape', 'a participant id is ROLE:CODE or ROLE:CODE:SUBSYSTEM')
  if (!PARTICIPANT_ROLES.has(role)) return fault('role', 'the role of a participant id must be REG, TAX, HOUSING, BANK, FUND, COURT, UTILITY or ENTERPRISE')
  if (CREDIT_CODE_ROLES.has(role)) {
    const f = usccFault(code)
    if (f !== null) return fault('code', `the code of a ${role} participant is its unified social credit code: ${f.message}`)
  } else {
    const f = divisionFault(code)
    if (f !== null) return fault('code', `the code of a government participant is its division: ${f.message}`)
  }
  if (role === 'UTILITY' && (subsystem === undefined || !UTILITY_SERVICE.test(subsystem))) {
    return fault('service', 'a utility company\'s id ends with the service it transfers: UTILITY:<credit code>:water, power, gas or heating')
  }
  if (subsystem !== undefined && !SUBSYSTEM.test(subsystem)) {
    return fault('subsystem', 'the subsystem of a participant id is 1–32 of a-z, 0-9, _ and -, starting with a letter or digit')
  }
  return null
}

/** null when `id` is a participant id (not an operator's), else the reason. */
export function checkParticipantId(id: string): string | null {
  return messageOf(participantIdFault(id))
}

// ── Decimal strings: money, area, fraction ──────────────────────────────────────────────────

/** Money: yuan with exactly two decimals, no sign, no leading zeros ("1250000.00"). */
export function moneyFault(value: string): FormatFault | null {
  return /^(0|[1-9]\d{0,14})\.\d{2}$/.test(value)
    ? null
    : fault('money', 'an amount is a decimal string in yuan with exactly two decimals, no sign and no leading zeros (e.g. 1250000.00)')
}

/** null when `value` is a money string, else the reason. */
export function checkMoney(value: string): string | null {
  return messageOf(moneyFault(value))
}

/** Area: square metres with up to two decimals ("89.56"). */
export function areaFault(value: string): FormatFault | null {
  return /^(0|[1-9]\d{0,9})(\.\d{1,2})?$/.test(value)
    ? null
    : fault('area', 'an area is a decimal string in square metres with up to two decimals, no sign (e.g. 89.56)')
}

/** null when `value` is an area string, else the reason. */
export function checkArea(value: string): string | null {
  return messageOf(areaFault(value))
}

/** Fraction: a decimal from 0 to 1 with up to six decimals ("0.5", "1", "0.015") — shares and tax rates. */
export function fractionFault(value: string): FormatFault | null {
  return /^(0(\.\d{1,6})?|1(\.0{1,6})?)$/.test(value)
    ? null
    : fault('fraction', 'a share or rate is a decimal string from 0 to 1 with up to six decimals (e.g. 0.5 for half, 0.03 for 3 %)')
}

/** null when `value` is a fraction string, else the reason. */
export function checkFraction(value: string): string | null {
  return messageOf(fractionFault(value))
}

// ── Date-time (RFC 3339 with an explicit offset) ────────────────────────────────────────────

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/

/**
 * RFC 3339 `date-time`, upper-case T and Z, offset required and written ±hh:mm. ajv-formats
 * also requires an offset but accepts "+08", "+0800" and a space for T: partners would send
 * timestamps other systems misread, so this format is stricter.
 */
export function dateTimeFault(value: string): FormatFault | null {
  const m = DATE_TIME.exec(value)
  if (m === null) return fault('shape', 'a date-time is RFC 3339 with an offset, e.g. 2026-01-31T09:30:00+08:00')
  const [, y, mo, d, h, mi, s, , offset] = m
  if (offset === undefined) return fault('offset', 'a date-time must carry its UTC offset (e.g. +08:00 or Z)')
  if (!isCalendarDate(Number(y), Number(mo), Number(d))) return fault('date', 'the date part of the date-time is not a calendar date')
  // Leap seconds (:60) are not accepted: no partner system emits them and Date cannot hold them.
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return fault('time', 'the time part of the date-time is not a valid time of day')
  if (offset !== 'Z' && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4, 6)) > 59)) return fault('offset', 'the UTC offset of the date-time is not valid')
  return null
}

/** null when `value` is an RFC 3339 date-time with offset, else the reason. */
export function checkDateTime(value: string): string | null {
  return messageOf(dateTimeFault(value))
}

// ── UUID ────────────────────────────────────────────────────────────────────────────────────

/** A UUID in its canonical lower-case 8-4-4-4-12 form (ajv-formats would also take upper case and urn:uuid:). */
export function uuidFault(value: string): FormatFault | null {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)
    ? null
    : fault('uuid', 'a UUID is written in lower case as 8-4-4-4-12 hexadecimal digits')
}

// ── Case id (受理编号) ───────────────────────────────────────────────────────────────────────

/**
 * A case id (受理编号, the registration centre's receipt number 收件编号): the 6-digit division of
 * the centre that opened the case, its 4-digit year and a serial of 1–12 digits, joined by
 * hyphens (231202-2026-000123). The serial's width varies between registration systems (6 to
 * 10 digits are common), hence the lenient length.
 *
 * A court's case (查封, 解封) has its own namespace: the serial is `J` and 1–11 digits
 * (231202-2026-J000101), the division one of the court's. Registration centres never issue a
 * `J` serial, so a court cannot take a centre's number, nor a centre a court's.
 */
export function caseIdFault(value: string): FormatFault | null {
  const m = /^(\d{6})-(\d{4})-(\d{1,12}|J\d{1,11})$/.exec(value)
  if (m === null) return fault('case-id', 'a case id (受理编号) is a 6-digit division code, a 4-digit year and a serial of 1–12 digits (a court\'s case: J and 1–11 digits), joined by hyphens (e.g. 110105-2026-000123, 110105-2026-J000101)')
  const d = divisionFault(m[1] as string)
  if (d !== null) return fault('division', `the first part of a case id (受理编号) is the division of the registration centre or court that opened it: ${d.message}`)
  return null
}

/** Who may open a case of this id: a registration centre (a serial of digits) or a court (a `J` serial). */
export function caseIdIssuer(caseId: string): 'REG' | 'COURT' {
  return /-J\d+$/.test(caseId) ? 'COURT' : 'REG'
}

/** null when `value` is a case id, else the reason. */
export function checkCaseId(value: string): string | null {
  return messageOf(caseIdFault(value))
}

// ── Masked mobile number ────────────────────────────────────────────────────────────────────

/** A mainland mobile number with its middle four digits masked (138****5678): what a utility's notice may carry. */
export function maskedMobileFault(value: string): FormatFault | null {
  if (/^1[3-9]\d{9}$/.test(value)) return fault('clear', 'a full mobile number is not sent: mask its middle four digits (e.g. 138****5678)')
  return /^1[3-9]\d\*{4}\d{4}$/.test(value) ? null : fault('masked-mobile', 'a masked mobile number is 3 digits, ****, 4 digits (e.g. 138****5678)')
}

// ── Registry used by the validator ──────────────────────────────────────────────────────────

/** Every custom format by its schema name (`"format": "unit-code"`). */
export const FORMAT_FAULTS: Readonly<Record<string, (value: string) => FormatFault | null>> = {
  'unit-code': unitCodeFault,
  'resident-id': (v) => residentIdFault(v),
  uscc: usccFault,
  division: divisionFault,
  'participant-id': participantIdFault,
  money: moneyFault,
  area: areaFault,
  fraction: fractionFault,
  'date-time': dateTimeFault,
  uuid: uuidFault,
  'case-id': caseIdFault,
  'masked-mobile': maskedMobileFault,
}
