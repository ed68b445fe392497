import type { FastifyInstance } from 'fastify'
import { dbReady } from '../../store/db.ts'
import { answers, Health, Ready } from '../responses.ts'

/** GET /healthz (the process answers) and GET /readyz (PostgreSQL, Redis and keys are usable). */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: { response: answers({ 200: Health }) } }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { response: answers({ 200: Ready, 503: Ready }) } }, async (_request, reply) => {
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
