import type { FastifyInstance } from 'fastify'
import { caseView } from '../../core/views.ts'
import { callerOf, requireCaller } from '../auth.ts'

/** GET /v1/cases/:caseId: status and timeline, only for participants of that case. */
export async function caseRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { caseId: string } }>('/v1/cases/:caseId', { onRequest: requireCaller }, async (request) => {
    return caseView(app.tb.db, request.params.caseId, callerOf(request), app.tb.clock.now())
  })
}
