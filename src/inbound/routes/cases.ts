import type { FastifyInstance } from 'fastify'
import { caseView } from '../../core/views.ts'
import { TongbanError } from '../../errors.ts'
import { listCases } from '../../store/cases.ts'
import { callerOf, requireCaller } from '../auth.ts'

/**
 * GET /v1/cases/:caseId: status and timeline, only for participants of that case (and operators).
 * GET /v1/cases[?overdue=true]: the caller's cases, newest first; with overdue=true only those
 * with a step waiting past its deadline (审核时限预警).
 */
export async function caseRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { caseId: string } }>('/v1/cases/:caseId', { onRequest: requireCaller }, async (request) => {
    return caseView(app.tb.db, request.params.caseId, callerOf(request), app.tb.clock.now())
  })

  app.get<{ Querystring: { overdue?: string; limit?: string } }>('/v1/cases', { onRequest: requireCaller }, async (request) => {
    const { overdue, limit } = request.query
    if (overdue !== undefined && overdue !== 'true' && overdue !== 'false') {
      throw new TongbanError('TB_ERR_BAD_REQUEST', 'overdue must be true or false', { violations: [{ pointer: '/query/overdue', rule: 'enum', message: 'overdue must be true or false' }] })
    }
    if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit)) {
      throw new TongbanError('TB_ERR_BAD_REQUEST', 'limit must be an integer from 1 to 9999', { violations: [{ pointer: '/query/limit', rule: 'pattern', message: 'limit must be an integer from 1 to 9999' }] })
    }
    const caller = callerOf(request)
    const now = app.tb.clock.now()
    const cases = await listCases(app.tb.db, {
      now,
      participant: caller.kind === 'participant' ? caller.participant.id : undefined,
      overdueOnly: overdue === 'true',
      limit: Math.min(500, Number(limit ?? 100)),
    })
    return { cases: cases.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })), asOf: now.toISOString() }
  })
}
