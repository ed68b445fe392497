import fp from 'fastify-plugin'
import { readFileSync } from 'node:fs'
import { instanceName } from '../../ledger/index.ts'
import { AcceptService } from '../../core/accept.ts'
import { chinaCalendar, type WorkingCalendar } from '../../core/calendar.ts'
import { RetentionService } from '../../core/retention.ts'
import { DeadlineService } from '../../core/deadlines.ts'
import { Directory, DirectoryError } from '../../core/directory.ts'
import { TongbanError } from '../../errors.ts'
import type { DirectoryReload } from '../services.ts'
import { ConfigError } from '../../config/index.ts'
import { PkiError, TrustStore } from '../../crypto/index.ts'
import { attachmentKeyValidator, batchValidator, createMessageValidator } from '../../core/schemas.ts'
import { AttachmentService } from '../../core/attachments.ts'
import { BatchService } from '../../core/batches.ts'
import { chargeMessages, limitFailureLog } from '../../inbound/quotas.ts'
import { DeliveryService } from '../../outbound/delivery.ts'
import { QueryForwarder } from '../../outbound/query.ts'
import { QueryService } from '../../core/queries.ts'
import { QUERY_POLICIES } from '../../core/query-policies.ts'
import { redisConnection } from '../redis-options.ts'
import { CircuitStore } from '../../store/circuits.ts'

/** The participant directory and the message schemas, validated at boot and reloadable. */
export const directoryPlugin = fp(async (app) => {
  const { config, adapters, logger, clock } = app.tb
  const validator = createMessageValidator()
  app.tb.validator = validator
  // The anchors are read once, here; their CRLs again on every directory load (directory.trust).
  const anchorNotices: string[] = []
  let trust: TrustStore
  try {
    trust = TrustStore.load(config.pki, clock.now(), anchorNotices)
  } catch (err) {
    throw err instanceof PkiError ? new ConfigError(err.problems) : err
  }
  const read = (): Directory => {
    const d = Directory.load(config.directoryFile, {
      adapters,
      knownType: (type) => validator.types().some((t) => t.type === type),
      hasPartnerSecret: (id) => app.tb.keyring.hasPartnerSecret(id),
      trust,
      clock,
    })
    // The keys of certs-example/ are public: a directory (or an anchor) using one lets anyone act
    // as that participant or operator. Refused like the gateway's own sample keys (cli/serve.ts).
    const samples = d.sampleKeys()
    if (samples.length > 0 && !config.allowSampleKeys) {
      throw new DirectoryError(config.directoryFile, samples.map((m) => `/: ${m.where} is the published sample ${m.sample} (its private key is public: use the partner's own key; for a local trial only, allowSampleKeys)`))
    }
    if (samples.length > 0) logger.warn({ sampleKeys: samples.length }, 'the directory uses the published sample keys of certs-example/ (allowSampleKeys): for local trials only')
    return d
  }
  app.tb.directory = read()
  const { ledger } = app.tb
  // What was loaded, as the ledger records it: the file's digest (the running directory is what the file said).
  const loaded = (by: string, d: Directory, version: number): Parameters<typeof ledger.record<'directory.loaded'>>[1] => ({
    instance: instanceName(), by, version, participants: d.participants().length, fileDigest: ledger.digest(readFileSync(config.directoryFile)),
  })
  await ledger.write('directory.loaded', loaded('start', app.tb.directory, app.tb.directory.version))
  // (The CRLs were read twice at boot, by the store and by the load: one warning each.)
  for (const notice of new Set([...anchorNotices, ...app.tb.directory.notices])) logger.warn({ notice }, 'participant directory: certificate notice')
  logger.info({ participants: app.tb.directory.participants().length, anchors: config.pki.anchors.length }, 'participant directory loaded')

  // A reload (SIGHUP, or an operator): the new file is read and validated whole first (with the
  // CRLs re-read); only then does the live directory take it over, in one synchronous step, so a
  // request sees either the old directory or the new one. On any fault the old one stays.
  let reloading: Promise<DirectoryReload> | undefined
  app.tb.reloadDirectory = async (by: string): Promise<DirectoryReload> => {
    // Reloads do not overlap: a second request while one runs gets that one's outcome.
    reloading ??= (async () => {
      const before = app.tb.directory.version
      let next: Directory
      try {
        next = read()
      } catch (err) {
        const problems = err instanceof DirectoryError ? err.problems : [`/: ${(err as Error).message}`]
        logger.error({ by, problems, file: config.directoryFile }, 'participant directory reload refused: the running directory is kept')
        throw new TongbanError('TB_ERR_DIRECTORY_INVALID', 'the directory file is not valid; the running directory is kept', {
          violations: problems.map((p) => ({ pointer: p.slice(0, Math.max(1, p.indexOf(':'))), rule: 'directory', message: p.slice(p.indexOf(':') + 1).trim() })),
        })
      }
      // The operator's action and what it loads, in one transaction, before the swap: a reload
      // that cannot be recorded does not happen (503, the running directory kept).
      await ledger.writeAll([ledger.record('operator.action', { operator: by, action: 'directory.reload', outcome: 'loaded' }), ledger.record('directory.loaded', loaded(by, next, before + 1))])
      app.tb.directory.adopt(next)
      for (const notice of next.notices) logger.warn({ notice }, 'participant directory: certificate notice')
      const result = { version: app.tb.directory.version, participants: app.tb.directory.participants().length, previousVersion: before }
      logger.info({ by, ...result }, 'participant directory reloaded')
      return result
    })().finally(() => { reloading = undefined })
    return reloading
  }
}, { name: 'tongban-directory', dependencies: ['tongban-keys', 'tongban-ledger'] })

