import type { Dispatcher } from 'undici'
import { CTY_JWS } from '../../src/crypto/index.ts'
import { DELIVERY_HEADER, DeliveryError, type AdapterContext, type DeliveryFacts, type OutboundMessage, type OutboundQuery, type PartnerAdapter } from '../../src/outbound/adapter.ts'
import { classifyStatus } from '../../src/outbound/retry.ts'

/**
 * POSTs the sender's JWS, encrypted to the partner, to `endpoint` with the Tongban headers and
 * the gateway's signed delivery statement.
 */
async function post(ctx: AdapterContext, endpoint: string | undefined, facts: DeliveryFacts, headers: Record<string, string>, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
  if (endpoint === undefined) throw new DeliveryError('NO_ENDPOINT', `${ctx.recipient.id} has no endpoint for this`)
  const body = await ctx.encryptForRecipient(Buffer.from(facts.jws, 'latin1'), { cty: CTY_JWS })
  const statement = await ctx.deliveryStatement(facts)
  const url = new URL(endpoint)
  return ctx.http(endpoint).request({
    method: 'POST', path: url.pathname + url.search, body, ...(signal ? { signal } : {}),
    headers: { 'content-type': 'application/jose', [DELIVERY_HEADER]: statement, ...headers },
  })
}

/**
 * The native adapter speaks Tongban's own protocol to the partner: it POSTs the sender's
 * original JWS, encrypted to the partner's key, with the exchange and message ids as headers
 * (so the partner can drop a repeat). A 2xx is delivery. Queries go the same way to the
 * partner's query endpoint, whose 200 answer is the partner's signed answer, encrypted to the gateway.
 */
export const nativeAdapter: PartnerAdapter = {
  name: 'native',
  auth: 'jose',

  async deliver(message: OutboundMessage, ctx: AdapterContext): Promise<void> {
    const res = await post(ctx, ctx.recipient.endpoint, message, {
      'tongban-exchange-id': message.exchangeId,
      'tongban-message-id': message.messageId,
      'tongban-delivery-id': message.deliveryId,
      'tongban-message-type': message.type,
      'tongban-attempt': String(message.attempt),
    })
    // The partner's answer body is never stored or logged: it may carry personal data.
    await res.body.dump()
    const failure = classifyStatus(res.statusCode)
    if (failure) throw failure
  },

  async query(query: OutboundQuery, ctx: AdapterContext, signal: AbortSignal): Promise<string> {
    const res = await post(ctx, ctx.recipient.queryEndpoint, { queryId: query.queryId, messageId: query.messageId, sender: query.sender, jws: query.jws }, {
      'tongban-query-id': query.queryId,
      'tongban-message-id': query.messageId,
      'tongban-message-type': query.type,
    }, signal)
    if (res.statusCode !== 200) {
      await res.body.dump()
      throw classifyStatus(res.statusCode) ?? new DeliveryError('PARTNER_BAD_ANSWER', `partner answered ${res.statusCode}`, { httpStatus: res.statusCode })
    }
    return res.body.text()
  },
}

export default nativeAdapter
