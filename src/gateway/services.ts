import type { Redis } from 'ioredis'
import type { Config } from '../config/index.ts'
import type { GatewayKeyring } from '../crypto/index.ts'
import type { AcceptService } from '../core/accept.ts'
import type { BatchService } from '../core/batches.ts'
import type { AttachmentService } from '../core/attachments.ts'
import type { WorkingCalendar } from '../core/calendar.ts'
import type { DeadlineService } from '../core/deadlines.ts'
import type { RetentionService } from '../core/retention.ts'
import type { Directory, KeyOwner } from '../core/directory.ts'
import type { MessageValidator } from '../core/schemas.ts'
import type { DeliveryService } from '../outbound/delivery.ts'
import type { QueryForwarder } from '../outbound/query.ts'
import type { QueryService } from '../core/queries.ts'
import type { PartnerAdapter } from '../outbound/adapter.ts'
import type { Db } from '../store/db.ts'
import type { NonceStore } from '../store/nonces.ts'
import type { RefusalCounter } from '../store/operations.ts'
import type { OperatorAccounts } from '../core/operators.ts'
import type { Clock, IdSource } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import type { Ledger } from '../ledger/index.ts'
import type { GatewayMetrics } from './metrics.ts'
import type { ResponseFault } from '../inbound/response-check.ts'

/** Everything the gateway's plugins provide, filled in plugin order (infrastructure → domain → routes). */
export interface Tongban {
  readonly config: Config
  readonly clock: Clock
  readonly ids: IdSource
  readonly logger: Logger
  readonly adapters: ReadonlyMap<string, PartnerAdapter>
  /** The routes served (method, URL pattern), as registered. */
  readonly routes: Array<{ method: string; url: string; responses?: Record<string, object> }>
  /** Answers that did not match their route's response schema (only with validateResponses: the tests). */
  readonly responseFaults: ResponseFault[]
  /** Whether answers are checked against their routes' schemas and declared errors (validateResponses: the tests). */
  readonly checkAnswers: boolean
  readonly metrics: GatewayMetrics
  /** Where GET /metrics is served (set when the metrics listener is up). */
  metricsUrl?: string
  /** The working-day calendar (tests may inject one). */
  readonly calendar?: WorkingCalendar
  db: Db
  redis: Redis
  keyring: GatewayKeyring
  ledger: Ledger
  validator: MessageValidator
  directory: Directory
  nonces: NonceStore
  /** Refused requests per minute, shared by all instances (the console's overview). */
  refusals: RefusalCounter
  /** Console operators' accounts (argon2id + TOTP). */
  operators: OperatorAccounts
  /** Where the operator console listens (set when its listener is up). */
  consoleUrl?: string
  /** The console's routes, as registered ("GET /overview"), when the console runs. */
  consoleRoutes?: string[]
  accept: AcceptService
  batches: BatchService
  attachments: AttachmentService
  delivery: DeliveryService
  deadlines: DeadlineService
  /** The purge of settled bodies (retention.purgeAfterDays). */
  retention: RetentionService
  forwarder: QueryForwarder
  queries: QueryService
  /** Reloads the participant directory (SIGHUP, operators): validated first, swapped at once, the old one kept on a fault. */
  reloadDirectory: (by: string) => Promise<DirectoryReload>
}

/** The outcome of a directory reload. */
export interface DirectoryReload {
  /** The directory's version after the reload (each successful load counts one up). */
  readonly version: number
  readonly previousVersion: number
  readonly participants: number
}

/** The authenticated caller of a request (from its access token). */
export type Caller = KeyOwner

declare module 'fastify' {
  interface FastifyInstance {
    tb: Tongban
  }
  interface FastifyRequest {
    caller?: Caller
  }
}
