import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERRORS, TongbanError, type ErrorCode } from '../errors.ts'

/** Fastify's own error codes, mapped to the catalogue. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'TB_ERR_CONTENT_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'TB_ERR_BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'TB_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'TB_ERR_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_TYPE: 'TB_ERR_CONTENT_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'TB_ERR_CONTENT_TYPE',
  FST_ERR_VALIDATION: 'TB_ERR_BAD_REQUEST',
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: 'TB_ERR_TOKEN_MISSING',
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: 'TB_ERR_TOKEN_EXPIRED',
  FST_JWT_AUTHORIZATION_TOKEN_INVALID: 'TB_ERR_TOKEN_INVALID',
  FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED: 'TB_ERR_TOKEN_INVALID',
  FST_JWT_BAD_REQUEST: 'TB_ERR_TOKEN_INVALID',
  FST_JWT_BAD_COOKIE_REQUEST: 'TB_ERR_TOKEN_INVALID',
}

/**
 * Whether an error means a dependency (PostgreSQL, Redis) is unreachable, as opposed to a bug:
 * the caller should retry later (503), and nothing was accepted.
 */
export function isDependencyDown(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null
  if (e === null || typeof e !== 'object') return false
  const code = typeof e.code === 'string' ? e.code : ''
  const message = typeof e.message === 'string' ? e.message : ''
  if (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|57P0[123]|08...)$/.test(code)) return true
  if (e.name === 'MaxRetriesPerRequestError') return true
  return /Connection is closed|Stream isn't writeable|Command timed out|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message)
}

/** The problem+json document (RFC 9457) for an error: stable code, who is at fault, never a stack or personal data. */
export function toProblem(err: unknown, instance: string): { status: number; body: Record<string, unknown>; internal: boolean } {
  let e: TongbanError
  let internal = false
  if (err instanceof TongbanError) e = err
  else {
    const fe = err as Partial<FastifyError>
    const mapped = fe?.code !== undefined ? FASTIFY_CODES[fe.code] : undefined
    if (mapped !== undefined) e = new TongbanError(mapped, mapped === 'TB_ERR_BAD_REQUEST' ? 'malformed request' : undefined)
    else if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) e = new TongbanError('TB_ERR_BAD_REQUEST', 'malformed request')
    else if (isDependencyDown(err)) e = new TongbanError('TB_ERR_UNAVAILABLE', 'a gateway dependency is unavailable: retry later')
    else {
      e = new TongbanError('TB_ERR_INTERNAL')
      internal = true
    }
  }
  const body: Record<string, unknown> = {
    type: `urn:tongban:error:${e.code}`,
    title: ERRORS[e.code].title,
    status: e.status,
    code: e.code,
    fault: e.fault,
    detail: e.message,
    instance,
  }
  if (e.violations !== undefined) body.violations = e.violations
  if (e.detail !== undefined) for (const [k, v] of Object.entries(e.detail)) if (!(k in body)) body[k] = v
  return { status: e.status, body, internal }
}

/** Sends an error as problem+json. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body, internal } = toProblem(err, request.id)
  const code = body.code as string
  request.server.tb?.metrics?.rejected.inc({ code })
  if (internal) request.log.error({ err, code }, 'internal error')
  else if (code === 'TB_ERR_UNAVAILABLE') request.log.warn({ err, code }, 'dependency unavailable')
  else request.log.info({ code, status, cause: (err as { cause?: { message?: string } }).cause?.message }, 'request rejected')
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="tongban"')
  if (status === 503) void reply.header('retry-after', '5')
  return reply.code(status).type('application/problem+json').send(body)
}

/** Routes every error and unknown route through the catalogue. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendProblem(request, reply, err))
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, new TongbanError('TB_ERR_NOT_FOUND', 'no such route')))
}
