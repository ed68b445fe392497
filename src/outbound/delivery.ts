import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq'
import type { GatewayKeyring } from '../crypto/index.ts'
import type { Config } from '../config/index.ts'
import type { Directory, Participant } from '../core/directory.ts'
import type { Envelope } from '../core/envelope.ts'
import type { PendingDelivery } from '../core/accept.ts'
import { TongbanError, type DeliveryFailureCode } from '../errors.ts'
import { inTransaction, type Db } from '../store/db.ts'
import { lockUnpurged } from '../store/retention.ts'
import { addEvent, type NewEvent } from '../store/cases.ts'
import type { Circuit, CircuitStore } from '../store/circuits.ts'
import { getDelivery, listStalePending, markDead, markDelivered, markWaiting, recordFailure, reviveForReplay, startAttempt, type Attempt, type Delivery } from '../store/deliveries.ts'
import { getExchange, type Exchange } from '../store/exchanges.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import { Periodic } from '../util/periodic.ts'
import type { Ledger } from '../ledger/index.ts'
import type { AdapterContext, OutboundMessage, PartnerAdapter } from './adapter.ts'
import { PartnerHttp } from './http.ts'
import { adapterContext } from './context.ts'
import { backoffDelay, classifyError } from './retry.ts'

/** A dead letter's reason: its failure code (DELIVERY_FAILURES), then why in words. */
const dead = (code: DeliveryFailureCode, why: string): string => `${code}: ${why}`

export interface DeliveryDeps {
  readonly config: Config
  readonly db: Db
  readonly directory: Directory
  readonly keyring: GatewayKeyring
  readonly adapters: ReadonlyMap<string, PartnerAdapter>
  readonly clock: Clock
  readonly logger: Logger
  readonly connection: ConnectionOptions
  /** Each settlement (delivered, dead, replayed) is a ledger entry, written with it. */
  readonly ledger: Ledger
  readonly random?: () => number
  /** Told the outcome of every attempt (metrics). */
  readonly onAttempt?: (recipient: string, outcome: 'delivered' | 'retry' | 'dead') => void
  /** The recipients' delivery circuits, shared by every instance through Redis. */
  readonly circuits: CircuitStore
  /** Told what the circuits do (metrics): opened, probing, closed, and each delivery held without an attempt. */
  readonly onCircuit?: (recipient: string, event: CircuitEvent) => void
}

export type CircuitEvent = 'opened' | 'probing' | 'closed' | 'held'

/**
 * Failures that say the partner is unwell (it did not answer, failed, or asked to slow down):
 * they count towards opening its circuit. A partner that answered, even to refuse, is up.
 */
const PARTNER_DOWN: ReadonlySet<DeliveryFailureCode> = new Set(['CONNECT_TIMEOUT', 'TIMEOUT', 'NETWORK', 'PARTNER_5XX', 'PARTNER_408', 'PARTNER_429', 'PARTNER_BUSY'])
const PARTNER_ANSWERED: ReadonlySet<DeliveryFailureCode> = new Set(['PARTNER_4XX', 'PARTNER_REJECTED'])

interface JobData {
  readonly deliveryId: string
  /** The delivery's creation time (ISO 8601), when the enqueuer knew it: its month's partition only is read. */
  readonly createdAt?: string
}

/** BullMQ queue names may not contain ':'; participant ids do. */
export function queueName(recipient: string): string {
  return `deliver.${recipient.replace(/[^A-Za-z0-9_-]/g, '_')}`
}

/**
 * Delivery: one BullMQ queue per recipient (a slow partner holds up only itself), workers
 * that call the recipient's adapter, and a sweeper that re-enqueues what PostgreSQL says is
 * pending but Redis no longer holds. PostgreSQL is the truth; Redis only schedules.
 */
