import { digestHex } from '../../src/crypto/index.ts'
import { ERRORS, type ErrorCode } from '../../src/errors.ts'
import type { InboundContext, InboundRequest, InboundResponse, InboundRoute, SubmitResult } from '../../src/outbound/adapter.ts'
import { vendorFieldOf, type FieldTable } from './fields.ts'
import { PAYMENT, REJECTED, RETURN_CODES, paymentFromVendor, rejectedFromVendor, returnCodeFor, type Mapped, type ResultView, type ReturnCode } from './mapping.ts'
import { checkSignature, signatureHeaders } from './signature.ts'
import { parseVendorJson, type GatewayAnswer } from './vendor.ts'

/**
 * The message id of a vendor message: a UUID (version 8, RFC 9562 §5.8) from
 * SHA-256("legacy-tax\n" + participant + "\n" + 流水号). Deterministic, so the vendor's retry
 * of the same bytes gets the original receipt and a reused 流水号 with other bytes is refused.
 */
export function messageIdFor(participantId: string, serial: string): string {
  const b = Buffer.from(digestHex('international', Buffer.from(`legacy-tax\n${participantId}\n${serial}`, 'utf8')), 'hex').subarray(0, 16)
  b[6] = 0x80 | ((b[6] as number) & 0x0f)
  b[8] = 0x80 | ((b[8] as number) & 0x3f)
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

interface Kind {
  readonly path: string
  readonly type: string
  readonly table: FieldTable
  readonly read: (m: unknown) => Mapped<ResultView>
}

/** An answer in the vendor's format, signed with the link's secret like everything on it. */
function answer(ctx: InboundContext, status: number, a: GatewayAnswer): InboundResponse {
  const body = Buffer.from(JSON.stringify(a), 'utf8')
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...signatureHeaders(body, ctx.clock.now(), (d) => ctx.partnerMac('SM3', d)) },
    body,
  }
}

/** A refusal: the return code of `code`, the gateway's code itself, and the vendor field at fault. */
function failure(ctx: InboundContext, code: ErrorCode, text: string, field?: string, status: number = ERRORS[code].status): InboundResponse {
  const fhm = returnCodeFor(code, status)
  return answer(ctx, status, { fhm, fhxx: `${RETURN_CODES[fhm].fhxx}: ${text}`, cwdm: code, ...(field !== undefined ? { cwzd: field } : {}) })
}

/** The answer to what the gateway made of the submitted message; schema faults are named by vendor field. */
function submitted(ctx: InboundContext, kind: Kind, serial: string, r: SubmitResult): InboundResponse {
  if (r.ok) {
    const fhm: ReturnCode = r.status === 200 ? '0001' : '0000'
    return answer(ctx, r.status, { fhm, fhxx: RETURN_CODES[fhm].fhxx, lsh: serial, jhbh: r.exchangeId, hzzy: r.digest, hz: r.receipt })
  }
  const v = r.violations?.[0]
  const field = v === undefined ? undefined : vendorFieldOf(kind.table, v.pointer) ?? v.pointer
  const text = v === undefined ? r.message : `字段 ${field} 不符合规则 ${v.rule}: ${v.message}`
  return failure(ctx, r.code, text, field, r.status)
}

async function handle(kind: Kind, req: InboundRequest, ctx: InboundContext): Promise<InboundResponse> {
  const log = (status: number, fields: Record<string, unknown>): void =>
    ctx.logger.info({ adapter: 'legacy-tax', participant: req.participant.id, route: kind.path, status, ...fields }, 'legacy-tax inbound')

  const auth = checkSignature(req.headers, req.body, ctx.clock.now(), (data, mac) => ctx.verifyPartnerMac('SM3', data, mac))
  if (auth !== 'ok') {
    log(auth === 'stale' ? 400 : 401, { auth })
    return auth === 'stale'
      ? failure(ctx, 'TB_ERR_IAT_WINDOW', 'X-Tb-Timestamp 与网关时间相差超过 300 秒')
      : failure(ctx, 'TB_ERR_SIGNATURE_INVALID', 'X-Tb-Signature 缺失或不正确')
  }
  const parsed = parseVendorJson(req.body)
  const mapped = parsed.ok ? kind.read(parsed.value) : parsed
  if (!mapped.ok) {
    // The fault names the field and the rule, never the value (it may be personal data).
    const { field, rule } = mapped.fault
    log(400, { field })
    return field === '(body)' ? failure(ctx, 'TB_ERR_BAD_REQUEST', rule) : failure(ctx, 'TB_ERR_SCHEMA', `字段 ${field} ${rule}`, field)
  }
  const { serial, caseId, unitCode, body } = mapped.value
  const id = messageIdFor(req.participant.id, serial)
  let r: SubmitResult
  try {
    r = await ctx.submit({ id, type: kind.type, caseId, unitCode, body }, req.body)
  } catch (err) {
    // submit() answers every refusal itself: this is the gateway failing. Answer in the vendor's format.
    ctx.logger.error({ adapter: 'legacy-tax', participant: req.participant.id, route: kind.path, lsh: serial, err }, 'legacy-tax inbound failed')
    return failure(ctx, 'TB_ERR_UNAVAILABLE', '网关暂时无法处理，请稍后重试')
  }
  log(r.status, { lsh: serial, messageId: id, ...(r.ok ? { exchangeId: r.exchangeId } : { code: r.code }) })
  return submitted(ctx, kind, serial, r)
}

function route(kind: Kind): InboundRoute {
  return { path: kind.path, handle: (req, ctx) => handle(kind, req, ctx) }
}

/** POST …/wsxx (完税信息 → tax.payment.completed) and …/thxx (退回信息 → tax.assessment.rejected). */
export const INBOUND_ROUTES: readonly InboundRoute[] = [
  route({ path: 'wsxx', type: 'tax.payment.completed', table: PAYMENT, read: paymentFromVendor }),
  route({ path: 'thxx', type: 'tax.assessment.rejected', table: REJECTED, read: rejectedFromVendor }),
]
