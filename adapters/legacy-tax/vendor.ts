/**
 * The vendor format's messages as TypeScript types, and the strict reading of its JSON bytes.
 * README.md beside this file is the specification; mapping.ts holds the field tables.
 */

/** 交易方信息: one party of 征税信息 (gateway → vendor). */
export interface JyfxxItem {
  zrfcsfbz: string
  nsrmc: string
  zjzl: string
  zjhm: string
  nsrsbh?: string
  gj?: string
  lxdh?: string
  qlbl: string
  gyfs?: string
  fwtc?: number
  hyzk?: string
  zxqsbz?: '0' | '1'
  qdfs?: string
  qdrq?: string
  qdjg?: string
  ybdcqzh?: string
}

/** 征税信息 (POST to the vendor's endpoint): the tax-assessment data of one transfer case. */
export interface ZsxxMessage {
  lsh: string
  fsf: string
  ywh: string
  sjbh: string
  djlx: string
  ywlx?: string
  slsj: string
  tssj: string
  bdcdyh: string
  zl: string
  zh?: string
  dyh?: string
  fjh?: string
  szc?: number
  zcs?: number
  fwjg?: string
  mj: string
  tnmj?: string
  fwyt: string
  ptzfbz: '0' | '1'
  jcnf?: number
  htbh: string
  htqdrq: string
  /** 万元 */
  jyjg: number
  dj?: string
  sfhs: '0' | '1'
  zyfs: string
  wqhtbh?: string
  babh?: string
  jyfxx: JyfxxItem[]
}

/** 税种明细: one tax line of 完税信息. */
export interface MxxxItem {
  zsxm: string
  zrfcsfbz: string
  jsyj: string
  sl: string
  ynse: string
  jmse: string
  sjnse: string
  jmxz?: string
}

/** 完税信息 (vendor → POST …/wsxx): the case's taxes are assessed and paid. */
export interface WsxxMessage {
  lsh: string
  ywh: string
  bdcdyh: string
  sphm: string
  dzsphm?: string
  swjgdm: string
  swjgmc?: string
  /** 万元 */
  hdjsjg: number
  /** 万元 */
  ynsehj: number
  /** 万元 */
  jmsehj: number
  /** 万元 */
  sjyzhj: number
  wszt: string
  jkrksj: string
  fpdm?: string
  fphm?: string
  mxxx: MxxxItem[]
}

/** 退回原因 */
export interface ThyyItem {
  yydm: string
  yysm: string
}

/** 退回信息 (vendor → POST …/thxx): the case's tax data is returned with reasons. */
export interface ThxxMessage {
  lsh: string
  ywh: string
  bdcdyh: string
  thsj: string
  swjgdm?: string
  thyy: ThyyItem[]
}

/** The vendor's answer to 征税信息. */
export interface VendorAnswer {
  fhm: string
  fhxx?: string
  /** 流水号 of the request it answers (echoed: an answer to another request is not this one's). */
  lsh?: string
}

/** The gateway's answer to 完税信息 / 退回信息. */
export interface GatewayAnswer {
  fhm: string
  fhxx: string
  /** 流水号 of the request (on success). */
  lsh?: string
  /** 交换编号: the gateway's exchange id (on success). */
  jhbh?: string
  /** 回执摘要: the receipt's digest of the exact request bytes, hex (on success). */
  hzzy?: string
  /** 回执: the gateway's signed receipt, compact JWS (on success). */
  hz?: string
  /** 错误代码: the gateway's stable TB_ERR_* code (on failure). */
  cwdm?: string
  /** 错误字段: the vendor field at fault, e.g. mxxx[0].ynse (on a data failure). */
  cwzd?: string
}

/** A vendor field that breaks the format, named without its value. */
export interface VendorFault {
  readonly field: string
  readonly rule: string
}

/**
 * A field name as it may appear in an answer or a log: the format's names are pinyin initials,
 * so anything else (a key the vendor filled with a name or a number by mistake) is not repeated.
 */
export function safeFieldName(key: string): string {
  return /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(key) ? key : '(a field name outside the format)'
}

// A JSON number literal the format accepts: no exponent, ≤ 9 integer digits, ≤ 6 decimals, so
// that it has at most 15 significant digits and a double carries it exactly (units.ts).
const NUMBER_OK = /^-?(0|[1-9]\d{0,8})(\.\d{1,6})?$/
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/** The first number literal (outside strings) the format refuses, named by the key before it. */
function badNumber(text: string): VendorFault | undefined {
  let key = '(body)'
  let lastString = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      lastString = text.slice(i + 1, j)
      i = j
    } else if (c === ':') {
      key = safeFieldName(lastString)
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER_TOKEN.lastIndex = i
      const m = NUMBER_TOKEN.exec(text)
      if (m === null) return undefined // not a number: JSON.parse will say so
      if (!NUMBER_OK.test(m[0])) return { field: key, rule: 'a number has no exponent, at most 9 integer digits and at most 6 decimals' }
      i += m[0].length - 1
    }
  }
  return undefined
}

/**
 * Reads the vendor's bytes: UTF-8 (strict), a JSON object, and number literals no finer than
 * the format allows (checked on the text, since JSON.parse would silently round them).
 */
export function parseVendorJson(raw: Buffer): { ok: true; value: Record<string, unknown> } | { ok: false; fault: VendorFault } {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw)
  } catch {
    return { ok: false, fault: { field: '(body)', rule: 'the body must be UTF-8' } }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, fault: { field: '(body)', rule: 'the body must be one JSON object' } }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, fault: { field: '(body)', rule: 'the body must be one JSON object' } }
  const bad = badNumber(text)
  if (bad !== undefined) return { ok: false, fault: bad }
  return { ok: true, value: value as Record<string, unknown> }
}
