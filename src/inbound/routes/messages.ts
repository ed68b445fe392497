import { ownerId } from '../../core/verify.ts'
import type { FastifyInstance } from 'fastify'
import { exchangeView } from '../../core/views.ts'
import { TongbanError } from '../../errors.ts'
import { UUID_RE } from '../../util/ids.ts'
import { callerOf, participantOf, requireCaller } from '../auth.ts'
import { joseBytes } from '../content.ts'
import { decodeMessage } from '../decode.ts'
import { participantRateLimit } from '../quotas.ts'
import { answers, CompactJws, ExchangeView } from '../responses.ts'

/** POST /v1/messages (async, 202 + signed receipt) and GET /v1/exchanges/:id. */
export async function messageRoutes(app: FastifyInstance): Promise<void> {
  // The sender's per-minute quota (shared by every instance) is checked after its token.
  const quota = participantRateLimit(app.tb.config, 'messagesPerMinute', 'messages')
  app.post('/v1/messages', { schema: { response: answers({ 200: CompactJws, 202: CompactJws }) }, onRequest: requireCaller, config: { rateLimit: quota } }, async (request, reply) => {
    const tb = app.tb
    const started = performance.now()
    const sender = participantOf(request)
    const decoded = await decodeMessage(joseBytes(request), sender, tb, request.ip)
    const result = await tb.accept.accept(decoded, sender)
    tb.metrics.accepted.inc({ type: decoded.envelope.type, suite: decoded.suite, repeat: String(result.status === 200) })
    tb.metrics.acceptSeconds.observe({ suite: decoded.suite }, (performance.now() - started) / 1000)
    return reply
      .code(result.status)
      .header('tongban-exchange-id', result.exchangeId)
      .type('application/jose')
      .send(result.receipt)
  })

  app.get<{ Params: { id: string } }>('/v1/exchanges/:id', { schema: { response: answers({ 200: ExchangeView }) }, onRequest: requireCaller }, async (request) => {
    const id = request.params.id
    if (!UUID_RE.test(id)) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such exchange visible to you')
    const caller = callerOf(request)
    const view = await exchangeView(app.tb.db, id, caller, app.tb.clock.now())
    // On record before it is answered (the personal-data access log).
    await app.tb.ledger.write('case.read', { reader: ownerId(caller), what: 'exchange', ref: id })
    return view
  })
}
