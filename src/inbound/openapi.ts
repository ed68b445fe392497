import { ERRORS } from '../errors.ts'
import * as R from './responses.ts'
import { errorsByStatus, routeKey, type RouteKey } from './route-errors.ts'
import { allRules } from '../core/message-types.ts'
import type { MessageValidator } from '../core/schemas.ts'

type Op = Record<string, unknown>

/**
 * A schema file as a component of the OpenAPI document: its local references (`#/definitions/…`,
 * `#/$defs/…`, written for the file as a root) rebased onto the component, and its `$id` and
 * `$schema` left out (so no tool resolves them against the file's own identifier instead).
 */
function asComponent(schema: object, name: string): object {
  const base = `#/components/schemas/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`
  const walk = (v: unknown, top: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, false))
    if (v === null || typeof v !== 'object') return v
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) {
      if (top && (k === '$id' || k === '$schema')) continue
      out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/') ? `${base}${x.slice(1)}` : walk(x, false)
    }
    return out
  }
  return walk(schema, true) as object
}

const jose = (description: string): Op => ({ required: true, content: { 'application/jose': { schema: { type: 'string', description } } } })
const joseAnswer = (description: string, schema: object = R.CompactJws): Op => ({ description, content: { 'application/jose': { schema } } })
/** An operation's problem responses, one per status, from the route's declared errors (route-errors.ts). */
const problems = (key: RouteKey): Op => Object.fromEntries([...errorsByStatus(key)].map(([status, codes]) => [String(status), {
  description: codes.map((c) => `${c}: ${ERRORS[c].title}`).join('; '),
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
}]))
const json = (description: string, schema: object): Op => ({ description, content: { 'application/json': { schema } } })
const bearer = [{ bearer: [] }]

