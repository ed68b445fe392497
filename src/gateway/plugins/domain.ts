import fp from 'fastify-plugin'
import { AcceptService } from '../../core/accept.ts'
import { chinaCalendar, type WorkingCalendar } from '../../core/calendar.ts'
import { DeadlineService } from '../../core/deadlines.ts'
import { Directory } from '../../core/directory.ts'
import { createMessageValidator } from '../../core/schemas.ts'
import { DeliveryService } from '../../outbound/delivery.ts'
import { QueryForwarder } from '../../outbound/query.ts'
import { QueryService } from '../../core/queries.ts'
import { QUERY_POLICIES } from '../../core/query-policies.ts'
import { redisConnection } from '../redis-options.ts'

/** The participant directory and the message schemas, validated at boot. */
export const directoryPlugin = fp(async (app) => {
  const { config, adapters, logger } = app.tb
  const validator = createMessageValidator()
  app.tb.validator = validator
  app.tb.directory = Directory.load(config.directoryFile, {
    adapters,
    knownType: (type) => validator.types().some((t) => t.type === type),
    hasPartnerSecret: (id) => app.tb.keyring.hasPartnerSecret(id),
  })
  logger.info({ participants: app.tb.directory.participants().length }, 'participant directory loaded')
}, { name: 'tongban-directory', dependencies: ['tongban-keys'] })

/** Delivery (queues, workers, sweeper) and acceptance. */
export const deliveryPlugin = fp(async (app) => {
  const tb = app.tb
  const delivery = new DeliveryService({
    config: tb.config, db: tb.db, directory: tb.directory, keyring: tb.keyring, adapters: tb.adapters,
    clock: tb.clock, logger: tb.logger, connection: redisConnection(tb.config.redisUrl),
    onAttempt: (recipient, outcome) => tb.metrics.deliveries.inc({ recipient, outcome }),
  })
  tb.delivery = delivery
  const calendar: WorkingCalendar = tb.calendar ?? chinaCalendar()
  if (tb.clock.now().getUTCFullYear() > calendar.knownUntil) {
    tb.logger.warn({ knownUntil: calendar.knownUntil }, 'the holiday calendar ends before this year: deadlines count weekends only (update chinese-days)')
  }
  const deadlines = new DeadlineService({ db: tb.db, clock: tb.clock, logger: tb.logger, calendar, workingDays: tb.config.deadlines.workingDays })
  tb.deadlines = deadlines
  tb.accept = new AcceptService({
    db: tb.db, directory: tb.directory, validator: tb.validator, nonces: tb.nonces, keyring: tb.keyring,
    clock: tb.clock, ids: tb.ids, logger: tb.logger, replayWindowSeconds: tb.config.limits.replayWindowSeconds,
    enqueue: (deliveries) => delivery.enqueue(deliveries),
    dueAt: (kind, openedAt) => deadlines.dueAt(kind, openedAt),
  })
  const forwarder = new QueryForwarder({
    adapters: tb.adapters, keyring: tb.keyring, clock: tb.clock, logger: tb.logger,
    timeoutMs: tb.config.queries.timeoutMs, breakerFailures: tb.config.queries.breakerFailures, breakerResetMs: tb.config.queries.breakerResetMs,
  })
  tb.forwarder = forwarder
  tb.queries = new QueryService({
    db: tb.db, directory: tb.directory, validator: tb.validator, nonces: tb.nonces, keyring: tb.keyring,
    clock: tb.clock, ids: tb.ids, logger: tb.logger, replayWindowSeconds: tb.config.limits.replayWindowSeconds,
    policies: QUERY_POLICIES,
    forward: (recipient, query) => forwarder.forward(recipient, query),
  })
  if (tb.config.workers !== false) {
    delivery.startWorkers()
    delivery.startSweeper()
    deadlines.start(tb.config.deadlines.checkIntervalMs)
  }
  app.addHook('onClose', async () => {
    await forwarder.close()
    await deadlines.close()
    await delivery.close()
  })
}, { name: 'tongban-delivery', dependencies: ['tongban-db', 'tongban-redis', 'tongban-directory'] })
