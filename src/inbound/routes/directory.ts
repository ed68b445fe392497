import type { FastifyInstance } from 'fastify'
import type { Directory } from '../../core/directory.ts'
import { signJws, type GatewayKeyring, type Suite } from '../../crypto/index.ts'
import type { Tongban } from '../../gateway/services.ts'
import { openApiDocument } from '../openapi.ts'
import { answers, CompactJws, OpenApi } from '../responses.ts'

/**
 * GET /v1/directory: the participants' public keys and allowed types plus the gateway's own
 * keys, as a JWS signed by the gateway (both suites: ?suite=national|international), so that
 * partners can verify one another end to end. Anyone may ask, unauthenticated: the document is
 * signed once per directory (a reload brings a new one) and suite, and served from that cache.
 */
export async function directoryRoutes(app: FastifyInstance): Promise<void> {
  // Keyed by the loaded Directory and its version (a reload swaps the content of the same
  // object and counts the version up), and the keyring that signs it, so a reloaded directory
  // is signed afresh. The promise is cached, so concurrent first requests sign once.
  const signed = new WeakMap<Directory, { keyring: GatewayKeyring; version: number; bySuite: Map<Suite, Promise<string>> }>()
  app.get<{ Querystring: { suite?: string } }>('/v1/directory', { schema: { response: answers({ 200: CompactJws }) } }, async (request, reply) => {
    const { directory, keyring } = app.tb
    const suite: Suite = request.query.suite === 'national' ? 'national' : 'international'
    let entry = signed.get(directory)
    if (entry === undefined || entry.keyring !== keyring || entry.version !== directory.version) {
      signed.set(directory, entry = { keyring, version: directory.version, bySuite: new Map() })
    }
    const bySuite = entry.bySuite
    let jws = bySuite.get(suite)
    if (jws === undefined) {
      jws = signDirectory(app.tb, directory, suite)
      bySuite.set(suite, jws)
      // A failed signature is not kept: the next request tries again.
      jws.catch(() => { bySuite.delete(suite) })
    }
    return reply.type('application/jose').send(await jws)
  })
}

/** The directory document, signed by the gateway in `suite` (or its only suite). */
async function signDirectory(tb: Tongban, directory: Directory, suite: Suite): Promise<string> {
  const signer = tb.keyring.signer(suite) ?? tb.keyring.signer(tb.keyring.suites[0] ?? 'international')
  const keys = tb.keyring.publicKeys()
  const doc = {
    gateway: {
      id: tb.config.gatewayId,
      signingKeys: keys.signing.map((k) => ({ kid: k.kid, publicKey: k.toPem(), fingerprint: k.fingerprint })),
      encryptionKeys: keys.encryption.map((k) => ({ kid: k.kid, alg: k.jweAlg, publicKey: k.toPem(), fingerprint: k.fingerprint })),
    },
    ...directory.publicView(),
    issuedAt: tb.clock.now().toISOString(),
  }
  return signJws(Buffer.from(JSON.stringify(doc), 'utf8'), signer!, { typ: 'tongban+directory' })
}

/** GET /v1/openapi.json: the API description, generated from the live schemas. */
export async function openApiRoutes(app: FastifyInstance): Promise<void> {
  const doc = openApiDocument(app.tb.validator, app.tb.config.gatewayId)
  app.get('/v1/openapi.json', { schema: { response: answers({ 200: OpenApi }) } }, async () => doc)
}
