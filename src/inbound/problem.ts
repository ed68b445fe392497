import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERRORS, isTongbanError, TongbanError, type ErrorCode } from '../errors.ts'
import type { Tongban } from '../gateway/services.ts'

/**
 * Fastify's own error codes, mapped to the catalogue with a message of ours (a Fastify message
 * may echo the URL or the body). Every other Fastify 4xx is TB_ERR_BAD_REQUEST; nothing that
 * reaches a caller carries an FST_* code.
 */
const FASTIFY_CODES: Readonly<Record<string, readonly [ErrorCode, string?]>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['TB_ERR_CONTENT_TYPE', 'send the body as application/jose'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['TB_ERR_BAD_REQUEST', 'the Content-Length does not match the body'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['TB_ERR_BODY_TOO_LARGE'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['TB_ERR_BAD_REQUEST', 'the body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['TB_ERR_BAD_REQUEST', 'the body is not JSON'],
  FST_ERR_CTP_EMPTY_TYPE: ['TB_ERR_CONTENT_TYPE', 'send the body as application/jose'],
  FST_ERR_CTP_INVALID_TYPE: ['TB_ERR_CONTENT_TYPE', 'send the body as application/jose'],
  FST_ERR_VALIDATION: ['TB_ERR_BAD_REQUEST'],
  FST_ERR_BAD_URL: ['TB_ERR_BAD_REQUEST', 'the URL is not valid (a percent-encoding does not decode)'],
  FST_ERR_MAX_PARAM_LENGTH: ['TB_ERR_BAD_REQUEST', 'a path parameter is too long'],
  FST_ERR_NOT_FOUND: ['TB_ERR_NOT_FOUND', 'no such route'],
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: ['TB_ERR_TOKEN_MISSING'],
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: ['TB_ERR_TOKEN_EXPIRED'],
  FST_JWT_AUTHORIZATION_TOKEN_INVALID: ['TB_ERR_TOKEN_INVALID'],
  FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED: ['TB_ERR_TOKEN_INVALID'],
  FST_JWT_BAD_REQUEST: ['TB_ERR_TOKEN_INVALID'],
  FST_JWT_BAD_COOKIE_REQUEST: ['TB_ERR_TOKEN_INVALID'],
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
    if (mapped !== undefined) e = new TongbanError(mapped[0], mapped[1] ?? (mapped[0] === 'TB_ERR_BAD_REQUEST' ? 'malformed request' : undefined))
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
  const tb = request.server.tb as Partial<Tongban> | undefined
  if (tb?.refusals !== undefined && tb.clock !== undefined) tb.refusals.count(tb.clock.now())
  if (internal) request.log.error({ err, code }, 'internal error')
  else if (code === 'TB_ERR_UNAVAILABLE') request.log.warn({ err, code }, 'dependency unavailable')
  else request.log.info({ code, status, cause: (err as { cause?: { message?: string } }).cause?.message }, 'request rejected')
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="tongban"')
  if (status === 503) void reply.header('retry-after', '5')
  if (status === 429 && typeof body.retryAfterSeconds === 'number') void reply.header('retry-after', String(body.retryAfterSeconds))
  return reply.code(status).type('application/problem+json').send(body)
}

/**
 * Fastify's `frameworkErrors` option: errors raised before routing (a URL whose percent-encoding
 * does not decode, a path parameter over maxParamLength) go through the catalogue too.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void sendProblem(request, reply, err)
}

/**
 * Fastify's `clientErrorHandler` option: a request Node's HTTP parser refuses (a bad request
 * line, an unknown method, headers over the limit) never reaches Fastify's routing; answer it as
 * problem+json TB_ERR_BAD_REQUEST too, then close the connection.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const detail = err.code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are too large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'the request was not received in time' : 'the request is not valid HTTP'
  const { body } = toProblem(new TongbanError('TB_ERR_BAD_REQUEST', detail), '')
  delete body.instance
  const text = JSON.stringify(body)
  if (socket.writable) {
    socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
  }
  socket.destroy()
}

/**
 * The HTTP server's `checkExpectation` event: Node answers an `Expect` other than 100-continue
 * with a bare 417 of its own; answer it as problem+json TB_ERR_BAD_REQUEST instead.
 */
export function expectationFailed(_request: IncomingMessage, response: ServerResponse): void {
  const { body } = toProblem(new TongbanError('TB_ERR_BAD_REQUEST', 'the only Expect the gateway takes is 100-continue'), '')
  delete body.instance
  const text = JSON.stringify(body)
  response.writeHead(400, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text), connection: 'close' }).end(text)
}

/** Routes every error and unknown route through the catalogue. */
export function installProblemHandlers(app: FastifyInstance): void {
  // A request for no route is 404 whatever its body: the 404 handler's body is read first, and a
  // refusal of that body (its type, its size) would otherwise answer instead.
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const unrouted = request.is404 && !isTongbanError(err) && (err.statusCode ?? 500) < 500
    return sendProblem(request, reply, unrouted ? new TongbanError('TB_ERR_NOT_FOUND', 'no such route') : err)
  })
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, new TongbanError('TB_ERR_NOT_FOUND', 'no such route')))
}
