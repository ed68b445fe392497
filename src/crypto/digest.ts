import { createHash, createHmac } from 'node:crypto'
import { sm } from './sm/index.ts'
import type { Suite } from './keys.ts'

/** The receipt digest of the exact request body: SM3 (national) or SHA-256 (international), hex. */
export function digestHex(suite: Suite, bytes: Uint8Array): string {
  return suite === 'national' ? sm().sm3(bytes).toString('hex') : createHash('sha256').update(bytes).digest('hex')
}

/** Names the digest algorithm of a suite, as written into receipts. */
export function digestAlg(suite: Suite): 'SM3' | 'SHA-256' {
  return suite === 'national' ? 'SM3' : 'SHA-256'
}

/** HMAC-SM3 (legacy partner links) or HMAC-SHA-256, hex. */
export function hmacHex(alg: 'SM3' | 'SHA-256', key: Uint8Array, data: Uint8Array): string {
  return alg === 'SM3' ? sm().hmacSm3(key, data).toString('hex') : createHmac('sha256', key).update(data).digest('hex')
}
