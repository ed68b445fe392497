import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { redisOptions } from '../redis-options.ts'
import { sm2ThreadOf } from '../../config/index.ts'
import { GatewayKeyring, useSmBackend } from '../../crypto/index.ts'
import { migrate, openDb } from '../../store/db.ts'
import { NonceStore } from '../../store/nonces.ts'
import { RefusalCounter } from '../../store/operations.ts'

/** PostgreSQL: the pool, with migrations applied before anything else runs. */
export const dbPlugin = fp(async (app) => {
  const { config, logger } = app.tb
  const db = openDb(config.databaseUrl, config.dbSchema)
  const applied = await migrate(db, config.dbSchema)
  if (applied.length > 0) logger.info({ applied, schema: config.dbSchema }, 'database migrations applied')
  app.tb.db = db
  app.addHook('onClose', async () => { await db.end() })
}, { name: 'tongban-db' })

/**
 * Redis: one command connection (nonces, limits and quotas, circuits); BullMQ opens its own from
 * the same settings. Commands issued in the same tick by concurrent requests go out in one write
 * (auto-pipelining; each still gets its own answer): under load Redis spends a third less CPU per
 * accepted message (docs/performance.md).
 */
export const redisPlugin = fp(async (app) => {
  const { config } = app.tb
  const redis = new Redis({ ...redisOptions(config), maxRetriesPerRequest: 1, commandTimeout: 2_000, enableAutoPipelining: true })
  redis.on('error', () => {})
  app.tb.redis = redis
  app.tb.nonces = new NonceStore(redis, config.redisPrefix)
  app.tb.refusals = new RefusalCounter(redis, config.redisPrefix)
  app.addHook('onClose', async () => { redis.disconnect() })
}, { name: 'tongban-redis' })

/** The gateway's own keys (crypto room). */
export const keysPlugin = fp(async (app) => {
  const { config, logger } = app.tb
  // Which SM2 implementation runs decides the national suite's speed: say it at start.
  const sm = useSmBackend(config.crypto.smBackend, sm2ThreadOf(config))
  logger.info({ smBackend: sm.backend, reason: sm.reason }, `SM2 implementation: ${sm.backend}`)
  app.tb.keyring = GatewayKeyring.load(config.keysDir, config.gatewayId)
  logger.info({ suites: app.tb.keyring.suites }, 'gateway keys loaded')
}, { name: 'tongban-keys' })