/** Adds each operation's problem responses, from the errors its route declares. */
function withProblems(paths: Record<string, Record<string, Op & { responses: Op }>>): object {
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const key = routeKey(method.toUpperCase(), path.replace(/\{(\w+)\}/g, ':$1'))
      if (key === undefined) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} has no list of errors in route-errors.ts`)
      op.responses = { ...op.responses, ...problems(key) }
    }
  }
  return paths
}

/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the live schemas (one component
 * per message type and version, plus the envelope) and the error catalogue: it cannot drift
 * from what the gateway validates.
 */
export function openApiDocument(validator: MessageValidator, gatewayId: string): object {
  const schemas: Record<string, object> = { Envelope: asComponent(validator.envelopeSchema(), 'Envelope') }
  for (const { type, v } of validator.types()) {
    const s = validator.schema(type, v)
    if (s !== undefined) schemas[`${type}.v${v}`] = asComponent(s, `${type}.v${v}`)
  }
  schemas.Problem = R.Problem
  const types = allRules().map((r) => `\`${r.type}\` (${r.kind}, ${r.from} → ${r.to.join('/')})`).join(', ')
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tongban (通办) inter-agency data-exchange gateway', version: '1',
      description: `Wire protocol v1 (docs/protocol.md). Bodies are compact JWE (to the gateway) of a JWS of an Envelope whose body follows the schema of its type and version (components.schemas). Message types: ${types}. Gateway id (token audience): ${gatewayId}.`,
    },
    // Relative: the gateway that serves this document.
    servers: [{ url: '/', description: 'this gateway' }],
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An access token from POST /v1/token' } } },
    paths: withProblems({
      '/v1/token': { post: { summary: 'Prove a key of the directory, get a short-lived access token', security: [], requestBody: jose('A JWS, typ tongban+token-request, payload { sub, aud, iat, jti }'), responses: { 200: json('Access token', R.TokenResponse) } } },
      '/v1/messages': { post: { summary: 'Send an asynchronous message', security: bearer, requestBody: jose('A JWE (cty tongban+jws) of the sender\'s JWS of an Envelope'), responses: { 202: joseAnswer('Accepted: the receipt (回执), a JWS signed by the gateway in the sender\'s suite'), 200: joseAnswer('The same bytes again: the original receipt') } } },
      '/v1/batches': { post: { summary: 'Send a batch (批量办理): up to limits.batchMessages of your signed messages in one request; each is accepted on its own, as by POST /v1/messages', security: bearer, requestBody: jose('A JWE (cty tongban+jws) of your JWS (typ tongban+batch) of { batchId, from, iat, messages: [compact JWS of an Envelope] }'), responses: { 202: joseAnswer('The batch receipt: a JWS (typ tongban+batch-receipt) the gateway signs in your suite, listing each message\'s receipt or problem'), 200: joseAnswer('The same bytes again: the same batch receipt') } } },
      '/v1/attachments': { post: { summary: 'Upload an attachment (申请材料) for a message to name: a stream encrypted to the gateway, read record by record, checked against its declared digest and size (docs/protocol.md, Attachments)', security: bearer, requestBody: { required: true, content: { 'application/vnd.tongban.attachment': { schema: { type: 'string', format: 'binary', description: '"TBA1", a u32 length and the key JWE (cty tongban+attachment-key, to the gateway), then records: u8 last, u32 length, iv ‖ ciphertext ‖ tag' } } } }, responses: { 201: json('Stored: { id, digestAlg, digest, mediaType, size }: name it so in a message\'s attachments', R.AttachmentInfo) } } },
      '/v1/attachments/{id}': { get: { summary: 'An attachment a message delivered to you names (or your own upload), as a stream encrypted to your encryption key; check it against the signed envelope', security: bearer, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }], responses: { 200: { description: R.AttachmentStream.description as string, content: { 'application/vnd.tongban.attachment': { schema: R.AttachmentStream } } } } } },
      '/v1/queries': {
        post: { summary: 'Send a synchronous query (mortgage.query)', security: bearer, requestBody: jose('A JWE (cty tongban+jws) of the asker\'s JWS of an Envelope'), responses: { 200: joseAnswer('The answer: a JWE to the asker of a JWS (typ tongban+answer) signed by the gateway', R.CompactJwe) } },
        get: { summary: 'The record of queries: one\'s own, or all for operators', security: bearer, parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } }], responses: { 200: json('Queries, newest first', R.QueryList) } },
      },
      '/v1/queries/{id}/problem': { get: { summary: 'Why a query ended as it did: its outcome, error code and, for an answer the gateway refused (502 TB_ERR_PARTNER_BAD_ANSWER), the reason and violations (pointers and rules, never values); for the asker, the answering partner and operators', security: bearer, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }], responses: { 200: json('{ queryId, type, messageId, asker, responder, outcome, errorCode, answeredAt, reason, violations }', R.QueryProblem) } } },
      '/v1/cases': { get: { summary: 'The caller\'s cases, newest first; overdue=true: those with a step past its deadline', security: bearer, parameters: [{ name: 'overdue', in: 'query', schema: { enum: ['true', 'false'] } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } }], responses: { 200: json('Cases', R.CaseList) } } },
      '/v1/cases/{caseId}': { get: { summary: 'A case: steps with deadlines, participants, exchanges with per-recipient delivery status, timeline', security: bearer, parameters: [{ name: 'caseId', in: 'path', required: true, schema: { type: 'string', format: 'case-id' } }], responses: { 200: json('The case', R.CaseView) } } },
      '/v1/cases/{caseId}/evidence': { get: { summary: 'The evidence package (证据包) of a case: the caller\'s own exchanges (all for operators) as accepted, receipts, delivery statements, ledger entries with inclusion proofs to one checkpoint; a JWS signed by the gateway (docs/ledger.md)', security: bearer, parameters: [{ name: 'caseId', in: 'path', required: true, schema: { type: 'string', format: 'case-id' } }], responses: { 200: joseAnswer('A JWS (typ tongban+evidence)') } } },
      '/v1/exchanges/{id}': { get: { summary: 'An exchange and its deliveries', security: bearer, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }], responses: { 200: json('The exchange', R.ExchangeView) } } },
      '/v1/ledger/checkpoint': { get: { summary: 'The latest signed checkpoint of the evidence ledger (a C2SP signed note), or the one of treeSize', security: bearer, parameters: [{ name: 'treeSize', in: 'query', schema: { type: 'integer', minimum: 0 } }], responses: { 200: json('{ origin, hashAlg, treeSize, rootHash, timestamp, note, vkeys }', R.Checkpoint) } } },
      '/v1/ledger/proof/inclusion': { get: { summary: 'The inclusion proof of a leaf, to the latest checkpoint or to treeSize (RFC 9162 §2.1.3)', security: bearer, parameters: [{ name: 'index', in: 'query', required: true, schema: { type: 'integer', minimum: 0 } }, { name: 'treeSize', in: 'query', schema: { type: 'integer', minimum: 1 } }], responses: { 200: json('{ index, treeSize, hashAlg, leafHash, hashes, rootHash, checkpoint?, tlogProof? }', R.InclusionProof) } } },
      '/v1/ledger/proof/consistency': { get: { summary: 'The consistency proof between two tree sizes (RFC 9162 §2.1.4)', security: bearer, parameters: [{ name: 'from', in: 'query', required: true, schema: { type: 'integer', minimum: 0 } }, { name: 'to', in: 'query', required: true, schema: { type: 'integer', minimum: 0 } }], responses: { 200: json('{ from, to, hashAlg, hashes, fromRoot, toRoot }', R.ConsistencyProof) } } },
      '/v1/ledger/entries/{ref}': { get: { summary: 'A ledger entry by leaf index or entry id: whole for the participants it names and operators, else its leaf hash only', security: bearer, parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json('{ id, kind, leafIndex, leafHash, entry } or { leafIndex, leafHash }', R.LedgerEntry) } } },
      '/v1/directory': { get: { summary: 'The participant directory and the gateway\'s keys, signed by the gateway', security: [], parameters: [{ name: 'suite', in: 'query', schema: { enum: ['national', 'international'] } }], responses: { 200: joseAnswer('A JWS (typ tongban+directory)') } } },
      '/v1/openapi.json': { get: { summary: 'This document', security: [], responses: { 200: json('OpenAPI 3.1', R.OpenApi) } } },
      '/v1/admin/deliveries': { get: { summary: 'Deliveries by status (operators)', security: bearer, parameters: [{ name: 'status', in: 'query', schema: { enum: ['pending', 'delivered', 'dead'] } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } }], responses: { 200: json('Deliveries', R.Deliveries) } } },
      '/v1/admin/deliveries/{id}/replay': { post: { summary: 'Replay a dead delivery with fresh attempts (operators)', security: bearer, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }], responses: { 202: json('Back in the queue', R.Replayed) } } },
      '/v1/admin/directory/reload': { post: { summary: 'Reload the participant directory file (and CRLs): validated first, the running directory kept on a fault (operators; SIGHUP does the same)', security: bearer, responses: { 200: json('Reloaded: { version, previousVersion, participants }', R.Reloaded) } } },
      '/v1/admin/cases/{caseId}/steps/{stepId}/close': {
        post: {
          summary: 'Close a stuck case step as cancelled, with a reason recorded in the timeline (operators)', security: bearer,
          parameters: [{ name: 'caseId', in: 'path', required: true, schema: { type: 'string' } }, { name: 'stepId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } } } } },
          responses: { 200: json('Closed: { caseId, stepId, status: "cancelled" }', R.StepClosed) },
        },
      },
      '/v1/adapters/{adapter}/{participant}/{path}': { post: { summary: 'Routes adapters own for their partners\' own formats (docs/adapters.md)', security: [], parameters: ['adapter', 'participant', 'path'].map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })), requestBody: { required: true, content: { '*/*': { schema: { type: 'string' } } } }, responses: { default: { description: 'In the partner\'s own format', content: { '*/*': { schema: R.AdapterAnswer } } } } } },
      '/healthz': { get: { summary: 'The process answers', security: [], responses: { 200: json('ok', R.Health) } } },
      '/readyz': { get: { summary: 'PostgreSQL, Redis and keys are usable', security: [], responses: { 200: json('ready', R.Ready), 503: json('not ready', R.Ready) } } },
    }),
  }
}
