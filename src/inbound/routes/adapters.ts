import type { FastifyInstance } from 'fastify'
import { isTongbanError, TongbanError } from '../../errors.ts'
import type { InboundContext, SubmitResult } from '../../outbound/adapter.ts'
import { AdapterAnswer } from '../responses.ts'

/**
 * The routes adapters own for partners that cannot speak the native protocol:
 * POST /v1/adapters/<adapter>/<participant id>/<path>. The body is handed over as raw bytes
 * (the partner's MAC covers them); the adapter authenticates, maps, and submits.
 */
export async function adapterRoutes(app: FastifyInstance): Promise<void> {
  const tb = app.tb
  for (const adapter of tb.adapters.values()) {
    if (adapter.inbound === undefined || adapter.inbound.length === 0) continue
    await app.register(async (scope) => {
      // Partners of these routes send their own formats (JSON, XML…): take any body as bytes,
      // whatever parsers the rest of the gateway has.
      scope.removeAllContentTypeParsers()
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: tb.config.limits.bodyBytes }, (_request, body, done) => done(null, body))
      for (const route of adapter.inbound ?? []) {
        const limit = { rateLimit: { max: tb.config.limits.adapterRequestsPerMinute, timeWindow: 60_000 } }
        scope.post<{ Params: { participant: string } }>(`/v1/adapters/${adapter.name}/:participant/${route.path}`, { config: limit, schema: { response: { default: AdapterAnswer } } }, async (request, reply) => {
          const participant = tb.directory.participant(request.params.participant)
          if (participant === undefined || participant.adapter !== adapter.name) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such participant on this adapter')
          const ctx: InboundContext = {
            clock: tb.clock,
            logger: tb.logger,
            verifyPartnerMac: (alg, data, mac) => tb.keyring.verifyPartnerMac(participant.id, alg, data, mac),
            partnerMac: (alg, data) => tb.keyring.partnerMac(participant.id, alg, data),
            submit: async (message, raw): Promise<SubmitResult> => {
              try {
                const r = await tb.accept.acceptAttested(participant, message, raw, adapter.name)
                return { ok: true, status: r.status, exchangeId: r.exchangeId, receipt: r.receipt, digest: r.digest }
              } catch (err) {
                if (!isTongbanError(err)) throw err
                return { ok: false, status: err.status, code: err.code, message: err.message, ...(err.violations ? { violations: err.violations } : {}) }
              }
            },
          }
          const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]))
          const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
          const res = await route.handle({ participant, headers, body }, ctx)
          return reply.code(res.status).headers(res.headers ?? {}).send(res.body)
        })
      }
    })
  }
}
