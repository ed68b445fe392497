import { ownerId } from '../../core/verify.ts'
import type { FastifyInstance } from 'fastify'
import { isTongbanError, TongbanError } from '../../errors.ts'
import { ruleFor } from '../../core/message-types.ts'
import { listQueries, queryProblem } from '../../store/queries.ts'
import { UUID_RE } from '../../util/ids.ts'
import { callerOf, participantOf, requireCaller } from '../auth.ts'
import { joseBytes } from '../content.ts'
import { decodeMessage } from '../decode.ts'
import { InFlightSlots, limitFailureLog, limitsPrefix, participantRateLimit, takeQuerySlot } from '../quotas.ts'
import { answers, CompactJwe, QueryList, QueryProblem } from '../responses.ts'

/**
 * POST /v1/queries: a synchronous query (e.g. a bank's mortgage query); 200 with the answer,
 * a JWE to the asker of a JWS signed by the gateway. GET /v1/queries: the record of queries
 * (who asked whom, about what, when, why, and how it ended): one's own, or all for operators.
 */
export async function queryRoutes(app: FastifyInstance): Promise<void> {
  const { config, redis, clock, logger } = app.tb
  // The asker's per-minute quota (after its token), and its queries waiting for partners at once:
  // one bank's flood must not hold every slot of a partner nor open its circuit for the others.
  const quota = participantRateLimit(config, 'queriesPerMinute', 'queries')
  // A slot never given back (a crashed instance) lapses once no query could still be running.
  const slots = new InFlightSlots(redis, limitsPrefix(config), { ttlMs: config.queries.timeoutMs + 10_000, clock, onError: limitFailureLog(logger, clock) })
  app.post('/v1/queries', { schema: { response: answers({ 200: CompactJwe }) }, onRequest: requireCaller, config: { rateLimit: quota } }, async (request, reply) => {
    const tb = app.tb
    const asker = participantOf(request)
    // Taken before anything is read or written: a refusal leaves no row and burns no nonce.
    const release = await takeQuerySlot(slots, config, request, reply, asker)
    try {
      const decoded = await decodeMessage(joseBytes(request), asker, tb, request.ip)
      // A metric label takes only known values: an unknown type (the sender's free text) is 'unknown'.
      const type = ruleFor(decoded.envelope.type) ? decoded.envelope.type : 'unknown'
      const result = await tb.queries.ask(decoded, asker).catch((err: unknown) => {
        tb.metrics.queries.inc({ type, outcome: isTongbanError(err) ? err.code : 'error' })
        throw err
      })
      tb.metrics.queries.inc({ type, outcome: 'answered' })
      return reply.code(200).header('tongban-query-id', result.queryId).type('application/jose').send(result.answer)
    } finally {
      await release()
    }
  })

  // Why a query ended as it did, for its asker, the partner that answered (which learns what was
  // wrong with its answer) and operators: the reason and violations, never the answer's values.
  app.get<{ Params: { id: string } }>('/v1/queries/:id/problem', { schema: { response: answers({ 200: QueryProblem }) }, onRequest: requireCaller }, async (request) => {
    const caller = callerOf(request)
    const me = ownerId(caller)
    const q = UUID_RE.test(request.params.id) ? await queryProblem(app.tb.db, request.params.id) : undefined
    if (q === undefined || (caller.kind === 'participant' && me !== q.asker && me !== q.responder)) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such query visible to you')
    await app.tb.ledger.write('case.read', { reader: me, what: 'queries', ref: q.id })
    return {
      queryId: q.id, type: q.type, messageId: q.messageId, asker: q.asker, responder: q.responder, outcome: q.outcome, errorCode: q.errorCode,
      answeredAt: q.answeredAt?.toISOString() ?? null, reason: q.problem?.reason ?? null, violations: q.problem?.violations ?? [],
    }
  })

  app.get<{ Querystring: { limit?: string } }>('/v1/queries', { schema: { response: answers({ 200: QueryList }) }, onRequest: requireCaller }, async (request) => {
    const { limit } = request.query
    if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit)) {
      throw new TongbanError('TB_ERR_BAD_REQUEST', 'limit must be an integer from 1 to 9999', { violations: [{ pointer: '/query/limit', rule: 'pattern', message: 'limit must be an integer from 1 to 9999' }] })
    }
    const caller = callerOf(request)
    const rows = await listQueries(app.tb.db, caller.kind === 'participant' ? caller.participant.id : undefined, Math.min(500, Number(limit ?? 100)))
    await app.tb.ledger.write('case.read', { reader: ownerId(caller), what: 'queries', count: rows.length })
    return {
      queries: rows.map((q) => ({
        queryId: q.id, asker: q.asker, messageId: q.messageId, type: q.type, responder: q.responder, unitCode: q.unitCode,
        certificateNo: q.certificateNo, purpose: q.purpose, applicationNo: q.applicationNo, askedAt: q.askedAt.toISOString(),
        answeredAt: q.answeredAt?.toISOString() ?? null, outcome: q.outcome, errorCode: q.errorCode,
      })),
    }
  })
}
