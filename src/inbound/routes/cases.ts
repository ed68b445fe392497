import { buildEvidence } from '../../ledger/evidence.ts'
import { ownerId } from '../../core/verify.ts'
import type { FastifyInstance } from 'fastify'
import { caseIdFault } from '../../core/formats.ts'
import { caseView, seesOnlyItsOwn } from '../../core/views.ts'
import { TongbanError } from '../../errors.ts'
import { listCases } from '../../store/cases.ts'
import { callerOf, requireCaller } from '../auth.ts'
import { answers, CaseList, CaseView, CompactJws } from '../responses.ts'

/**
 * GET /v1/cases/:caseId: status and timeline, only for participants of that case (and operators);
 * a malformed case id is 400 TB_ERR_BAD_REQUEST, a case not visible to the caller 404.
 * GET /v1/cases[?overdue=true]: the caller's cases, newest first; with overdue=true only those
 * with a step waiting past its deadline (审核时限预警).
 */
export async function caseRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { caseId: string } }>('/v1/cases/:caseId', { schema: { response: answers({ 200: CaseView }) }, onRequest: requireCaller }, async (request) => {
    const { caseId } = request.params
    // The format is public (docs/protocol.md): saying an id is malformed tells nothing about any case.
    const fault = caseIdFault(caseId)
    if (fault !== null) throw new TongbanError('TB_ERR_BAD_REQUEST', 'not a case id', { violations: [{ pointer: '/params/caseId', rule: `format:case-id`, message: fault.message }] })
    const caller = callerOf(request)
    const view = await caseView(app.tb.db, caseId, caller, app.tb.clock.now())
    // On record before it is answered (the personal-data access log).
    await app.tb.ledger.write('case.read', { reader: ownerId(caller), what: 'case', ref: caseId })
    return view
  })

  // The case's evidence package (证据包, docs/ledger.md §8): a participant's own exchanges, signed by the gateway.
  app.get<{ Params: { caseId: string } }>('/v1/cases/:caseId/evidence', { schema: { response: answers({ 200: CompactJws }) }, onRequest: requireCaller }, async (request, reply) => {
    const { caseId } = request.params
    const fault = caseIdFault(caseId)
    if (fault !== null) throw new TongbanError('TB_ERR_BAD_REQUEST', 'not a case id', { violations: [{ pointer: '/params/caseId', rule: `format:case-id`, message: fault.message }] })
    const tb = app.tb
    if (!tb.ledger.enabled) throw new TongbanError('TB_ERR_UNAVAILABLE', 'this gateway runs without its ledger (ledger.enabled is false)')
    const caller = callerOf(request)
    const me = ownerId(caller)
    const pkg = await buildEvidence({ db: tb.db, ledger: tb.ledger, keyring: tb.keyring, directory: tb.directory, now: tb.clock.now() }, caseId, caller.kind === 'participant' ? me : undefined, me)
    if (pkg === undefined) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such case visible to you')
    await tb.ledger.write('case.read', { reader: me, what: 'evidence', ref: caseId })
    return reply.type('application/jose').send(pkg)
  })

  app.get<{ Querystring: { overdue?: string; limit?: string } }>('/v1/cases', { schema: { response: answers({ 200: CaseList }) }, onRequest: requireCaller }, async (request) => {
    const { overdue, limit } = request.query
    if (overdue !== undefined && overdue !== 'true' && overdue !== 'false') {
      throw new TongbanError('TB_ERR_BAD_REQUEST', 'overdue must be true or false', { violations: [{ pointer: '/query/overdue', rule: 'enum', message: 'overdue must be true or false' }] })
    }
    if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit)) {
      throw new TongbanError('TB_ERR_BAD_REQUEST', 'limit must be an integer from 1 to 9999', { violations: [{ pointer: '/query/limit', rule: 'pattern', message: 'limit must be an integer from 1 to 9999' }] })
    }
    const caller = callerOf(request)
    if (seesOnlyItsOwn(caller)) throw new TongbanError('TB_ERR_FORBIDDEN', 'a utility company reads no cases: its transfer notices carry what it needs')
    const now = app.tb.clock.now()
    const cases = await listCases(app.tb.db, {
      now,
      participant: caller.kind === 'participant' ? caller.participant.id : undefined,
      overdueOnly: overdue === 'true',
      limit: Math.min(500, Number(limit ?? 100)),
    })
    await app.tb.ledger.write('case.read', { reader: ownerId(caller), what: 'cases', count: cases.length })
    return { cases: cases.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })), asOf: now.toISOString() }
  })
}
