import { ERRORS } from '../errors.ts'

/**
 * What every route answers, as JSON Schema: given to each route as Fastify's `schema.response`
 * and used by the OpenAPI document (one source, so the two cannot drift). The gateway serializes
 * with JSON.stringify, never from these schemas (nothing is dropped or coerced on the way out); a
 * gateway built with `validateResponses` (the tests) checks each answer against them instead
 * (responseCheck in problem.ts).
 */
type Schema = Record<string, unknown>

const str: Schema = { type: 'string' }
const int: Schema = { type: 'integer', minimum: 0 }
const bool: Schema = { type: 'boolean' }
const time: Schema = { type: 'string', format: 'date-time' }
const uuid: Schema = { type: 'string', format: 'uuid' }
const b64: Schema = { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', description: 'base64 (standard, padded)' }
const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as string, 'null'] })
const obj = (properties: Record<string, Schema>, optional: readonly string[] = [], extra = false): Schema => ({
  type: 'object', additionalProperties: extra, properties, required: Object.keys(properties).filter((k) => !optional.includes(k)),
})
const list = (items: Schema): Schema => ({ type: 'array', items })

/** RFC 9457 problem details, as every error answers (docs/errors.md). */
export const Problem: Schema = {
  type: 'object', required: ['type', 'title', 'status', 'code', 'fault'],
  properties: {
    type: str, title: str, status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { enum: Object.keys(ERRORS) }, fault: { enum: ['client', 'gateway', 'partner'] }, detail: str, instance: str,
    violations: list({ type: 'object', required: ['pointer', 'rule'], properties: { pointer: str, rule: str, message: str } }),
  },
}

