import type { FastifyInstance } from 'fastify'
import { TongbanError } from '../../errors.ts'
import { listByStatus } from '../../store/deliveries.ts'
import { closeStepAsOperator } from '../../core/steps.ts'
import { callerOf, requireOperator } from '../auth.ts'
import { UUID_RE } from '../../util/ids.ts'
import { answers, Deliveries, Reloaded, Replayed, StepClosed } from '../responses.ts'

/** Operator endpoints (operator role only). */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', requireOperator)

  app.get<{ Querystring: { status?: string; limit?: string } }>('/v1/admin/deliveries', { schema: { response: answers({ 200: Deliveries }) } }, async (request) => {
    const status = request.query.status ?? 'dead'
    if (status !== 'pending' && status !== 'delivered' && status !== 'dead') throw new TongbanError('TB_ERR_BAD_REQUEST', 'status must be pending, delivered or dead')
    const limit = Math.min(500, Math.max(1, Number(request.query.limit ?? 100) || 100))
    const rows = await listByStatus(app.tb.db, status, limit)
    const caller = callerOf(request)
    await app.tb.ledger.write('operator.action', { operator: caller.kind === 'operator' ? caller.operator.id : 'unknown', action: 'read', target: `deliveries?status=${status}`, outcome: String(rows.length) })
    return { deliveries: rows.map((d) => ({ deliveryId: d.id, exchangeId: d.exchangeId, recipient: d.recipient, status: d.status, attempts: d.attempts, lastError: d.lastError, updatedAt: d.updatedAt.toISOString() })) }
  })

  // The one JSON body the gateway takes (an operator's reason); small, parsed with Fastify's
  // prototype-poisoning-safe parser, in this plugin's scope only.
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 4096 }, app.getDefaultJsonParser('error', 'error'))

  app.post<{ Params: { caseId: string; stepId: string }; Body: unknown }>('/v1/admin/cases/:caseId/steps/:stepId/close', { schema: { response: answers({ 200: StepClosed }) } }, async (request, reply) => {
    const caller = callerOf(request)
    const operator = caller.kind === 'operator' ? caller.operator.id : 'unknown'
    const body = request.body
    const reason = typeof body === 'object' && body !== null ? (body as { reason?: unknown }).reason : undefined
    await closeStepAsOperator(app.tb.db, app.tb.ledger, { caseId: request.params.caseId, stepId: request.params.stepId, operator, reason, at: app.tb.clock.now() })
    app.log.info({ caseId: request.params.caseId, stepId: request.params.stepId, operator }, 'case step closed by an operator')
    return reply.code(200).send({ caseId: request.params.caseId, stepId: request.params.stepId, status: 'cancelled' })
  })

  app.post('/v1/admin/directory/reload', { schema: { response: answers({ 200: Reloaded }) } }, async (request) => {
    const caller = callerOf(request)
    const operator = caller.kind === 'operator' ? caller.operator.id : 'unknown'
    return app.tb.reloadDirectory(operator)
  })

  app.post<{ Params: { id: string } }>('/v1/admin/deliveries/:id/replay', { schema: { response: answers({ 202: Replayed }) } }, async (request, reply) => {
    if (!UUID_RE.test(request.params.id)) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such delivery')
    const caller = callerOf(request)
    const operator = caller.kind === 'operator' ? caller.operator.id : 'unknown'
    const d = await app.tb.delivery.replay(request.params.id, operator)
    return reply.code(202).send({ deliveryId: d.id, status: d.status, attempts: d.attempts })
  })
}
