import type { FastifyInstance, FastifyRequest } from 'fastify'
import { TongbanError } from '../errors.ts'

export const JOSE = 'application/jose'

/**
 * The gateway takes request bodies only as application/jose, as raw bytes (signatures cover
 * the exact bytes). Fastify's JSON and text parsers are removed, so any other type is 415
 * TB_ERR_CONTENT_TYPE before a byte of it is interpreted.
 */
export function installJoseParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(JOSE, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body))
}

/** The raw application/jose body of a request, or TB_ERR_CONTENT_TYPE / TB_ERR_JOSE_MALFORMED. */
export function joseBody(request: FastifyRequest): string {
  return joseBytes(request).toString('latin1')
}

/** The raw bytes of an application/jose body (errors as joseBody's). */
export function joseBytes(request: FastifyRequest): Buffer {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== JOSE) throw new TongbanError('TB_ERR_CONTENT_TYPE', `send the body as ${JOSE}`)
  if (!Buffer.isBuffer(request.body) || request.body.length === 0) throw new TongbanError('TB_ERR_JOSE_MALFORMED', 'the body is empty')
  return request.body
}
