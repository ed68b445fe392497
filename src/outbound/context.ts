import { encryptJwe, type GatewayKeyring } from '../crypto/index.ts'
import type { Participant } from '../core/directory.ts'
import type { Clock } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import { DeliveryError, type AdapterContext } from './adapter.ts'
import type { PartnerHttp } from './http.ts'

/** What an adapter is lent for one partner: operations, never key material. */
export function adapterContext(recipient: Participant, deps: { keyring: GatewayKeyring; clock: Clock; logger: Logger; http: PartnerHttp }): AdapterContext {
  return {
    recipient,
    clock: deps.clock,
    logger: deps.logger,
    encryptForRecipient: async (plaintext, header = {}) => {
      if (recipient.encryptionKey === undefined) throw new DeliveryError('NO_KEY', false, `${recipient.id} has no encryption key in the directory`)
      return encryptJwe(plaintext, recipient.encryptionKey, header)
    },
    partnerMac: (alg, data) => deps.keyring.partnerMac(recipient.id, alg, data),
    verifyPartnerMac: (alg, data, mac) => deps.keyring.verifyPartnerMac(recipient.id, alg, data, mac),
    http: (url) => deps.http.pool(url, recipient.http),
  }
}
