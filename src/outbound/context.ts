import { digestAlg, digestHex, encryptJwe, signJws, type GatewayKeyring } from '../crypto/index.ts'
import type { Directory, Participant } from '../core/directory.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import { DELIVERY_TYP } from '../core/envelope.ts'
import { DeliveryError, type AdapterContext } from './adapter.ts'
import type { PartnerHttp } from './http.ts'

/** What an adapter is lent for one partner: operations, never key material. */
export function adapterContext(recipient: Participant, deps: { keyring: GatewayKeyring; directory: Directory; clock: Clock; logger: Logger; http: PartnerHttp }): AdapterContext {
  return {
    recipient,
    clock: deps.clock,
    logger: deps.logger,
    encryptForRecipient: async (plaintext, header = {}) => {
      // Chosen at each use: during a rotation the newest key valid now; never an expired or revoked one.
      const key = deps.directory.encryptionKeyFor(recipient, deps.clock.now())
      if (key === undefined) throw new DeliveryError('NO_KEY', `${recipient.id} has no encryption key in the directory that is valid now`)
      return encryptJwe(plaintext, key, header)
    },
    partnerMac: (alg, data) => deps.keyring.partnerMac(recipient.id, alg, data),
    verifyPartnerMac: (alg, data, mac) => deps.keyring.verifyPartnerMac(recipient.id, alg, data, mac),
    http: (url) => deps.http.pool(url, recipient.http),
    async deliveryStatement(f) {
      // In the recipient's suite when the gateway has it (the partner verifies with what it speaks).
      const suite = recipient.encryptionKey?.suite ?? 'national'
      const signer = deps.keyring.signer(suite) ?? deps.keyring.signer(suite === 'national' ? 'international' : 'national')
      if (signer === undefined) throw new DeliveryError('NO_KEY', 'the gateway has no signing key')
      const statement = {
        ...(f.exchangeId ? { exchangeId: f.exchangeId } : {}), ...(f.deliveryId ? { deliveryId: f.deliveryId } : {}), ...(f.queryId ? { queryId: f.queryId } : {}),
        messageId: f.messageId, from: f.sender, to: recipient.id,
        digestAlg: digestAlg(signer.suite), digest: digestHex(signer.suite, Buffer.from(f.jws, 'latin1')),
        iat: Math.floor(deps.clock.now().getTime() / 1000),
      }
      return signJws(Buffer.from(JSON.stringify(statement), 'utf8'), signer, { typ: DELIVERY_TYP })
    },
  }
}
