import { createHash, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { MATERIAL, PublicKey, type PrivateKey } from './keys.ts'
import { spkiPemOf } from './x509.ts'
import { sm, sm2SignatureFromDer, sm2SignatureToDer } from './sm/index.ts'

/**
 * Detached signatures over raw bytes (the ledger's signed notes): SM2 with SM3 and the default
 * user ID 1234567812345678 (GB/T 35276), or ECDSA P-256 with SHA-256; both DER-encoded
 * (SEQUENCE { r INTEGER, s INTEGER }), as OpenSSL and Bouncy Castle write them.
 */
export async function signDetached(key: PrivateKey, data: Uint8Array): Promise<Buffer> {
  const m = key[MATERIAL]()
  if (m.kind === 'sm2') return sm2SignatureToDer(await m.sm2.signAsync(data))
  if (m.kind === 'ec-p256') return nodeSign('sha256', data, { key: m.node, dsaEncoding: 'der' })
  throw new Error(`key ${key.kid}: detached signatures are SM2 or ECDSA P-256 only`)
}

/** True when `sig` (DER) signs `data` under `key` (SM2 or EC P-256); false for anything malformed. */
export async function verifyDetached(key: PublicKey, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  const m = key[MATERIAL]()
  try {
    if (m.kind === 'sm2') return await m.sm2.verifyAsync(data, sm2SignatureFromDer(sig))
    if (m.kind === 'ec-p256') return nodeVerify('sha256', data, { key: m.node, dsaEncoding: 'der' }, sig)
  } catch {
    return false
  }
  return false
}

/** A public key from its DER SubjectPublicKeyInfo. */
export function publicKeyFromDer(kid: string, spki: Buffer): PublicKey {
  return PublicKey.fromPem(kid, spkiPemOf(spki))
}

/** The DER SubjectPublicKeyInfo of a public key. */
export function publicKeyDer(key: PublicKey): Buffer {
  const m = key[MATERIAL]()
  return m.kind === 'sm2' ? m.sm2.toDer() : m.node.export({ type: 'spki', format: 'der' })
}

/** A hash of the ledger's Merkle tree: SM3 (default) or SHA-256; 32 bytes either way. */
export type TreeHash = 'SM3' | 'SHA-256'

/** H(parts…) with the tree's hash. */
export function treeHash(alg: TreeHash, ...parts: Uint8Array[]): Buffer {
  if (alg === 'SM3') return sm().sm3(parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts))
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}
