/**
 * SM4 (GB/T 32907-2016) in TypeScript, independent of OpenSSL: block cipher, CBC with PKCS#7.
 * Table-driven and therefore not constant-time (cache timing); the native backend is the one
 * for production.
 */
import { SmError } from '../errors.ts'

const SBOX = Uint8Array.from(Buffer.from(
  'd690e9fecce13db716b614c228fb2c052b679a762abe04c3aa44132649860699' +
  '9c4250f491ef987a33540b43edcfac62e4b31ca9c908e89580df94fa758f3fa6' +
  '4707a7fcf37317ba83593c19e6854fa8686b81b27164da8bf8eb0f4b70569d35' +
  '1e240e5e6358d1a225227c3b01217887d40046579fd327524c3602e7a0c4c89e' +
  'eabf8ad240c738b5a3f7f2cef96115a1e0ae5da49b341a55ad933230f58cb1e3' +
  '1df6e22e8266ca60c02923ab0d534e6fd5db3745defd8e2f03ff6a726d6c5b51' +
  '8d1baf92bbddbc7f11d95c411f105ad80ac13188a5cd7bbd2d74d012b8e5b4b0' +
  '8969974a0c96777e65b9f109c56ec68418f07dec3adc4d2079ee5f3ed7cb3948', 'hex'))

const FK = [0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc]
const CK = new Uint32Array(32)
for (let i = 0; i < 32; i++) {
  let v = 0
  for (let j = 0; j < 4; j++) v = (v << 8) | (((4 * i + j) * 7) & 0xff)
  CK[i] = v >>> 0
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n))
}

function tau(a: number): number {
  return ((SBOX[(a >>> 24) & 0xff] as number) << 24) | ((SBOX[(a >>> 16) & 0xff] as number) << 16) |
    ((SBOX[(a >>> 8) & 0xff] as number) << 8) | (SBOX[a & 0xff] as number)
}

// T = L ∘ τ for the rounds, as one table per byte position (L is linear, so it distributes).
const T0 = new Int32Array(256)
const T1 = new Int32Array(256)
const T2 = new Int32Array(256)
const T3 = new Int32Array(256)
for (let i = 0; i < 256; i++) {
  const b = (SBOX[i] as number) << 24
  const l = b ^ rotl(b, 2) ^ rotl(b, 10) ^ rotl(b, 18) ^ rotl(b, 24)
  T0[i] = l
  T1[i] = rotl(l, 24)
  T2[i] = rotl(l, 16)
  T3[i] = rotl(l, 8)
}

/** The 32 round keys of `key` (reversed for decryption). */
export function sm4KeySchedule(key: Uint8Array, decrypt = false): Int32Array {
  if (key.length !== 16) throw new SmError('ERR_SM_INPUT', 'an SM4 key is 16 bytes')
  const k = new Int32Array(36)
  const view = new DataView(key.buffer, key.byteOffset, 16)
  for (let i = 0; i < 4; i++) k[i] = view.getUint32(i * 4) ^ (FK[i] as number)
  for (let i = 0; i < 32; i++) {
    const t = tau((k[i + 1] as number) ^ (k[i + 2] as number) ^ (k[i + 3] as number) ^ (CK[i] as number))
    k[i + 4] = (k[i] as number) ^ t ^ rotl(t, 13) ^ rotl(t, 23)
  }
  const rk = k.slice(4)
  return decrypt ? rk.reverse() : rk
}

