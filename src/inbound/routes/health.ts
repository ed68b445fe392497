import type { FastifyInstance } from 'fastify'
import { dbReady } from '../../store/db.ts'

/**
 * GET /healthz (the process answers), GET /readyz (PostgreSQL, Redis and keys are usable) and
 * GET /metrics (Prometheus; counts and states only, no personal data — expose it to the
 * monitoring network only, like the other operational endpoints).
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/metrics', async (_request, reply) => {
    const registry = app.tb.metrics.registry
    return reply.type(registry.contentType).send(await registry.metrics())
  })
  app.get('/readyz', async (_request, reply) => {
    const tb = app.tb
    const [postgres, redis] = await Promise.all([
      dbReady(tb.db),
      tb.redis.ping().then((r) => r === 'PONG', () => false),
    ])
    const keys = tb.keyring.suites.length > 0
    const ready = postgres && redis && keys
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: { postgres, redis, keys, suites: tb.keyring.suites } })
  })
}
