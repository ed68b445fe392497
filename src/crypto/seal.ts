import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * Encryption at rest for stored message bodies: AES-256-GCM under the gateway's store key,
 * bound to the row it belongs to by the associated data (so a sealed body cannot be moved
 * to another exchange). Layout: version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 */
export class Sealer {
  readonly #key: Buffer

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error('the store key must be 32 bytes')
    this.#key = Buffer.from(key)
  }

  /** Encrypts `plaintext` for storage, bound to `aad`. */
  seal(plaintext: Uint8Array, aad: string): Buffer {
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', this.#key, iv)
    c.setAAD(Buffer.from(aad, 'utf8'))
    const body = Buffer.concat([c.update(plaintext), c.final()])
    return Buffer.concat([Buffer.from([1]), iv, c.getAuthTag(), body])
  }

  /** Decrypts what `seal` produced for the same `aad`; throws if it was altered. */
  open(sealed: Uint8Array, aad: string): Buffer {
    const b = Buffer.from(sealed)
    if (b.length < 29 || b[0] !== 1) throw new Error('not a sealed value')
    const d = createDecipheriv('aes-256-gcm', this.#key, b.subarray(1, 13))
    d.setAAD(Buffer.from(aad, 'utf8'))
    d.setAuthTag(b.subarray(13, 29))
    return Buffer.concat([d.update(b.subarray(29)), d.final()])
  }

  toJSON(): string {
    return '[Sealer]'
  }
}
