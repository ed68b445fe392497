import type { FastifyInstance } from 'fastify'
import { signJws } from '../../crypto/index.ts'
import { openApiDocument } from '../openapi.ts'

/**
 * GET /v1/directory: the participants' public keys and allowed types plus the gateway's own
 * keys, as a JWS signed by the gateway (both suites: ?suite=national|international), so that
 * partners can verify one another end to end.
 */
export async function directoryRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { suite?: string } }>('/v1/directory', async (request, reply) => {
    const tb = app.tb
    const suite = request.query.suite === 'national' ? 'national' : 'international'
    const signer = tb.keyring.signer(suite) ?? tb.keyring.signer(tb.keyring.suites[0] ?? 'international')
    const keys = tb.keyring.publicKeys()
    const doc = {
      gateway: {
        id: tb.config.gatewayId,
        signingKeys: keys.signing.map((k) => ({ kid: k.kid, publicKey: k.toPem(), fingerprint: k.fingerprint })),
        encryptionKeys: keys.encryption.map((k) => ({ kid: k.kid, alg: k.jweAlg, publicKey: k.toPem(), fingerprint: k.fingerprint })),
      },
      ...tb.directory.publicView(),
      issuedAt: tb.clock.now().toISOString(),
    }
    const jws = await signJws(Buffer.from(JSON.stringify(doc), 'utf8'), signer!, { typ: 'tongban+directory' })
    return reply.type('application/jose').send(jws)
  })
}

/** GET /v1/openapi.json: the API description, generated from the live schemas. */
export async function openApiRoutes(app: FastifyInstance): Promise<void> {
  const doc = openApiDocument(app.tb.validator, app.tb.config.gatewayId)
  app.get('/v1/openapi.json', async () => doc)
}
