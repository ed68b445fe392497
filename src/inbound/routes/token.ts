import type { FastifyInstance } from 'fastify'
import { TongbanError } from '../../errors.ts'
import { parseJws } from '../../crypto/index.ts'
import { issueToken } from '../auth.ts'
import { ownerId, parseSignedJson, TOKEN_REQUEST_TYP, verifySignature } from '../../core/verify.ts'
import { joseBody } from '../content.ts'
import { claimTokenRequest, purgeTokenRequests } from '../../store/tokens.ts'
import { tokenRequestValidator } from '../../core/schemas.ts'
import { answers, TokenResponse } from '../responses.ts'

/**
 * POST /v1/token: the caller proves it holds a key of the directory with a JWS
 * (typ "tongban+token-request", payload { sub, aud, iat, jti }) and gets a short-lived token.
 */
export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  let lastPurge = 0
  const validateRequest = tokenRequestValidator(app.tb.config.gatewayId)
  app.post('/v1/token', { schema: { response: answers({ 200: TokenResponse }) }, config: { rateLimit: { max: app.tb.config.limits.tokenRequestsPerMinute, timeWindow: 60_000 } } }, async (request, reply) => {
    const tb = app.tb
    const jws = parseJws(joseBody(request))
    const owner = await verifySignature(jws, TOKEN_REQUEST_TYP, { directory: tb.directory, clock: tb.clock })
    // Strictly read, as every signed JSON: no duplicate "sub", no control characters.
    const claims = parseSignedJson(jws.payload, 'token request payload') as { sub?: unknown; aud?: unknown; iat?: unknown; jti?: unknown }
    if (typeof claims !== 'object' || claims === null) throw new TongbanError('TB_ERR_JOSE_MALFORMED', 'the token request payload is not an object')
    // schemas/token-request.v1.json, and aud = this gateway (errors.md: TB_ERR_SCHEMA covers it too).
    const checked = validateRequest(claims)
    if (!checked.ok) throw new TongbanError('TB_ERR_SCHEMA', 'the token request does not match its schema (schemas/token-request.v1.json)', { violations: checked.violations })
    if (claims.sub !== ownerId(owner)) throw new TongbanError('TB_ERR_SIGNER_MISMATCH', 'sub must be the owner of the signing key')
    const now = tb.clock.now().getTime() / 1000
    const window = tb.config.limits.replayWindowSeconds
    if (Math.abs(now - (claims.iat as number)) > window) throw new TongbanError('TB_ERR_IAT_WINDOW', `iat must be within ±${window} s of the gateway clock`, { detail: { gatewayTime: Math.floor(now), windowSeconds: window } })
    // Durable (PostgreSQL), not Redis: a Redis loss must not let a captured request be replayed.
    const at = tb.clock.now()
    if (!(await claimTokenRequest(tb.db, claims.sub as string, claims.jti as string, new Date(at.getTime() + window * 2000)))) {
      throw new TongbanError('TB_ERR_REPLAY', 'this token request (jti) was already used')
    }
    if (at.getTime() - lastPurge > 60_000) {
      lastPurge = at.getTime()
      void purgeTokenRequests(tb.db, at).catch((err: unknown) => request.log.warn({ err }, 'purging expired token request ids failed'))
    }
    // The token is bound to the key that obtained it: it stops working when that key does.
    const { token, expiresIn } = issueToken(request, owner, jws.header.kid as string)
    request.log.info({ sub: claims.sub }, 'access token issued')
    return reply.code(200).send({ access_token: token, token_type: 'Bearer', expires_in: expiresIn })
  })
}
