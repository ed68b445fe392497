import type { Dispatcher } from 'undici'
import { DeliveryError, type AdapterContext, type OutboundMessage, type PartnerAdapter } from '../../src/outbound/adapter.ts'
import { classifyStatus } from '../../src/outbound/retry.ts'
import { INBOUND_ROUTES } from './inbound.ts'
import { assessmentToVendor, outcomeOf } from './mapping.ts'
import { checkSignature, signatureHeaders } from './signature.ts'
import type { ZsxxMessage } from './vendor.ts'

/** The vendor's answer is a few fields: anything larger is not an answer. */
const ANSWER_LIMIT = 64 * 1024

/**
 * The legacy tax adapter: for a tax system that speaks an older vendor format (flat JSON,
 * pinyin-initial field names, 元 strings and 万元 numbers, local times) and authenticates with
 * an HMAC-SM3 header instead of JOSE. It delivers 征税信息 (tax.assessment.request) and owns
 * the routes the vendor posts 完税信息 and 退回信息 to. README.md beside it is the format's spec.
 */
export const legacyTaxAdapter: PartnerAdapter = {
  name: 'legacy-tax',
  auth: 'shared-secret',
  types: ['tax.assessment.request'],
  inbound: INBOUND_ROUTES,

  async deliver(message: OutboundMessage, ctx: AdapterContext): Promise<void> {
    const endpoint = ctx.recipient.endpoint
    if (endpoint === undefined) throw new DeliveryError('NO_ENDPOINT', 'the recipient has no endpoint')
    if (message.type !== 'tax.assessment.request') throw new DeliveryError('TYPE_UNSUPPORTED', `the legacy-tax adapter cannot deliver ${message.type}`)
    let vendor: ZsxxMessage
    try {
      // 流水号 = the exchange id (a message id is unique only per sender): the vendor drops a
      // repeat of a message it already has, and echoes it in its answer.
      vendor = assessmentToVendor({ id: message.exchangeId, from: message.sender, caseId: message.envelope.caseId ?? '', body: message.envelope.body })
    } catch (err) {
      throw new DeliveryError('MAPPING', 'the message cannot be written in the vendor format', { cause: err })
    }
    const body = Buffer.from(JSON.stringify(vendor), 'utf8')
    const url = new URL(endpoint)
    const res = await ctx.http(endpoint).request({
      method: 'POST',
      path: url.pathname + url.search,
      headers: { 'content-type': 'application/json; charset=utf-8', ...signatureHeaders(body, ctx.clock.now(), (d) => ctx.partnerMac('SM3', d)) },
      body,
    })
    const status = res.statusCode
    if (status < 200 || status >= 300) {
      await res.body.dump()
      throw classifyStatus(status) ?? new DeliveryError('PARTNER_BAD_ANSWER', `partner answered ${status}`, { httpStatus: status })
    }
    const fhm = await readAnswer(res, ctx, message.exchangeId)
    const outcome = outcomeOf(fhm)
    // Only codes: the answer's text (返回信息) is the vendor's free text and may name a person.
    ctx.logger.debug({ adapter: 'legacy-tax', deliveryId: message.deliveryId, messageId: message.messageId, attempt: message.attempt, fhm, outcome }, 'legacy-tax answer')
    if (outcome === 'final') throw new DeliveryError('PARTNER_REJECTED', `the tax system refused the message (fhm ${fhm})`, { httpStatus: status })
    if (outcome === 'retry') throw new DeliveryError('PARTNER_BUSY', `the tax system asked to try again later (fhm ${fhm})`, { httpStatus: status })
  },
}

/**
 * The vendor's answer code, once its signature is checked. An answer that is not authentic or
 * not readable is retried: the vendor may not have the message, and a repeat is harmless.
 */
async function readAnswer(res: Dispatcher.ResponseData, ctx: AdapterContext, lsh: string): Promise<string> {
  const bad = (why: string): DeliveryError => new DeliveryError('PARTNER_BAD_ANSWER', `the tax system's answer ${why}`, { httpStatus: res.statusCode })
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length
    if (size > ANSWER_LIMIT) {
      res.body.destroy()
      throw bad('is too large')
    }
    chunks.push(chunk as Buffer)
  }
  const raw = Buffer.concat(chunks)
  const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v]))
  const auth = checkSignature(headers, raw, ctx.clock.now(), (data, mac) => ctx.verifyPartnerMac('SM3', data, mac))
  if (auth !== 'ok') throw bad(`is not authentic (${auth})`)
  let fhm: unknown
  let echoed: unknown
  try {
    const answer = JSON.parse(raw.toString('utf8')) as { fhm?: unknown; lsh?: unknown }
    fhm = answer.fhm
    echoed = answer.lsh
  } catch {
    throw bad('is not JSON')
  }
  // A signed answer is bound to its request by the echoed 流水号: a replayed answer to another
  // request (within the signature's time window) does not count for this one.
  if (echoed !== lsh) throw bad('answers another request (lsh)')
  if (typeof fhm !== 'string' || !/^\d{4}$/.test(fhm)) throw bad('has no return code (fhm)')
  return fhm
}

export default legacyTaxAdapter
