// The published GB/T 32905 / 32907 / 32918 vectors (test/fixtures/gm-vectors.json), typed.
import { readFileSync } from 'node:fs'

interface Vectors {
  sm3: Array<{ msg_ascii?: string; msg_ascii_repeat?: { unit: string; times: number }; digest: string }>
  sm4: Array<{ mode: string; key: string; plaintext: string; ciphertext: string }>
  sm2_curve_sm2p256v1: Record<'oid' | 'p' | 'a' | 'b' | 'n' | 'gx' | 'gy', string>
  sm2_sign: Record<'d' | 'px' | 'py' | 'id_ascii' | 'msg_ascii' | 'k' | 'za' | 'e' | 'r' | 's', string>
  sm2_encrypt_c1c3c2: Record<'d' | 'k' | 'msg_ascii' | 'c1' | 'c3' | 'c2', string>
}

export const vectors = JSON.parse(readFileSync(new URL('../../fixtures/gm-vectors.json', import.meta.url), 'utf8')) as Vectors

/** Bytes of a hex string. */
export const hex = (s: string): Buffer => Buffer.from(s, 'hex')
