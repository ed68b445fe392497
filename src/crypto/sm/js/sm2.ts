/**
 * SM2 signatures (GB/T 32918.2 §6–7) and public-key encryption (GB/T 32918.4 §6–7) in
 * TypeScript on top of ./ec.ts and ./sm3.ts: no OpenSSL involved. Variable-time.
 */
import { randomBytes } from 'node:crypto'
import { SM2_N, asBuffer, fromBytes, isOnCurveAffine, toBytes } from '../curve.ts'
import { SmError } from '../errors.ts'
import { addPoints, invert, mul, mulG, toAffine, type Affine } from './ec.ts'
import { Sm3, sm3 } from './sm3.ts'

const N = SM2_N

/** A uniformly random scalar in [1, bound - 1]. */
function randomScalar(bound: bigint): bigint {
  for (;;) {
    const k = fromBytes(randomBytes(32))
    if (k >= 1n && k < bound) return k
  }
}

function privateScalar(d: Uint8Array): bigint {
  const v = d.length === 32 ? fromBytes(d) : 0n
  if (v < 1n || v > N - 2n) throw new SmError('ERR_SM_INPUT', 'an SM2 private key is 32 bytes in [1, n-2]')
  return v
}

function fixedK(k: Uint8Array): bigint {
  const v = k.length === 32 ? fromBytes(k) : 0n
  if (v < 1n || v >= N) throw new SmError('ERR_SM_INPUT', 'k must be 32 bytes in [1, n-1]')
  return v
}

/** The affine point of 04‖x‖y, or undefined when it is not on the curve. */
function parsePoint(b: Uint8Array): Affine | undefined {
  if (b.length !== 65 || b[0] !== 0x04) return undefined
  const x = fromBytes(b.subarray(1, 33))
  const y = fromBytes(b.subarray(33))
  return isOnCurveAffine(x, y) ? { x, y } : undefined
}

function encodePoint(p: Affine): Buffer {
  return Buffer.concat([Buffer.from([4]), toBytes(p.x), toBytes(p.y)])
}

/** d·G as 04‖x‖y. */
export function publicFromPrivate(d: Uint8Array): Buffer {
  return encodePoint(toAffine(mulG(privateScalar(d))) as Affine)
}

/** A random private key d in [1, n-2]. */
export function generatePrivate(): Buffer {
  return toBytes(randomScalar(N - 1n))
}

/** True when `point` is 04‖x‖y on the curve. */
export function isOnCurve(point: Uint8Array): boolean {
  return parsePoint(point) !== undefined
}

/** r‖s over the digest e (32 bytes); k from the RNG unless given (test vectors). */
export function signDigest(d: Uint8Array, e: Uint8Array, k?: Uint8Array): Buffer {
  if (e.length !== 32) throw new SmError('ERR_SM_INPUT', 'e is 32 bytes')
  const dv = privateScalar(d)
  const ev = fromBytes(e)
  const inv1d = invert(1n + dv, N)
  for (;;) {
    const kv = k === undefined ? randomScalar(N) : fixedK(k)
    const x1 = (toAffine(mulG(kv)) as Affine).x
    const r = (ev + x1) % N
    const s = r === 0n || r + kv === N ? 0n : (inv1d * (((kv - r * dv) % N) + N)) % N
    if (s !== 0n) return Buffer.concat([toBytes(r), toBytes(s)])
    if (k !== undefined) throw new SmError('ERR_SM_SIGN', 'SM2 signing failed for the given k')
  }
}

/** Verifies r‖s over the digest e; false for any malformed input. */
export function verifyDigest(point: Uint8Array, e: Uint8Array, sig: Uint8Array): boolean {
  if (e.length !== 32 || sig.length !== 64) return false
  const pub = parsePoint(point)
  if (!pub) return false
  const r = fromBytes(sig.subarray(0, 32))
  const s = fromBytes(sig.subarray(32))
  if (r < 1n || r >= N || s < 1n || s >= N) return false
  const t = (r + s) % N
  if (t === 0n) return false
  const sum = toAffine(addPoints(mulG(s), mul(pub, t)))
  if (!sum) return false
  return (fromBytes(e) + sum.x) % N === r
}

/** KDF of GB/T 32918.4 §5.4.3 with SM3. */
function kdf(z: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length)
  const ctr = Buffer.alloc(4)
  for (let i = 0, ct = 1; i < length; i += 32, ct++) {
    ctr.writeUInt32BE(ct)
    new Sm3().update(z).update(ctr).digest().copy(out, i)
  }
  return out
}

function allZero(b: Uint8Array): boolean {
  let acc = 0
  for (const x of b) acc |= x
  return acc === 0
}

/** C1‖C3‖C2 of `msg` under the public key; k from the RNG unless given (test vectors). */
export function encrypt(point: Uint8Array, msg: Uint8Array, k?: Uint8Array): Buffer {
  const pub = parsePoint(point)
  if (!pub) throw new SmError('ERR_SM_INPUT', 'the public key is not a point on the curve')
  if (msg.length === 0) throw new SmError('ERR_SM_INPUT', 'empty plaintext')
  for (;;) {
    const kv = k === undefined ? randomScalar(N) : fixedK(k)
    const c1 = encodePoint(toAffine(mulG(kv)) as Affine)
    const s = toAffine(mul(pub, kv)) as Affine
    const x2 = toBytes(s.x)
    const y2 = toBytes(s.y)
    const t = kdf(Buffer.concat([x2, y2]), msg.length)
    if (allZero(t)) {
      if (k !== undefined) throw new SmError('ERR_SM_ENCRYPT', 'SM2 encryption failed for the given k')
      continue
    }
    for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) ^ (msg[i] as number)
    return Buffer.concat([c1, sm3(x2, msg, y2), t])
  }
}

/** Plaintext of C1‖C3‖C2; throws ERR_SM_DECRYPT for any failure, the same way each time. */
export function decrypt(d: Uint8Array, ciphertext: Uint8Array): Buffer {
  const dv = privateScalar(d)
  const fail = (): SmError => new SmError('ERR_SM_DECRYPT', 'SM2 decryption failed')
  const ct = asBuffer(ciphertext)
  if (ct.length < 65 + 32 + 1) throw fail()
  const c1 = parsePoint(ct.subarray(0, 65))
  if (!c1) throw fail()
  const s = toAffine(mul(c1, dv))
  if (!s) throw fail()
  const x2 = toBytes(s.x)
  const y2 = toBytes(s.y)
  const c2 = ct.subarray(97)
  const m = kdf(Buffer.concat([x2, y2]), c2.length)
  if (allZero(m)) throw fail()
  for (let i = 0; i < m.length; i++) m[i] = (m[i] as number) ^ (c2[i] as number)
  // C3 is compared without an early exit before the plaintext is released.
  const u = sm3(x2, m, y2)
  let diff = 0
  for (let i = 0; i < 32; i++) diff |= (u[i] as number) ^ (ct[65 + i] as number)
  if (diff !== 0) {
    m.fill(0)
    throw fail()
  }
  return m
}
