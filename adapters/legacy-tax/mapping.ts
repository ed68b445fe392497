/**
 * Every mapping table of the legacy tax format in one place: code lists, the field table of
 * each message (vendor field ↔ standard JSON pointer, with its unit conversion) and the
 * return codes (返回码 fhm) with what each means for a delivery. README.md documents the same.
 */
import type { ErrorCode } from '../../src/errors.ts'
import { fromVendor, toVendor, type Conv, type FieldTable } from './fields.ts'
import { isVendorDate, timeFromVendor, timeToVendor, wanFromYuan, yuanFromVendor, yuanFromWan } from './units.ts'
import type { ThxxMessage, VendorFault, WsxxMessage, ZsxxMessage } from './vendor.ts'

// ── Code lists (standard value → vendor code) ───────────────────────────────────────────────

/** 转让方承受方标志 zrfcsfbz. */
export const SIDE = { transferor: '1', transferee: '2' } as const
/** 业务类型 ywlx. */
export const BUSINESS_TYPE = { 'second-hand-sale': '01', 'new-build-sale': '02', gift: '03', inheritance: '04', other: '99' } as const
/** 房屋结构 fwjg (the register's FWJG codes). */
export const STRUCTURE = { steel: '1', 'steel-concrete': '2', 'reinforced-concrete': '3', mixed: '4', 'brick-wood': '5', other: '6' } as const
/** 房屋用途 fwyt (the vendor's list). */
export const USAGE = { residential: '10', commercial: '20', office: '30', industrial: '40', parking: '50', storage: '60', other: '99' } as const
/** 权属转移方式 zyfs. */
export const TRANSFER_METHOD = { sale: '1', gift: '2', inheritance: '3', exchange: '4', 'divorce-division': '5', 'court-ruling': '6', other: '9' } as const
/** 共有方式 gyfs (the register's GYFS codes). */
export const CO_OWNERSHIP = { sole: '0', joint: '1', 'by-shares': '2', other: '3' } as const
/** 取得方式 qdfs. */
export const ACQUISITION = { purchase: '01', 'new-build-purchase': '02', gift: '03', inheritance: '04', 'self-built': '05', 'divorce-division': '06', other: '99' } as const
/** 完税状态 wszt (1 已完税, 2 免税; a 完税信息 with anything else is refused). */
export const PAYMENT_STATUS = { paid: '1', exempt: '2' } as const
/** Codes the vendor writes exactly as the standard does. */
export const SAME_CODES = {
  djlx: ['100', '200', '300', '400', '500', '600', '700', '800'],
  zjzl: ['1', '2', '3', '4', '5', '6', '7', '8', '99'],
  hyzk: ['10', '20', '30', '40', '90'],
  zsxm: ['10119', '10101', '10106', '10111', '10109', '30203', '30216', '10113'],
} as const

// ── Conversions ─────────────────────────────────────────────────────────────────────────────

const same = (v: unknown): unknown => v
const isString = (v: unknown): v is string => typeof v === 'string'

function text(max: number, pattern?: RegExp): Conv {
  return {
    rule: pattern ? `a string matching ${String(pattern)}` : `a string of 1–${max} characters`,
    toVendor: same,
    fromVendor: (v) => (isString(v) && [...v].length <= max && (pattern === undefined || pattern.test(v)) ? v : undefined),
  }
}

function int(min: number, max: number): Conv {
  return { rule: `an integer from ${min} to ${max}`, toVendor: same, fromVendor: (v) => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? v : undefined) }
}

function code(table: Readonly<Record<string, string>>): Conv {
  const back = new Map(Object.entries(table).map(([std, vendor]) => [vendor, std]))
  return {
    rule: `one of the codes ${[...back.keys()].join(', ')} (a string)`,
    toVendor: (v) => {
      const c = table[v as string]
      if (c === undefined) throw new RangeError('no vendor code for this value')
      return c
    },
    fromVendor: (v) => (isString(v) ? back.get(v) : undefined),
  }
}

const sameCodes = (list: readonly string[]): Conv => code(Object.fromEntries(list.map((c) => [c, c])))

