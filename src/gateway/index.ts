import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { TongbanError } from '../errors.ts'
import { ADAPTERS } from '../../adapters/index.ts'
import type { Config } from '../config/index.ts'
import { authPlugin } from '../inbound/auth.ts'
import { installJoseParser } from '../inbound/content.ts'
import { clientErrorHandler, expectationFailed, frameworkErrors, installProblemHandlers } from '../inbound/problem.ts'
import { adminRoutes } from '../inbound/routes/admin.ts'
import { caseRoutes } from '../inbound/routes/cases.ts'
import { directoryRoutes, openApiRoutes } from '../inbound/routes/directory.ts'
import { healthRoutes } from '../inbound/routes/health.ts'
import { messageRoutes } from '../inbound/routes/messages.ts'
import { attachmentRoutes } from '../inbound/routes/attachments.ts'
import { batchRoutes } from '../inbound/routes/batches.ts'
import { queryRoutes } from '../inbound/routes/queries.ts'
import { adapterRoutes } from '../inbound/routes/adapters.ts'
import { tokenRoutes } from '../inbound/routes/token.ts'
import { ledgerRoutes } from '../inbound/routes/ledger.ts'
import { limitFailureLog, limitsPrefix, redisWindowStore } from '../inbound/quotas.ts'
import { AddressSet } from '../util/cidr.ts'
import type { PartnerAdapter } from '../outbound/adapter.ts'
import { systemClock, systemIds, type Clock, type IdSource } from '../util/ids.ts'
import { createLogger, type Logger } from '../util/log.ts'
import { deliveryPlugin, directoryPlugin } from './plugins/domain.ts'
import { dbPlugin, keysPlugin, redisPlugin } from './plugins/infrastructure.ts'
import type { Tongban } from './services.ts'
import { createMetrics } from './metrics.ts'
import { metricsServerPlugin } from './plugins/metrics.ts'
import { ledgerPlugin } from './plugins/ledger.ts'
import { consolePlugin } from '../console/plugin.ts'
import { useResponseSchemas, type ResponseFault } from '../inbound/response-check.ts'
import type { WorkingCalendar } from '../core/calendar.ts'

/** Fastify's trustProxy: false without proxies, else whether a hop is one of them (CIDRs, as config checked them). */
function proxyTrust(proxies: readonly string[]): false | ((address: string) => boolean) {
  if (proxies.length === 0) return false
  const { set } = AddressSet.parse(proxies)
  return (address) => set.contains(address)
}

export interface GatewayOptions {
  readonly config: Config
  readonly clock?: Clock
  readonly ids?: IdSource
  readonly logger?: Logger
  readonly adapters?: ReadonlyMap<string, PartnerAdapter>
  readonly calendar?: WorkingCalendar
  /** Check every answer against its route's response schema (the tests): a mismatch is a 500 and is kept in tb.responseFaults. */
  readonly validateResponses?: boolean
}

/**
 * Builds the gateway: infrastructure (db, redis, keys) → domain (directory, delivery) →
 * routes, each a named plugin with its dependencies. With `config.http === false` it is a
 * worker process (no routes); with `config.workers === false`, an API-only process.
 */
export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const { config } = options
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger({ level: config.log.level, file: config.log.file })
  const ids = options.ids ?? systemIds(clock)
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.limits.bodyBytes,
    requestIdHeader: false,
    genReqId: () => ids.uuid7(),
    // Behind the configured proxies only, X-Forwarded-For names the client (request.ip): rate
    // limits and private-network sources use it. Anyone else's header is ignored.
    trustProxy: proxyTrust(config.trustProxy),
    // Errors before routing and requests Node's parser refuses answer in the catalogue too.
    frameworkErrors,
    clientErrorHandler,
  })
  const tb = {
    routes: [] as Tongban['routes'],
    responseFaults: [] as ResponseFault[],
    checkAnswers: options.validateResponses === true,
    metrics: createMetrics(() => (tb as Partial<Tongban>).db, () => (tb as Partial<Tongban>).forwarder?.breakerStates() ?? new Map(), () => (tb as Partial<Tongban>).delivery?.openCircuits()),
    config, clock, ids, logger, adapters: options.adapters ?? ADAPTERS, ...(options.calendar ? { calendar: options.calendar } : {}) } as Tongban
  app.decorate('tb', tb)
  // Every route the gateway serves, as registered (the OpenAPI test checks each is described).
  app.addHook('onRoute', (r) => {
    const responses = r.schema?.response as Record<string, object> | undefined
    for (const method of [r.method].flat()) if (method !== 'HEAD') tb.routes.push({ method, url: r.url, ...(responses ? { responses } : {}) })
  })
  // The routes' response schemas document the answers (OpenAPI) and are checked in tests; they
  // never drop or coerce a member on the way out.
  useResponseSchemas(app, options.validateResponses === true ? tb.responseFaults : undefined)
  installProblemHandlers(app)
  app.server.on('checkExpectation', expectationFailed)
  installJoseParser(app, config.limits.bodyBytes)

  try {
    await app.register(dbPlugin)
    await app.register(redisPlugin)
    await app.register(keysPlugin)
    await app.register(ledgerPlugin)
    await app.register(directoryPlugin)
    await app.register(deliveryPlugin)
    await app.register(metricsServerPlugin)

    await app.register(healthRoutes)
    if (config.http !== false) {
      // Per-client limits on the routes anyone may call before authenticating (token requests,
      // adapter-owned routes) and per-participant quotas on authenticated ones; the routes say
      // their budget. Over it: 429 TB_ERR_RATE_LIMITED. Counted in Redis, so every instance
      // shares one budget; Redis down: skipped and logged (availability over limiting).
      await app.register(rateLimit, {
        global: false,
        store: redisWindowStore(tb.redis, limitsPrefix(config), limitFailureLog(logger, clock)),
        skipOnError: true,
        errorResponseBuilder: (_request, ctx) => new TongbanError('TB_ERR_RATE_LIMITED', `too many requests: at most ${ctx.max} a minute from one address`, { detail: { retryAfterSeconds: Math.ceil(ctx.ttl / 1000) } }),
      })
      await app.register(authPlugin)
      await app.register(tokenRoutes)
      await app.register(messageRoutes)
      await app.register(batchRoutes)
      await app.register(attachmentRoutes)
      await app.register(queryRoutes)
      await app.register(caseRoutes)
      await app.register(ledgerRoutes)
      await app.register(directoryRoutes)
      await app.register(openApiRoutes)
      await app.register(adminRoutes)
      await app.register(adapterRoutes)
    }
    await app.register(consolePlugin)
    await app.ready()
  } catch (err) {
    // A fault at start (a bad directory, a missing key) must not leave the connections that
    // were already opened holding the process: close them, then report the fault.
    await app.close().catch(() => {})
    throw err
  }
  return app
}
