import fastifyJwt from '@fastify/jwt'
import { createVerifier } from 'fast-jwt'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { TongbanError } from '../errors.ts'
import type { Caller } from '../gateway/services.ts'
import { ownerId } from '../core/verify.ts'
import { Remembered } from '../util/remembered.ts'

interface TokenClaims {
  readonly sub: string
  readonly kind: 'participant' | 'operator'
  /** The key (directory kid) whose signed token request obtained the token. */
  readonly kid: string
  readonly aud?: unknown
  readonly exp?: unknown
  readonly nbf?: unknown
}

/**
 * One token verifier per gateway, built once: `app.jwt.verify` with per-call options (the
 * gateway's clock) builds a new verifier and a new key object on every request. Its signature,
 * algorithm, issuer and audience checks are fast-jwt's; expiry and not-before are checked in
 * `authenticate` against the gateway's clock, as fast-jwt would (expired when now > exp).
 */
const verifiers = new WeakMap<FastifyInstance['tb'], (token: string) => TokenClaims>()

/** Access tokens: HS256 JWTs issued by POST /v1/token, short-lived, checked on every call. */
export const authPlugin = fp(async (app) => {
  const { keyring, config } = app.tb
  await app.register(fastifyJwt, {
    secret: keyring.tokenSecret(),
    // Bound to this gateway (iss and aud): a token of another gateway sharing the secret is refused.
    sign: { algorithm: 'HS256', iss: config.gatewayId, aud: config.gatewayId },
    verify: { algorithms: ['HS256'], allowedIss: config.gatewayId, allowedAud: config.gatewayId },
  })
  // Keyed by the gateway's services, which every encapsulated context (request.server) shares.
  verifiers.set(app.tb, remembered(createVerifier({
    key: keyring.tokenSecret(), algorithms: ['HS256'], allowedIss: config.gatewayId, allowedAud: config.gatewayId, ignoreExpiration: true, ignoreNotBefore: true,
  }) as (token: string) => TokenClaims))
}, { name: 'tongban-auth', dependencies: ['tongban-keys'] })

/** How many verified tokens a gateway remembers (about 2 MB at most). */
export const REMEMBERED_TOKENS = 4096

/**
 * A verifier that remembers the tokens it verified, by their exact text: a client sends the same
 * token on every call until it expires, and decoding it and checking its HMAC again cost about 2%
 * of the main thread per message (docs/performance.md). Only a token that verified is remembered
 * (a bad one is checked, and refused, every time); expiry, not-before, audience, the key and the
 * subject are still checked on every call, by `authenticate`. The oldest is forgotten first.
 */
export function remembered(verify: (token: string) => TokenClaims, max = REMEMBERED_TOKENS): (token: string) => TokenClaims {
  const known = new Remembered<TokenClaims>(max)
  return (token) => known.get(token, () => Object.freeze(verify(token)))
}

/** Issues an access token for a verified key owner, bound to the key `kid` that proved it. */
export function issueToken(request: FastifyRequest, caller: Caller, kid: string): { token: string; expiresIn: number } {
  const app = request.server
  const ttl = app.tb.config.limits.tokenTtlSeconds
  const claims: TokenClaims = caller.kind === 'participant'
    ? { sub: caller.participant.id, kind: 'participant', kid }
    : { sub: caller.operator.id, kind: 'operator', kid }
  const token = app.jwt.sign(claims, { expiresIn: ttl, clockTimestamp: app.tb.clock.now().getTime() })
  return { token, expiresIn: ttl }
}

/** Resolves the caller from the Authorization header; throws a TB_ERR_TOKEN_* error. */
export function authenticate(request: FastifyRequest): Caller {
  const app = request.server
  const header = request.headers.authorization
  if (header === undefined || header === '') throw new TongbanError('TB_ERR_TOKEN_MISSING', 'send "Authorization: Bearer <token>" (POST /v1/token)')
  const m = /^Bearer\s+([A-Za-z0-9_.-]+)$/i.exec(header)
  if (!m) throw new TongbanError('TB_ERR_TOKEN_INVALID', 'the Authorization header is not a Bearer token')
  const verify = verifiers.get(app.tb)
  if (verify === undefined) throw new TongbanError('TB_ERR_INTERNAL', 'no token verifier')
  let claims: TokenClaims
  try {
    claims = verify(m[1] as string)
  } catch {
    throw new TongbanError('TB_ERR_TOKEN_INVALID', 'the access token is not valid')
  }
  const now = app.tb.clock.now().getTime()
  const date = (v: unknown): number | undefined => (v === undefined ? undefined : typeof v === 'number' ? v * 1000 : NaN)
  const exp = date(claims.exp)
  const nbf = date(claims.nbf)
  if (Number.isNaN(exp) || Number.isNaN(nbf) || (nbf !== undefined && now < nbf)) throw new TongbanError('TB_ERR_TOKEN_INVALID', 'the access token is not valid')
  if (exp !== undefined && now > exp) throw new TongbanError('TB_ERR_TOKEN_EXPIRED', 'the access token has expired: request a new one')
  // fast-jwt checks aud only when the token has one: a token without it is not for this gateway.
  if (claims.aud !== app.tb.config.gatewayId) throw new TongbanError('TB_ERR_TOKEN_INVALID', 'the access token is not for this gateway')
  // A token outlives nothing: it works only while the key that obtained it is in the directory,
  // valid now and owned by the token's subject (a removed, expired or revoked key ends it), and
  // only while its subject is a participant or operator.
  const key = typeof claims.kid === 'string' ? app.tb.directory.signingKey(claims.kid, app.tb.clock.now()) : undefined
  if (key === undefined || ownerId(key.owner) !== claims.sub) throw new TongbanError('TB_ERR_TOKEN_INVALID', 'the key that obtained this token is no longer valid: request a new token')
  if (claims.kind === 'participant') {
    const participant = app.tb.directory.participant(claims.sub)
    if (participant === undefined) throw new TongbanError('TB_ERR_TOKEN_INVALID', 'the token subject is no longer a participant')
    return { kind: 'participant', participant }
  }
  const operator = app.tb.directory.operator(claims.sub)
  if (operator === undefined) throw new TongbanError('TB_ERR_TOKEN_INVALID', 'the token subject is no longer an operator')
  return { kind: 'operator', operator }
}

/** onRequest hook: authenticates before the body is even read. */
export async function requireCaller(request: FastifyRequest): Promise<void> {
  request.caller = authenticate(request)
}

/** The caller of an authenticated route. */
export function callerOf(request: FastifyRequest): Caller {
  if (request.caller === undefined) throw new TongbanError('TB_ERR_TOKEN_MISSING')
  return request.caller
}

/** Participant callers only. */
export function participantOf(request: FastifyRequest) {
  const c = callerOf(request)
  if (c.kind !== 'participant') throw new TongbanError('TB_ERR_FORBIDDEN', 'this endpoint is for participants')
  return c.participant
}

/** onRequest hook for /v1/admin: operators only. */
export async function requireOperator(request: FastifyRequest): Promise<void> {
  const c = authenticate(request)
  if (c.kind !== 'operator') throw new TongbanError('TB_ERR_FORBIDDEN', 'operator role required')
  request.caller = c
}
