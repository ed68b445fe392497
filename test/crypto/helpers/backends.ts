// The SM backends a test runs on: each one this machine has, and the addon with its async SM2
// operations on the event loop (crypto.sm2Thread event-loop), which answers through other code.
import { availableSmBackends, smBackend, type SmBackend } from '../../../src/crypto/sm/index.ts'
import { onEventLoop } from '../../../src/crypto/sm/backend.ts'

export function backendVariants(): Array<[string, SmBackend]> {
  const names = availableSmBackends()
  const variants: Array<[string, SmBackend]> = names.map((n) => [n, smBackend(n)])
  if (names.includes('native')) variants.push(['native on the event loop', onEventLoop(smBackend('native'))])
  return variants
}
