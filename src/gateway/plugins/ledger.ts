import fp from 'fastify-plugin'
import { defaultOrigin, instanceName, Ledger } from '../../ledger/index.ts'
import { tsaClient } from '../../ledger/tsa.ts'

/**
 * The evidence ledger (docs/ledger.md): opened at start (its hash and origin checked against
 * the configuration), the gateway's keys recorded, and the integrator running in every process
 * (one at a time places entries; the others skip their round).
 */
export const ledgerPlugin = fp(async (app) => {
  const { config, db, keyring, clock, ids, logger } = app.tb
  const s = config.ledger
  const ledger = new Ledger({
    db, keyring, clock, ids, logger,
    settings: { ...s, origin: s.origin ?? defaultOrigin(config.gatewayId) },
    ...(s.tsaUrl !== undefined ? { timestamp: tsaClient(s.tsaUrl, s.tsaCaFile) } : {}),
  })
  app.tb.ledger = ledger
  if (ledger.enabled) {
    await ledger.open()
    const pub = keyring.publicKeys()
    const keys = [...pub.signing, ...pub.encryption].map((k) => ({ kid: k.kid, spkiSha256: k.fingerprint })).sort((a, b) => (a.kid < b.kid ? -1 : 1))
    await ledger.write('keys.loaded', { instance: instanceName(), keys })
    ledger.start()
    logger.info({ origin: ledger.origin, hash: ledger.hash }, 'evidence ledger open')
  }
  app.addHook('onClose', async () => { await ledger.close() })
}, { name: 'tongban-ledger', dependencies: ['tongban-db', 'tongban-keys'] })