/** A compact JWS (three base64url parts) or JWE (five), as application/jose. */
export const CompactJws: Schema = { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+$', description: 'A compact JWS' }
export const CompactJwe: Schema = { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', description: 'A compact JWE' }

const deliveryStatus = { enum: ['pending', 'delivered', 'dead'] }
const stepStatus = { enum: ['open', 'completed', 'rejected', 'cancelled'] }
const queryOutcome = { enum: ['pending', 'answered', 'refused', 'timeout', 'unavailable', 'rejected', 'bad_answer', 'error'] }

export const TokenResponse = obj({ access_token: str, token_type: { const: 'Bearer' }, expires_in: { type: 'integer', minimum: 1 } })

export const ExchangeView = obj({
  exchangeId: uuid, messageId: str, type: str, v: { type: 'integer', minimum: 1 }, from: str, caseId: nullable(str), unitCode: nullable(str),
  suite: { enum: ['national', 'international'] }, receivedAt: time, status: deliveryStatus,
  deliveries: list(obj({ deliveryId: uuid, recipient: str, status: deliveryStatus, attempts: int, lastError: nullable(str), deliveredAt: nullable(time), deadAt: nullable(time) })),
  asOf: time,
})

export const CaseView = obj({
  caseId: str, unitCode: str, openedBy: str, createdAt: time, participants: list(str), pendingParticipants: list(str),
  linkedCase: nullable(obj({ caseId: str, relation: { type: 'string', enum: ['home', 'forwarded'] }, openedBy: nullable(str) })),
  steps: list(obj({ stepId: uuid, kind: str, status: stepStatus, requester: str, responder: str, openedAt: time, closedAt: nullable(time), dueAt: nullable(time), overdue: bool, waitingFor: nullable(str) })),
  exchanges: list(obj({
    exchangeId: uuid, messageId: str, type: str, from: str, receivedAt: time,
    deliveries: list(obj({ deliveryId: uuid, recipient: str, status: deliveryStatus, attempts: int, lastError: nullable(str), deliveredAt: nullable(time) })),
  })),
  // Each event's own details follow its four common members (docs/protocol.md §7).
  timeline: list(obj({ at: time, event: str, actor: nullable(str), exchangeId: nullable(uuid), deliveryId: nullable(uuid) }, [], true)),
  asOf: time,
})

export const CaseList = obj({ cases: list(obj({ caseId: str, unitCode: str, createdAt: time, overdueSteps: int, openSteps: int })), asOf: time })

export const QueryList = obj({
  queries: list(obj({
    queryId: uuid, asker: str, messageId: str, type: str, responder: str, unitCode: nullable(str), certificateNo: nullable(str), purpose: nullable(str),
    applicationNo: nullable(str), askedAt: time, answeredAt: nullable(time), outcome: queryOutcome, errorCode: nullable(str),
  })),
})

export const QueryProblem = obj({
  queryId: uuid, type: str, messageId: str, asker: str, responder: str, outcome: queryOutcome, errorCode: nullable(str), answeredAt: nullable(time),
  reason: nullable(str), violations: list({ type: 'object', required: ['pointer', 'rule'], properties: { pointer: str, rule: str, message: str } }),
})

const hashAlg = { enum: ['SM3', 'SHA-256'] }
/** POST /v1/attachments: what was stored (name it so in a message's `attachments`). */
export const AttachmentInfo = obj({ id: uuid, digestAlg: hashAlg, digest: { type: 'string', pattern: '^[0-9a-f]{64}$' }, mediaType: str, size: int })
/** GET /v1/attachments/:id: not JSON, a stream (application/vnd.tongban.attachment). */
export const AttachmentStream: Schema = { description: 'An attachment stream (application/vnd.tongban.attachment): "TBA1", the key JWE to your encryption key, then the records (docs/protocol.md, Attachments)' }
export const Checkpoint = obj({ origin: str, hashAlg, treeSize: int, rootHash: b64, timestamp: str, note: str, vkeys: list(str) })
export const InclusionProof = obj({ index: int, treeSize: int, hashAlg, leafHash: b64, hashes: list(b64), rootHash: b64, checkpoint: str, tlogProof: str }, ['checkpoint', 'tlogProof'])
export const ConsistencyProof = obj({ from: int, to: int, hashAlg, hashes: list(b64), fromRoot: b64, toRoot: b64 })
export const LedgerEntry: Schema = {
  oneOf: [
    obj({ id: uuid, kind: str, leafIndex: { ...nullable(int), description: 'null while not yet integrated' }, leafHash: b64, entry: { type: 'string', description: 'The entry, RFC 8785 canonical JSON (docs/ledger.md §2)' } }),
    obj({ leafIndex: int, leafHash: b64 }),
  ],
}

export const Deliveries = obj({ deliveries: list(obj({ deliveryId: uuid, exchangeId: uuid, recipient: str, status: deliveryStatus, attempts: int, lastError: nullable(str), updatedAt: time })) })
export const Replayed = obj({ deliveryId: uuid, status: deliveryStatus, attempts: int })
export const Reloaded = obj({ version: int, previousVersion: int, participants: int })
export const StepClosed = obj({ caseId: str, stepId: str, status: { const: 'cancelled' } })
export const Health = obj({ status: { const: 'ok' } })
export const Ready = obj({ status: { enum: ['ready', 'not ready'] }, checks: obj({ postgres: bool, redis: bool, keys: bool, suites: list({ enum: ['national', 'international'] }) }) })
export const OpenApi: Schema = { type: 'object', required: ['openapi', 'info', 'paths'], properties: { openapi: { const: '3.1.0' } } }
/** An adapter's answer, in its partner's own format (docs/adapters.md): anything. */
export const AdapterAnswer: Schema = { description: 'In the partner\'s own format' }

/** A route's `schema.response`: its answers by status, and problem details for every error. */
export function answers(byStatus: Record<number, Schema>): Record<string, Schema> {
  return { ...Object.fromEntries(Object.entries(byStatus).map(([s, schema]) => [s, schema])), '4xx': Problem, '5xx': Problem }
}
