import type { FastifyInstance } from 'fastify'
import { bareJwsAllowed, unwrapToJws } from '../../core/verify.ts'
import { participantOf, requireCaller } from '../auth.ts'
import { joseBytes } from '../content.ts'
import { participantRateLimit } from '../quotas.ts'
import { answers, CompactJws } from '../responses.ts'

/**
 * POST /v1/batches (批量办理): many messages of one sender in one request and one JWE; each is
 * accepted on its own (src/core/batches.ts). 202 with the gateway's signed batch receipt; 200
 * with the same receipt for the same batch again. Each of its messages counts against the
 * sender's messagesPerMinute (core/batches.ts charge), and the batch requests themselves too;
 * its body may be up to limits.batchBytes.
 */
export async function batchRoutes(app: FastifyInstance): Promise<void> {
  const quota = participantRateLimit(app.tb.config, 'messagesPerMinute', 'messages')
  app.post('/v1/batches', { bodyLimit: app.tb.config.limits.batchBytes, schema: { response: answers({ 200: CompactJws, 202: CompactJws }) }, onRequest: requireCaller, config: { rateLimit: quota } }, async (request, reply) => {
    const tb = app.tb
    const sender = participantOf(request)
    const raw = joseBytes(request)
    const jws = await unwrapToJws(raw.toString('latin1').trim(), tb.keyring, bareJwsAllowed(sender, request.ip))
    const result = await tb.batches.accept(raw, jws, sender)
    return reply.code(result.status).type('application/jose').send(result.receipt)
  })
}