export class DeliveryService {
  readonly #d: DeliveryDeps
  readonly #queues = new Map<string, Queue<JobData>>()
  /** One worker per recipient, by participant id. */
  readonly #workers = new Map<string, Worker<JobData>>()
  readonly #http = new PartnerHttp()
  readonly #sweeper: Periodic
  #watcher: NodeJS.Timeout | undefined
  #watching: Promise<void> | undefined
  #closed = false
  /** Jobs asked for in this turn of the event loop, by recipient, added together at its end. */
  readonly #toAdd = new Map<string, Array<{ readonly data: JobData; readonly done: (err?: unknown) => void }>>()

  constructor(deps: DeliveryDeps) {
    this.#d = deps
    this.#sweeper = new Periodic(() => this.sweepOnce(), deps.logger, 'sweep failed')
  }

  #queue(recipient: string): Queue<JobData> {
    let q = this.#queues.get(recipient)
    if (q === undefined) {
      // Fail fast when Redis is away: the acceptance is already durable and the sweeper will enqueue later.
      q = new Queue<JobData>(queueName(recipient), { connection: { ...this.#d.connection, enableOfflineQueue: false, maxRetriesPerRequest: 1 }, prefix: this.#d.config.redisPrefix })
      q.on('error', () => {})
      this.#queues.set(recipient, q)
    }
    return q
  }

  /**
   * Schedules deliveries (idempotent: the delivery id is the job id). The jobs of every
   * acceptance that finishes in one turn of the event loop go to Redis together, one round trip
   * per recipient (BullMQ's `add` for one job, `addBulk` for several), when the turn ends; each
   * caller learns how its own went.
   */
  async enqueue(deliveries: readonly PendingDelivery[]): Promise<void> {
    await Promise.all(deliveries.map((dl) => new Promise<void>((resolve, reject) => {
      const list = this.#toAdd.get(dl.recipient)
      const data = dl.createdAt === undefined ? { deliveryId: dl.id } : { deliveryId: dl.id, createdAt: dl.createdAt.toISOString() }
      const entry = { data, done: (err?: unknown) => (err === undefined ? resolve() : reject(err)) }
      if (list !== undefined) {
        list.push(entry)
        return
      }
      if (this.#toAdd.size === 0) setImmediate(() => this.#addJobs())
      this.#toAdd.set(dl.recipient, [entry])
    })))
  }

  #addJobs(): void {
    const c = this.#d.config.delivery
    const opts = { attempts: c.attempts, backoff: { type: 'tongban' }, removeOnComplete: true, removeOnFail: true }
    for (const [recipient, entries] of this.#toAdd) {
      if (this.#closed) {
        for (const x of entries) x.done(new Error('the delivery service is closed'))
        continue
      }
      const jobs = entries.map((x) => ({ name: 'deliver', data: x.data, opts: { ...opts, jobId: x.data.deliveryId } }))
      // One job alone (the usual case below a few hundred messages a second) goes as one script
      // call: addBulk would build an ioredis pipeline for it, copying BullMQ's scripts into it
      // (2% of the gateway's main thread at 400/s, docs/performance.md). The same script either way.
      const q = this.#queue(recipient)
      const one = jobs.length === 1 ? jobs[0] : undefined
      withTimeout<unknown>(one !== undefined ? q.add(one.name, one.data, one.opts) : q.addBulk(jobs), 2_000).then(
        () => { for (const x of entries) x.done() },
        (err: unknown) => { for (const x of entries) x.done(err ?? new Error('enqueue failed')) },
      )
    }
    this.#toAdd.clear()
  }

  /**
   * Starts one worker per participant that receives messages, each with its concurrency (the
   * directory entry's `delivery.concurrency`, else the config's). Called again after a directory
   * reload: a new recipient gets its worker, a changed concurrency applies to the running one.
   */
  startWorkers(): void {
    if (this.#closed) return
    const c = this.#d.config.delivery
    for (const p of this.#d.directory.participants()) {
      if (p.receive.size === 0) continue
      const concurrency = p.deliveryConcurrency ?? c.concurrency
      const running = this.#workers.get(p.id)
      if (running !== undefined) {
        if (running.concurrency !== concurrency) {
          running.concurrency = concurrency
          this.#d.logger.info({ recipient: p.id, concurrency }, 'delivery concurrency changed')
        }
        continue
      }
      const worker = new Worker<JobData>(queueName(p.id), (job, token) => this.#process(job, p.id, token), {
        connection: { ...this.#d.connection, maxRetriesPerRequest: null },
        prefix: this.#d.config.redisPrefix,
        concurrency,
        lockDuration: c.lockMs,
        stalledInterval: Math.max(1_000, Math.floor(c.lockMs / 2)),
        settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, c.backoffMs, c.maxBackoffMs, this.#d.random) },
      })
      worker.on('error', (err) => this.#d.logger.warn({ err, queue: queueName(p.id) }, 'delivery worker error'))
      this.#workers.set(p.id, worker)
    }
    this.#watchCircuits()
  }

  /**
   * Looks after the circuits (every instance that runs workers, each tick; every step is safe to
   * repeat): an open circuit whose time is up becomes half-open, with its queue resumed at one
   * delivery at a time across all workers (BullMQ's global concurrency): that one is the probe.
   * A queue left paused or limited by an instance that died midway is put right.
   */
  #watchCircuits(): void {
    if (this.#watcher !== undefined) return
    if (this.#d.config.delivery.circuitFailures === 0) {
      // The circuit turned off while one was open (a restart with circuitFailures 0): its queue runs again.
      this.#watcher = setTimeout(() => {
        void this.#d.circuits.unsettled().then((rs) => Promise.all(rs.map((r) => this.#resume(r))))
          .catch((err) => this.#d.logger.warn({ err }, 'paused delivery queues not resumed'))
      }, 0)
      return
    }
    const tick = (): void => {
      if (this.#closed || this.#watching) return
      this.#watching = this.#tendCircuits().catch((err) => this.#d.logger.warn({ err }, 'delivery circuit check failed'))
        .finally(() => { this.#watching = undefined })
    }
    this.#watcher = setInterval(tick, Math.min(1_000, Math.max(100, Math.floor(this.#d.config.delivery.circuitOpenMs / 4))))
    this.#watcher.unref()
  }

  async #tendCircuits(): Promise<void> {
    const { circuits } = this.#d
    for (const recipient of await circuits.unsettled()) {
      const c = await circuits.get(recipient)
      const q = this.#queue(recipient)
      if (c.state === 'closed') {
        await this.#resume(recipient)
      } else if (c.state === 'open') {
        if (c.until <= this.#d.clock.now().getTime() && await circuits.halfOpen(recipient)) {
          await this.#resumeForProbe(recipient)
          this.#d.onCircuit?.(recipient, 'probing')
          this.#d.logger.info({ recipient }, 'delivery circuit half-open: one probe delivery at a time')
        } else if (!(await q.isPaused())) {
          await this.#pauseWhileOpen(recipient)
        }
      } else if (await q.isPaused() && (await circuits.get(recipient)).state === 'half-open') {
        // Half-open but paused: the instance that made it half-open stopped before resuming.
        await this.#resumeForProbe(recipient)
      }
    }
  }

  /**
   * Pauses the recipient's queue for a circuit read as open, then reads the circuit again and
   * undoes the pause if it is open no longer. Between the read and the pause another instance may
   * have closed it (a probe, or a delivery in flight, answered), resumed the queue and taken the
   * recipient off the circuits to look after: a pause after that would hold every delivery to the
   * partner for good, with no instance left to resume it (a chaos run stalled so, 2026-12-08).
   */
  async #pauseWhileOpen(recipient: string): Promise<void> {
    await this.#queue(recipient).pause()
    const circuit = await this.#d.circuits.get(recipient)
    if (circuit.state === 'closed') await this.#resume(recipient)
    else if (circuit.state === 'half-open') await this.#resumeForProbe(recipient)
  }

  /** A half-open circuit's queue runs one delivery at a time across all workers: that one is the probe. */
  async #resumeForProbe(recipient: string): Promise<void> {
    const q = this.#queue(recipient)
    await q.setGlobalConcurrency(1)
    await q.resume()
  }

  /** A closed circuit's queue runs again at full concurrency. */
  async #resume(recipient: string): Promise<void> {
    const q = this.#queue(recipient)
    await q.removeGlobalConcurrency()
    await q.resume()
    await this.#d.circuits.settled(recipient)
  }

  /** A failure that says the partner is unwell: counted; the one that opens the circuit pauses the recipient's queue. */
  async #circuitFailure(delivery: Delivery): Promise<void> {
    const d = this.#d
    const { circuitFailures, circuitOpenMs } = d.config.delivery
    if (circuitFailures === 0) return
    const r = await d.circuits.failure(delivery.recipient, circuitFailures, circuitOpenMs).catch((err) => {
      d.logger.warn({ err, recipient: delivery.recipient }, 'delivery circuit not updated (Redis)')
      return undefined
    })
    if (r === undefined || r.outcome === 'counted') return
    // Paused before this attempt's slot is given back: with one probe at a time, nothing else starts.
    await this.#pauseWhileOpen(delivery.recipient).catch((err) => d.logger.warn({ err, recipient: delivery.recipient }, 'queue not paused; the circuit check will'))
    if (r.outcome === 'opened') {
      d.onCircuit?.(delivery.recipient, 'opened')
      d.logger.warn({ recipient: delivery.recipient, failures: circuitFailures, probeInMs: circuitOpenMs }, 'delivery circuit opened: the partner\'s deliveries wait, and one probe tests it later')
    }
    const waiting = await markWaiting(d.db, delivery.recipient, new Date(r.since), d.clock.now(), new Date(d.clock.now().getTime() + circuitOpenMs))
      .catch((err) => { d.logger.warn({ err, recipient: delivery.recipient }, 'waiting deliveries not marked in their timelines'); return 0 })
    if (waiting > 0) d.logger.info({ recipient: delivery.recipient, waiting }, 'case timelines say: waiting, partner unavailable')
  }

  /** The partner answered: a circuit open or half-open closes, and its queue resumes. */
  async #circuitSuccess(recipient: string): Promise<void> {
    const d = this.#d
    if (d.config.delivery.circuitFailures === 0) return
    const closed = await d.circuits.success(recipient).catch(() => false)
    if (!closed) return
    await this.#resume(recipient).catch((err) => d.logger.warn({ err, recipient }, 'queue not resumed; the circuit check will'))
    d.onCircuit?.(recipient, 'closed')
    d.logger.info({ recipient }, 'delivery circuit closed: the partner answers again')
  }