/** Delivery (queues, workers, sweeper) and acceptance. */
export const deliveryPlugin = fp(async (app) => {
  const tb = app.tb
  const delivery = new DeliveryService({
    config: tb.config, db: tb.db, directory: tb.directory, keyring: tb.keyring, adapters: tb.adapters,
    clock: tb.clock, logger: tb.logger, connection: redisConnection(tb.config), ledger: tb.ledger,
    onAttempt: (recipient, outcome) => tb.metrics.deliveries.inc({ recipient, outcome }),
    circuits: new CircuitStore(tb.redis, tb.config.redisPrefix, () => tb.clock.now().getTime()),
    onCircuit: (recipient, event) => tb.metrics.circuitEvents.inc({ recipient, event }),
  })
  tb.delivery = delivery
  const calendar: WorkingCalendar = tb.calendar ?? chinaCalendar()
  if (tb.clock.now().getUTCFullYear() > calendar.knownUntil) {
    tb.logger.warn({ knownUntil: calendar.knownUntil }, 'the holiday calendar ends before this year: deadlines count weekends only (update chinese-days)')
  }
  const deadlines = new DeadlineService({ db: tb.db, clock: tb.clock, logger: tb.logger, calendar, workingDays: tb.config.deadlines.workingDays, hours: tb.config.deadlines.hours })
  tb.deadlines = deadlines
  const retention = new RetentionService({
    db: tb.db, clock: tb.clock, logger: tb.logger, purgeAfterDays: tb.config.retention.purgeAfterDays, keepMonths: tb.config.retention.keepMonths,
    keepUnreferencedHours: tb.config.attachments.keepUnreferencedHours,
  })
  tb.retention = retention
  tb.attachments = new AttachmentService({
    db: tb.db, keyring: tb.keyring, directory: tb.directory, clock: tb.clock, ids: tb.ids, limits: tb.config.attachments, validateKey: attachmentKeyValidator(),
  })
  tb.accept = new AcceptService({
    db: tb.db, directory: tb.directory, validator: tb.validator, nonces: tb.nonces, keyring: tb.keyring,
    clock: tb.clock, ids: tb.ids, logger: tb.logger, ledger: tb.ledger, replayWindowSeconds: tb.config.limits.replayWindowSeconds,
    enqueue: (deliveries) => delivery.enqueue(deliveries),
    attachments: tb.attachments,
    dueAt: (kind, openedAt, variant) => deadlines.dueAt(kind, openedAt, variant),
  })
  const chargeFailure = limitFailureLog(tb.logger, tb.clock)
  tb.batches = new BatchService({
    db: tb.db, directory: tb.directory, validator: tb.validator, keyring: tb.keyring, clock: tb.clock, logger: tb.logger, accept: tb.accept,
    batchValidator: batchValidator(), replayWindowSeconds: tb.config.limits.replayWindowSeconds, maxMessages: tb.config.limits.batchMessages, maxMessageBytes: tb.config.limits.bodyBytes,
    charge: (sender, count) => chargeMessages(tb.redis, tb.config, sender, count, chargeFailure),
  })
  const forwarder = new QueryForwarder({
    adapters: tb.adapters, keyring: tb.keyring, directory: tb.directory, clock: tb.clock, logger: tb.logger,
    timeoutMs: tb.config.queries.timeoutMs, maxAnswerBytes: tb.config.queries.maxAnswerBytes, breakerFailures: tb.config.queries.breakerFailures, breakerResetMs: tb.config.queries.breakerResetMs,
  })
  tb.forwarder = forwarder
  tb.queries = new QueryService({
    db: tb.db, directory: tb.directory, validator: tb.validator, nonces: tb.nonces, keyring: tb.keyring,
    clock: tb.clock, ids: tb.ids, logger: tb.logger, ledger: tb.ledger, replayWindowSeconds: tb.config.limits.replayWindowSeconds,
    policies: QUERY_POLICIES,
    forward: (recipient, query) => forwarder.forward(recipient, query),
  })
  if (tb.config.workers !== false) {
    delivery.startWorkers()
    // After a reload: workers for new recipients, and each recipient's concurrency as its entry says.
    const reload = tb.reloadDirectory
    tb.reloadDirectory = async (by) => {
      const result = await reload(by)
      delivery.startWorkers()
      return result
    }
    delivery.startSweeper()
    deadlines.start(tb.config.deadlines.checkIntervalMs)
    retention.start(tb.config.retention.checkIntervalMs)
  }
  app.addHook('onClose', async () => {
    await forwarder.close()
    await deadlines.close()
    await retention.close()
    await delivery.close()
  })
}, { name: 'tongban-delivery', dependencies: ['tongban-db', 'tongban-redis', 'tongban-directory'] })