const YUAN: Conv = { rule: '元, a decimal string with at most two decimals (e.g. "4200.00")', toVendor: same, fromVendor: (v) => (isString(v) ? yuanFromVendor(v) : undefined) }
const WAN: Conv = { rule: '万元, a JSON number with at most six decimals (one fen)', toVendor: (v) => wanFromYuan(v as string), fromVendor: (v) => (typeof v === 'number' ? yuanFromWan(v) : undefined) }
const TIME: Conv = { rule: 'local time "YYYY-MM-DD HH:mm:ss" (China Standard Time)', toVendor: (v) => timeToVendor(v as string), fromVendor: (v) => (isString(v) ? timeFromVendor(v) : undefined) }
const DATE: Conv = { rule: 'a date "YYYY-MM-DD"', toVendor: same, fromVendor: (v) => (isString(v) && isVendorDate(v) ? v : undefined) }
const FLAG: Conv = { rule: '"1" (yes) or "0" (no)', toVendor: (v) => (v === true ? '1' : '0'), fromVendor: (v) => (v === '1' ? true : v === '0' ? false : undefined) }
const AREA = text(13, /^(0|[1-9]\d{0,9})(\.\d{1,2})?$/)
const FRACTION = text(8, /^(0|1)(\.\d{1,6})?$/)
/** 流水号: the vendor's serial number of its own message (it makes the message id). */
const SERIAL = text(64, /^[0-9A-Za-z_-]{1,64}$/)

// ── Field tables: vendor field ↔ standard JSON pointer ──────────────────────────────────────

/** 征税信息 zsxx ↔ { id, from, caseId, body: tax.assessment.request }. */
export const ASSESSMENT: FieldTable = [
  { vendor: 'lsh', std: '/id', conv: text(64), required: true },
  { vendor: 'fsf', std: '/from', conv: text(64), required: true },
  { vendor: 'ywh', std: '/caseId', conv: text(64), required: true },
  { vendor: 'sjbh', std: '/body/case/receiptNumber', conv: text(64), required: true },
  { vendor: 'djlx', std: '/body/case/registrationType', conv: sameCodes(SAME_CODES.djlx), required: true },
  { vendor: 'ywlx', std: '/body/case/businessType', conv: code(BUSINESS_TYPE) },
  { vendor: 'slsj', std: '/body/case/acceptedAt', conv: TIME, required: true },
  { vendor: 'tssj', std: '/body/submittedAt', conv: TIME, required: true },
  { vendor: 'bdcdyh', std: '/body/property/unitCode', conv: text(28), required: true },
  { vendor: 'zl', std: '/body/property/location', conv: text(200), required: true },
  { vendor: 'zh', std: '/body/property/building', conv: text(20) },
  { vendor: 'dyh', std: '/body/property/unit', conv: text(20) },
  { vendor: 'fjh', std: '/body/property/room', conv: text(20) },
  { vendor: 'szc', std: '/body/property/floor', conv: int(-10, 200) },
  { vendor: 'zcs', std: '/body/property/totalFloors', conv: int(1, 200) },
  { vendor: 'fwjg', std: '/body/property/structure', conv: code(STRUCTURE) },
  { vendor: 'mj', std: '/body/property/buildingArea', conv: AREA, required: true },
  { vendor: 'tnmj', std: '/body/property/innerArea', conv: AREA },
  { vendor: 'fwyt', std: '/body/property/usage', conv: code(USAGE), required: true },
  { vendor: 'ptzfbz', std: '/body/property/ordinaryResidence', conv: FLAG, required: true },
  { vendor: 'jcnf', std: '/body/property/yearBuilt', conv: int(1800, 2100) },
  { vendor: 'htbh', std: '/body/transaction/contractNumber', conv: text(64), required: true },
  { vendor: 'htqdrq', std: '/body/transaction/contractDate', conv: DATE, required: true },
  { vendor: 'jyjg', std: '/body/transaction/price', conv: WAN, required: true },
  { vendor: 'dj', std: '/body/transaction/unitPrice', conv: YUAN },
  { vendor: 'sfhs', std: '/body/transaction/priceIncludesVat', conv: FLAG, required: true },
  { vendor: 'zyfs', std: '/body/transaction/transferMethod', conv: code(TRANSFER_METHOD), required: true },
  { vendor: 'wqhtbh', std: '/body/transaction/housingContractNumber', conv: text(64) },
  { vendor: 'babh', std: '/body/transaction/housingFilingNumber', conv: text(64) },
  {
    vendor: 'jyfxx', std: '/body/parties', required: true, min: 2, max: 20, items: [
      { vendor: 'zrfcsfbz', std: '/side', conv: code(SIDE), required: true },
      { vendor: 'nsrmc', std: '/name', conv: text(100), required: true },
      { vendor: 'zjzl', std: '/idType', conv: sameCodes(SAME_CODES.zjzl), required: true },
      { vendor: 'zjhm', std: '/idNumber', conv: text(32), required: true },
      { vendor: 'nsrsbh', std: '/taxpayerNumber', conv: text(20) },
      { vendor: 'gj', std: '/nationality', conv: text(3) },
      { vendor: 'lxdh', std: '/phone', conv: text(20) },
      { vendor: 'qlbl', std: '/share', conv: FRACTION, required: true },
      { vendor: 'gyfs', std: '/coOwnership', conv: code(CO_OWNERSHIP) },
      { vendor: 'fwtc', std: '/homesHeld', conv: int(0, 99) },
      { vendor: 'hyzk', std: '/maritalStatus', conv: sameCodes(SAME_CODES.hyzk) },
      { vendor: 'zxqsbz', std: '/closeRelative', conv: FLAG },
      { vendor: 'qdfs', std: '/acquisition/method', conv: code(ACQUISITION) },
      { vendor: 'qdrq', std: '/acquisition/date', conv: DATE },
      { vendor: 'qdjg', std: '/acquisition/cost', conv: YUAN },
      { vendor: 'ybdcqzh', std: '/acquisition/previousCertificateNumber', conv: text(60) },
    ],
  },
]