  /** The recipients whose delivery circuit is open or half-open now (every instance sees the same). */
  async openCircuits(): Promise<Map<string, Circuit>> {
    return this.#d.circuits.notClosed()
  }

  /** Starts the periodic sweeper (and sweeps once at once: after a crash, that is what repairs). */
  startSweeper(): void {
    if (!this.#closed) this.#sweeper.start(this.#d.config.delivery.sweepIntervalMs)
  }

  /** Re-enqueues pending deliveries that no queue holds; returns how many. */
  async sweepOnce(): Promise<number> {
    const before = new Date(this.#d.clock.now().getTime() - this.#d.config.delivery.sweepGraceMs)
    const stale = await listStalePending(this.#d.db, before, 500)
    let requeued = 0
    for (const s of stale) {
      // No worker serves a recipient that left the directory (or receives nothing): a dead letter
      // for the operators to see, not a delivery pending for ever.
      const recipient = this.#d.directory.participant(s.recipient)
      if (recipient === undefined || recipient.receive.size === 0) {
        const d = await getDelivery(this.#d.db, s.id)
        if (d !== undefined) await this.#die(d, 'NO_ROUTE: the recipient is no longer in the directory')
        continue
      }
      const job = await this.#queue(s.recipient).getJob(s.id)
      if (job !== undefined) {
        // A job left in a final state (e.g. failed after too many stalls) would block its id.
        const state = await job.getState()
        if (state !== 'failed' && state !== 'completed') continue
        await job.remove().catch(() => {})
      }
      await this.enqueue([s])
      requeued++
    }
    if (requeued > 0) this.#d.logger.info({ requeued }, 'sweeper re-enqueued pending deliveries')
    return requeued
  }

  /** Operator replay of a dead delivery: fresh attempts, back in the queue. */
  async replay(deliveryId: string, operator: string): Promise<Delivery> {
    const now = this.#d.clock.now()
    const cur = await getDelivery(this.#d.db, deliveryId)
    const exchange = cur === undefined ? undefined : await getExchange(this.#d.db, cur.exchangeId, cur.createdAt)
    const ledger = this.#d.ledger
    const entries = cur === undefined || exchange === undefined ? [] : [
      ledger.record('operator.action', { operator, action: 'delivery.replay', target: deliveryId, outcome: 'pending' }),
      ledger.record('delivery.settled', { deliveryId, exchangeId: cur.exchangeId, sender: exchange.sender, recipient: cur.recipient, outcome: 'replayed', attempt: 0, operator }, exchange.caseId),
    ].filter((e) => e !== undefined)
    // The exchange is locked against the retention purge while its delivery comes back to life:
    // a pending delivery always has its message to deliver.
    const revived = cur === undefined ? undefined : await inTransaction(this.#d.db, async (tx) => {
      if (!(await lockUnpurged(tx, cur.exchangeId))) return 'purged' as const
      return reviveForReplay(tx, deliveryId, now, entries)
    })
    if (revived === undefined || revived === 'purged') {
      const state = await getDelivery(this.#d.db, deliveryId)
      if (state === undefined) throw new TongbanError('TB_ERR_NOT_FOUND', 'no such delivery')
      if (revived === 'purged' && state.status === 'dead') {
        throw new TongbanError('TB_ERR_INVALID_STATE', 'the message of this delivery was purged (retention.purgeAfterDays): it cannot be replayed', { detail: { deliveryStatus: state.status, purged: true } })
      }
      throw new TongbanError('TB_ERR_INVALID_STATE', `only a dead delivery can be replayed (this one is ${state.status})`, { detail: { deliveryStatus: state.status } })
    }
    const event = this.#event(revived, exchange?.caseId ?? null, this.#d.clock.now(), 'delivery.replayed', operator, {})
    if (event !== undefined) await addEvent(this.#d.db, event)
    const old = await this.#queue(revived.recipient).getJob(deliveryId)
    if (old !== undefined) await old.remove().catch(() => {})
    await this.enqueue([revived]).catch((err) => this.#d.logger.warn({ err, deliveryId }, 'replay enqueue failed; the sweeper will retry'))
    this.#d.logger.info({ deliveryId, operator }, 'delivery replayed')
    return revived
  }

  /**
   * One delivery attempt, for a job of `queued`'s queue. The usual path is two statements: one
   * counts the attempt and reads the delivery, its exchange and sealed message; one settles it
   * with its ledger entry and timeline event.
   */
  async #process(job: Job<JobData>, queued: string, token?: string): Promise<string> {
    const d = this.#d
    const id = job.data.deliveryId
    const now = d.clock.now()
    let recipient = d.directory.participant(queued)
    let adapter = recipient ? d.adapters.get(recipient.adapter) : undefined
    if (recipient === undefined || adapter === undefined) {
      const current = await getDelivery(d.db, id)
      if (current === undefined || current.status !== 'pending') return 'skipped'
      await this.#die(current, dead('NO_ROUTE', 'recipient or adapter no longer configured'))
      throw new UnrecoverableError('recipient gone')
    }
    // An open circuit holds the delivery without spending an attempt (the partner is known to be
    // down): back to the delayed set until the probe time; the paused queue keeps it after that.
    if (d.config.delivery.circuitFailures > 0) {
      const circuit = await d.circuits.get(queued).catch(() => undefined)
      if (circuit?.state === 'open') {
        // (BullMQ's delays run on the real time; the circuit's on the gateway's clock.)
        const wait = Math.max(0, circuit.until - now.getTime())
        await job.moveToDelayed(Date.now() + wait + Math.floor((d.random ?? Math.random)() * 1_000), token)
        d.onCircuit?.(queued, 'held')
        throw new DelayedError()
      }
    }
    const ageFrom = new Date(now.getTime() - d.config.delivery.maxAgeSeconds * 1000)
    const created = job.data.createdAt === undefined ? undefined : new Date(job.data.createdAt)
    let attempt = await startAttempt(d.db, id, now, ageFrom, created !== undefined && Number.isFinite(created.getTime()) ? created : undefined)
    if (attempt === undefined) {
      // Not pending, expired, or a job whose time is not the delivery's: the row says which.
      const current = await getDelivery(d.db, id)
      if (current === undefined || current.status !== 'pending') return 'skipped'
      if (current.ageFrom.getTime() < ageFrom.getTime()) {
        await this.#die(current, dead('EXPIRED', 'maximum delivery age reached'))
        throw new UnrecoverableError('delivery expired')
      }
      attempt = await startAttempt(d.db, id, now, ageFrom, current.createdAt)
      if (attempt === undefined) return 'skipped'
    }
    const { delivery, exchange } = attempt
    if (delivery.recipient !== queued) {
      // (Two participant ids with one queue name: the delivery's own recipient is the one.)
      recipient = d.directory.participant(delivery.recipient)
      adapter = recipient ? d.adapters.get(recipient.adapter) : undefined
      if (recipient === undefined || adapter === undefined) {
        await this.#die(delivery, dead('NO_ROUTE', 'recipient or adapter no longer configured'), exchange)
        throw new UnrecoverableError('recipient gone')
      }
    }
    let message: OutboundMessage
    try {
      message = this.#message(attempt)
    } catch (err) {
      // The stored message cannot be read (missing, or its seal does not open): trying again
      // cannot help. A dead letter says so; the log says why (no content).
      d.logger.error({ err, deliveryId: id, exchangeId: delivery.exchangeId }, 'stored message unreadable')
      await this.#die(delivery, dead('STORE', 'the stored message cannot be read'), exchange)
      throw new UnrecoverableError('stored message unreadable')
    }
    const started = Date.now()
    try {
      await adapter.deliver(message, this.#context(recipient))
    } catch (err) {
      const e = classifyError(err)
      const reason = `${e.code}${e.httpStatus ? ` ${e.httpStatus}` : ''}`
      if (PARTNER_DOWN.has(e.code)) await this.#circuitFailure(delivery)
      else if (PARTNER_ANSWERED.has(e.code)) await this.#circuitSuccess(delivery.recipient)
      if (!e.retry || delivery.attempts >= d.config.delivery.attempts) {
        await this.#die(delivery, reason, exchange)
        throw new UnrecoverableError(reason)
      }
      d.onAttempt?.(delivery.recipient, 'retry')
      const at = d.clock.now()
      await recordFailure(d.db, id, reason, at, { createdAt: delivery.createdAt, event: this.#event(delivery, message.caseId, at, 'delivery.failed', null, { attempt: delivery.attempts, reason, retry: true }) })
      d.logger.info({ deliveryId: id, recipient: delivery.recipient, attempt: delivery.attempts, reason }, 'delivery attempt failed; will retry')
      throw new Error(reason)
    }
    d.onAttempt?.(delivery.recipient, 'delivered')
    const at = d.clock.now()
    const entry = d.ledger.record('delivery.settled', { deliveryId: id, exchangeId: delivery.exchangeId, sender: message.sender, recipient: delivery.recipient, outcome: 'delivered', attempt: delivery.attempts }, message.caseId)
    const event = this.#event(delivery, message.caseId, at, 'delivery.delivered', null, { attempt: delivery.attempts, ms: Date.now() - started })
    if (await markDelivered(d.db, id, at, { entry, event, createdAt: delivery.createdAt })) {
      d.logger.info({ deliveryId: id, exchangeId: delivery.exchangeId, recipient: delivery.recipient, attempt: delivery.attempts }, 'delivered')
    }
    // After the record: the partner's answer is settled first, whatever Redis does.
    await this.#circuitSuccess(delivery.recipient)
    return 'delivered'
  }

  #message({ delivery, exchange, sealed }: Attempt): OutboundMessage {
    // (A purged body belongs to an exchange with no pending delivery: the purge and a replay lock it.)
    if (exchange === undefined || sealed === null) throw new Error('exchange missing or its message purged')
    const jws = this.#d.keyring.sealer().open(sealed, exchange.id).toString('latin1')
    let envelope: Envelope | undefined
    return {
      exchangeId: exchange.id,
      deliveryId: delivery.id,
      messageId: exchange.messageId,
      type: exchange.type,
      v: exchange.v,
      sender: exchange.sender,
      caseId: exchange.caseId,
      unitCode: exchange.unitCode,
      jws,
      // Read on first use: only the adapters that map the payload to another format (legacy-tax)
      // need it, and parsing it for every delivery took about 2% of the worker's main thread.
      // The bytes opened from the seal (AES-GCM, bound to the exchange id) are those verified at
      // acceptance, so the parse cannot fail here where it did not there.
      get envelope(): Envelope {
        envelope ??= JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as Envelope
        return envelope
      },
      attempt: delivery.attempts,
    }
  }

  #context(recipient: Participant): AdapterContext {
    return adapterContext(recipient, { ...this.#d, http: this.#http })
  }

  /** The delivery becomes a dead letter, with its ledger entry and timeline event (`exchange` when already read). */
  async #die(delivery: Delivery, reason: string, known?: Exchange): Promise<void> {
    const d = this.#d
    d.onAttempt?.(delivery.recipient, 'dead')
    const exchange = known ?? await getExchange(d.db, delivery.exchangeId, delivery.createdAt)
    const at = d.clock.now()
    // The reason's code (e.g. `HTTP_5XX 503`), never its words.
    const entry = d.ledger.record('delivery.settled', {
      deliveryId: delivery.id, exchangeId: delivery.exchangeId, sender: exchange?.sender ?? '', recipient: delivery.recipient, outcome: 'dead', attempt: delivery.attempts,
      reason: reason.split(':')[0] as string,
    }, exchange?.caseId)
    const event = this.#event(delivery, exchange?.caseId ?? null, at, 'delivery.dead', null, { attempt: delivery.attempts, reason })
    if (await markDead(d.db, delivery.id, reason, at, { entry, event, createdAt: delivery.createdAt })) {
      d.logger.warn({ deliveryId: delivery.id, exchangeId: delivery.exchangeId, recipient: delivery.recipient, reason }, 'delivery dead')
    }
  }

  /** A timeline event of the delivery's case, to be written with the delivery's change; none when its exchange has no case. */
  #event(delivery: Delivery, caseId: string | null, at: Date, event: string, actor: string | null, detail: Record<string, unknown>): NewEvent | undefined {
    return caseId ? { caseId, at, event, actor, exchangeId: delivery.exchangeId, deliveryId: delivery.id, detail: { recipient: delivery.recipient, ...detail } } : undefined
  }

  /** Stops workers, the sweeper and the queues; in-flight deliveries finish first. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#watcher) clearInterval(this.#watcher)
    await this.#sweeper.stop()
    await this.#watching
    await Promise.all([...this.#workers.values()].map((w) => w.close().catch(() => {})))
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => {})))
    await this.#http.close()
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms) }),
  ]).finally(() => clearTimeout(timer))
}