/** Encrypts (or, with reversed round keys, decrypts) one 16-byte block from `src` at `so` into `dst` at `d`. */
export function sm4Block(rk: Int32Array, src: Uint8Array, so: number, dst: Uint8Array, d: number): void {
  const r = (o: number): number => ((src[so + o] as number) << 24) | ((src[so + o + 1] as number) << 16) | ((src[so + o + 2] as number) << 8) | (src[so + o + 3] as number)
  let x0 = r(0), x1 = r(4), x2 = r(8), x3 = r(12)
  for (let i = 0; i < 32; i += 4) {
    let a = x1 ^ x2 ^ x3 ^ (rk[i] as number)
    x0 ^= (T0[(a >>> 24) & 0xff] as number) ^ (T1[(a >>> 16) & 0xff] as number) ^ (T2[(a >>> 8) & 0xff] as number) ^ (T3[a & 0xff] as number)
    a = x2 ^ x3 ^ x0 ^ (rk[i + 1] as number)
    x1 ^= (T0[(a >>> 24) & 0xff] as number) ^ (T1[(a >>> 16) & 0xff] as number) ^ (T2[(a >>> 8) & 0xff] as number) ^ (T3[a & 0xff] as number)
    a = x3 ^ x0 ^ x1 ^ (rk[i + 2] as number)
    x2 ^= (T0[(a >>> 24) & 0xff] as number) ^ (T1[(a >>> 16) & 0xff] as number) ^ (T2[(a >>> 8) & 0xff] as number) ^ (T3[a & 0xff] as number)
    a = x0 ^ x1 ^ x2 ^ (rk[i + 3] as number)
    x3 ^= (T0[(a >>> 24) & 0xff] as number) ^ (T1[(a >>> 16) & 0xff] as number) ^ (T2[(a >>> 8) & 0xff] as number) ^ (T3[a & 0xff] as number)
  }
  // Output is the reversed word order R(X32..X35) = (X35, X34, X33, X32).
  const w = (o: number, v: number): void => {
    dst[d + o] = v >>> 24
    dst[d + o + 1] = v >>> 16
    dst[d + o + 2] = v >>> 8
    dst[d + o + 3] = v
  }
  w(0, x3)
  w(4, x2)
  w(8, x1)
  w(12, x0)
}

/** SM4 of one block, `iterations` times in a row (the published 1,000,000-iteration vector). */
export function sm4EcbBlock(key: Uint8Array, block: Uint8Array, decrypt = false, iterations = 1): Buffer {
  if (block.length !== 16) throw new SmError('ERR_SM_INPUT', 'an SM4 block is 16 bytes')
  const rk = sm4KeySchedule(key, decrypt)
  const out = Buffer.from(block)
  for (let i = 0; i < iterations; i++) sm4Block(rk, out, 0, out, 0)
  return out
}

/** SM4-CBC with PKCS#7 padding. */
export function sm4CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Buffer {
  if (iv.length !== 16) throw new SmError('ERR_SM_INPUT', 'an SM4-CBC IV is 16 bytes')
  const rk = sm4KeySchedule(key)
  const pad = 16 - (plaintext.length % 16)
  const out = Buffer.alloc(plaintext.length + pad, pad)
  out.set(plaintext)
  let prev: Uint8Array = iv
  let po = 0
  for (let o = 0; o < out.length; o += 16) {
    for (let i = 0; i < 16; i++) out[o + i] = (out[o + i] as number) ^ (prev[po + i] as number)
    sm4Block(rk, out, o, out, o)
    prev = out
    po = o
  }
  return out
}

/** SM4-CBC decryption; throws ERR_SM_DECRYPT for a bad length or bad padding. */
export function sm4CbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer {
  if (iv.length !== 16) throw new SmError('ERR_SM_INPUT', 'an SM4-CBC IV is 16 bytes')
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) throw new SmError('ERR_SM_DECRYPT', 'SM4-CBC decryption failed')
  const rk = sm4KeySchedule(key, true)
  const out = Buffer.alloc(ciphertext.length)
  for (let o = 0; o < ciphertext.length; o += 16) {
    sm4Block(rk, ciphertext, o, out, o)
    const prev = o === 0 ? iv : ciphertext.subarray(o - 16, o)
    for (let i = 0; i < 16; i++) out[o + i] = (out[o + i] as number) ^ (prev[i] as number)
  }
  const pad = out[out.length - 1] as number
  let bad = pad === 0 || pad > 16 ? 1 : 0
  for (let i = 1; i <= 16 && bad === 0; i++) if (i <= pad && out[out.length - i] !== pad) bad = 1
  if (bad) throw new SmError('ERR_SM_DECRYPT', 'SM4-CBC decryption failed')
  return out.subarray(0, out.length - pad)
}
