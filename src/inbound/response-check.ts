import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { undeclaredConsoleError, undeclaredError } from './route-errors.ts'

/** A route's answer that its schema does not describe. */
export interface ResponseFault {
  readonly method: string
  readonly url: string
  readonly status: number
  readonly problem: string
}

/** The schema for one status among a route's `schema.response`: the exact status, then `4xx`/`5xx`, then `default`. */
export function schemaForStatus(responses: Record<string, unknown> | undefined, status: number): unknown {
  if (responses === undefined) return undefined
  return responses[String(status)] ?? responses[`${String(status)[0]}xx`] ?? responses.default
}

/**
 * The gateway's use of response schemas: answers are written with JSON.stringify, as they always
 * were (Fastify's default serializer compiled from the schema would drop undeclared members and
 * coerce values, e.g. write a `const` whatever the value); the schemas document the answers
 * (OpenAPI) and, with `faults` (the tests), are checked against each one.
 */
export function useResponseSchemas(app: FastifyInstance, faults?: ResponseFault[]): void {
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  if (faults !== undefined) installResponseCheck(app, faults)
}

/**
 * Checks every answer against its route's response schema (the tests build the gateway with
 * `validateResponses`): a JSON body is parsed and validated, an application/jose body is checked
 * as a string. An answer its schema does not describe — or a route or status without a schema —
 * becomes a 500 that names the fault, so the test that caused it fails; each fault is also kept
 * in `faults` and logged.
 */
export function installResponseCheck(app: FastifyInstance, faults: ResponseFault[]): void {
  const ajv = new Ajv({ allErrors: true, strict: false })
  addFormats.default(ajv)
  const compiled = new WeakMap<object, ValidateFunction>()
  const validatorOf = (schema: object): ValidateFunction => {
    let v = compiled.get(schema)
    if (v === undefined) {
      v = ajv.compile(schema)
      compiled.set(schema, v)
    }
    return v
  }
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    // An answer to a client that has gone (its body cut off, its connection closed) reaches no one.
    if (request.raw.socket?.destroyed === true) return payload
    const status = reply.statusCode
    const url = request.routeOptions.url
    // Answers before routing (404 of no route, framework errors) have no route schema: they are problem+json.
    const responses = url === undefined ? { '4xx': undefined } : (request.routeOptions.schema?.response as Record<string, unknown> | undefined)
    const type = String(reply.getHeader('content-type') ?? '')
    const problem = checkAnswer(url === undefined ? undefined : schemaForStatus(responses, status), type, payload, validatorOf, url === undefined)
      ?? (type.startsWith('application/problem+json') ? undeclaredError(request.method, url, problemCode(payload)) : undefined)
    if (problem === undefined) return payload
    const fault = { method: request.method, url: url ?? request.url, status, problem }
    faults.push(fault)
    request.log.error(fault, 'answer does not match its response schema')
    void reply.code(500).type('application/problem+json')
    return JSON.stringify({ type: 'urn:tongban:error:TB_ERR_INTERNAL', title: 'Internal error', status: 500, code: 'TB_ERR_INTERNAL', fault: 'gateway', detail: `response schema check: ${fault.problem}` })
  })
}

/**
 * The operator console's side of the check (the tests): a refusal whose code (in `header`) its
 * console route does not declare in route-errors.ts becomes a 500 and is kept in `faults`.
 */
export function installConsoleCheck(app: FastifyInstance, faults: ResponseFault[], header: string): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const code = reply.getHeader(header)
    const problem = typeof code === 'string' ? undeclaredConsoleError(request.method, request.routeOptions.url, code) : undefined
    if (problem === undefined) return payload
    faults.push({ method: request.method, url: request.routeOptions.url ?? request.url, status: reply.statusCode, problem })
    request.log.error({ problem }, 'console answer outside its route\'s declared errors')
    void reply.code(500).header(header, 'TB_ERR_INTERNAL')
    return payload
  })
}

/** The `code` of a problem+json answer. */
function problemCode(payload: unknown): string {
  try {
    const body = JSON.parse(typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '') as { code?: unknown }
    return typeof body.code === 'string' ? body.code : '(no code)'
  } catch {
    return '(not JSON)'
  }
}

function checkAnswer(schema: unknown, type: string, payload: unknown, validatorOf: (s: object) => ValidateFunction, unrouted: boolean): string | undefined {
  if (unrouted) return type.startsWith('application/problem+json') ? undefined : `an answer outside any route is not problem+json (${type})`
  if (schema === undefined || schema === null || typeof schema !== 'object') return 'no response schema for this status'
  // An adapter's answer is in its partner's format: its schema says "anything" (no type).
  if (Object.keys(schema).every((k) => k === 'description')) return undefined
  let body: unknown
  if (type.startsWith('application/json') || type.startsWith('application/problem+json')) {
    if (typeof payload !== 'string') return 'a JSON answer that is not a string once serialized'
    try {
      body = JSON.parse(payload)
    } catch {
      return 'an answer declared JSON that does not parse'
    }
  } else if (type.startsWith('application/jose')) {
    body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('latin1') : undefined
  } else {
    return `an answer of content type "${type}" where the schema expects JSON or JOSE`
  }
  const v = validatorOf(schema)
  if (v(body)) return undefined
  return (v.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ')
}