/** 完税信息 wsxx ↔ { serial, caseId, unitCode, body: tax.payment.completed }. */
export const PAYMENT: FieldTable = [
  { vendor: 'lsh', std: '/serial', conv: SERIAL, required: true },
  { vendor: 'ywh', std: '/caseId', conv: text(64), required: true },
  { vendor: 'bdcdyh', std: '/unitCode', conv: text(28), required: true },
  { vendor: 'sphm', std: '/body/voucherNumber', conv: text(40), required: true },
  { vendor: 'dzsphm', std: '/body/electronicVoucherNumber', conv: text(40) },
  { vendor: 'swjgdm', std: '/body/taxOfficeCode', conv: text(11), required: true },
  { vendor: 'swjgmc', std: '/body/taxOfficeName', conv: text(100) },
  { vendor: 'hdjsjg', std: '/body/assessedPrice', conv: WAN, required: true },
  { vendor: 'ynsehj', std: '/body/totals/due', conv: WAN, required: true },
  { vendor: 'jmsehj', std: '/body/totals/relief', conv: WAN, required: true },
  { vendor: 'sjyzhj', std: '/body/totals/paid', conv: WAN, required: true },
  { vendor: 'wszt', std: '/body/paymentStatus', conv: code(PAYMENT_STATUS), required: true },
  { vendor: 'jkrksj', std: '/body/paidAt', conv: TIME, required: true },
  { vendor: 'fpdm', std: '/body/invoice/code', conv: text(12) },
  { vendor: 'fphm', std: '/body/invoice/number', conv: text(20) },
  {
    vendor: 'mxxx', std: '/body/items', required: true, min: 1, max: 30, items: [
      { vendor: 'zsxm', std: '/item', conv: sameCodes(SAME_CODES.zsxm), required: true },
      { vendor: 'zrfcsfbz', std: '/side', conv: code(SIDE), required: true },
      { vendor: 'jsyj', std: '/basis', conv: YUAN, required: true },
      { vendor: 'sl', std: '/rate', conv: FRACTION, required: true },
      { vendor: 'ynse', std: '/due', conv: YUAN, required: true },
      { vendor: 'jmse', std: '/relief', conv: YUAN, required: true },
      { vendor: 'sjnse', std: '/paid', conv: YUAN, required: true },
      { vendor: 'jmxz', std: '/reliefNature', conv: text(100) },
    ],
  },
]

/** 退回信息 thxx ↔ { serial, caseId, unitCode, body: tax.assessment.rejected }. */
export const REJECTED: FieldTable = [
  { vendor: 'lsh', std: '/serial', conv: SERIAL, required: true },
  { vendor: 'ywh', std: '/caseId', conv: text(64), required: true },
  { vendor: 'bdcdyh', std: '/unitCode', conv: text(28), required: true },
  { vendor: 'thsj', std: '/body/rejectedAt', conv: TIME, required: true },
  { vendor: 'swjgdm', std: '/body/taxOfficeCode', conv: text(11) },
  {
    vendor: 'thyy', std: '/body/reasons', required: true, min: 1, max: 20, items: [
      { vendor: 'yydm', std: '/code', conv: text(32), required: true },
      { vendor: 'yysm', std: '/text', conv: text(500), required: true },
    ],
  },
]

// ── Whole messages ──────────────────────────────────────────────────────────────────────────

/** 征税信息 as the gateway knows it: the envelope's id, sender, case and the standard body. */
export interface AssessmentView {
  /** 流水号: the gateway's exchange id (unique across senders; the same on every retry). */
  readonly id: string
  readonly from: string
  readonly caseId: string
  readonly body: Readonly<Record<string, unknown>>
}

/** 完税信息 or 退回信息 as the gateway knows it: the vendor's serial, the case, and the standard body. */
export interface ResultView {
  readonly serial: string
  readonly caseId: string
  readonly unitCode: string
  readonly body: Record<string, unknown>
}

export type Mapped<T> = { ok: true; value: T } | { ok: false; fault: VendorFault }

/** Standard 征税信息 → vendor JSON. Throws RangeError if the vendor format cannot carry a value. */
export function assessmentToVendor(v: AssessmentView): ZsxxMessage {
  return toVendor(ASSESSMENT, v) as unknown as ZsxxMessage
}

/** Vendor 征税信息 → standard (what the vendor system reads; the reference partner uses it). */
export function assessmentFromVendor(m: unknown): Mapped<AssessmentView> {
  return fromVendor(ASSESSMENT, m) as Mapped<AssessmentView>
}

/** Standard 完税结果 → vendor 完税信息 (what a vendor system writes). */
export function paymentToVendor(v: ResultView): WsxxMessage {
  return toVendor(PAYMENT, v) as unknown as WsxxMessage
}

/** Vendor 完税信息 → standard 完税结果, or the field at fault. */
export function paymentFromVendor(m: unknown): Mapped<ResultView> {
  return fromVendor(PAYMENT, m) as Mapped<ResultView>
}

/** Standard 退回 → vendor 退回信息. */
export function rejectedToVendor(v: ResultView): ThxxMessage {
  return toVendor(REJECTED, v) as unknown as ThxxMessage
}

/** Vendor 退回信息 → standard 退回, or the field at fault. */
export function rejectedFromVendor(m: unknown): Mapped<ResultView> {
  return fromVendor(REJECTED, m) as Mapped<ResultView>
}

// ── Return codes (返回码 fhm), the same list in both directions ─────────────────────────────

export type Outcome = 'accepted' | 'final' | 'retry'

/** Every return code: its text (返回信息 fhxx) and what it means for the sender. */
export const RETURN_CODES = {
  '0000': { fhxx: '接收成功', outcome: 'accepted' },
  '0001': { fhxx: '重复报文，已接收', outcome: 'accepted' },
  '1001': { fhxx: '数据校验不通过', outcome: 'final' },
  '1002': { fhxx: '业务校验不通过', outcome: 'final' },
  '2001': { fhxx: '系统繁忙，请稍后重试', outcome: 'retry' },
  '9001': { fhxx: '签名验证失败', outcome: 'final' },
  '9002': { fhxx: '时间戳超出允许范围', outcome: 'retry' },
} as const satisfies Record<string, { fhxx: string; outcome: Outcome }>

export type ReturnCode = keyof typeof RETURN_CODES

/**
 * The one place that decides what a vendor's return code means for a delivery. Unknown codes
 * follow their family: 1xxx (the data) and 9xxx (authentication) are final — sending the same
 * bytes again cannot help, an operator must look; anything else is retried, since losing a
 * message is worse than sending it twice (the vendor drops repeats by 流水号).
 */
export function outcomeOf(fhm: string): Outcome {
  const known = (RETURN_CODES as Record<string, { outcome: Outcome }>)[fhm]
  if (known !== undefined) return known.outcome
  return /^[19]\d{3}$/.test(fhm) ? 'final' : 'retry'
}

/** The return code the gateway answers with for one of its error codes (and its HTTP status). */
export function returnCodeFor(code: ErrorCode, status: number): ReturnCode {
  if (code === 'TB_ERR_SIGNATURE_INVALID') return '9001'
  if (code === 'TB_ERR_IAT_WINDOW') return '9002'
  if (status >= 500 || code === 'TB_ERR_RATE_LIMITED') return '2001'
  if (code === 'TB_ERR_SCHEMA' || code === 'TB_ERR_BAD_REQUEST' || code === 'TB_ERR_TYPE_UNKNOWN' || code === 'TB_ERR_BODY_TOO_LARGE') return '1001'
  return '1002'
}
