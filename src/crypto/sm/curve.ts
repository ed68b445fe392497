/**
 * The SM2 curve sm2p256v1 (GB/T 32918.5, OID 1.2.156.10197.1.301) and byte helpers shared by
 * both backends. y² = x³ + ax + b over F_p, a = p - 3, cofactor 1.
 */
export const SM2_P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn
export const SM2_A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn
export const SM2_B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n
export const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n
export const SM2_GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n
export const SM2_GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n

/** Curve OID 1.2.156.10197.1.301 (also used alone as an algorithm OID by some tools). */
export const SM2_OID = '1.2.156.10197.1.301'
/** The standard default user ID of GB/T 32918.2 / GM/T 0009. */
export const SM2_DEFAULT_ID = Buffer.from('1234567812345678', 'ascii')

/** Big-endian fixed-width bytes of a non-negative bigint. */
export function toBytes(v: bigint, length = 32): Buffer {
  const hex = v.toString(16).padStart(length * 2, '0')
  if (hex.length > length * 2) throw new RangeError('integer too large')
  return Buffer.from(hex, 'hex')
}

/** The non-negative bigint of big-endian bytes. */
export function fromBytes(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`)
}

/** A Buffer view of bytes (no copy when it already is one). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m
  return r < 0n ? r + m : r
}

function powMod(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n
  let b = mod(base, m)
  let e = exp
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m
    b = (b * b) % m
    e >>= 1n
  }
  return result
}

/** True when (x, y) satisfies the curve equation with 0 ≤ x, y < p. Infinity has no affine form. */
export function isOnCurveAffine(x: bigint, y: bigint): boolean {
  if (x < 0n || x >= SM2_P || y < 0n || y >= SM2_P) return false
  return mod(y * y - (x * x * x + SM2_A * x + SM2_B), SM2_P) === 0n
}

/**
 * The 65-byte uncompressed form 04‖x‖y of a point given uncompressed (65 bytes) or compressed
 * (33 bytes, 02/03‖x); throws RangeError when the bytes are not a point on the curve.
 */
export function normalizePoint(bytes: Uint8Array): Buffer {
  const b = asBuffer(bytes)
  if (b.length === 65 && b[0] === 0x04) {
    const x = fromBytes(b.subarray(1, 33))
    const y = fromBytes(b.subarray(33))
    if (!isOnCurveAffine(x, y)) throw new RangeError('the point is not on the SM2 curve')
    return Buffer.from(b)
  }
  if (b.length === 33 && (b[0] === 0x02 || b[0] === 0x03)) {
    const x = fromBytes(b.subarray(1))
    if (x >= SM2_P) throw new RangeError('the point is not on the SM2 curve')
    const rhs = mod(x * x * x + SM2_A * x + SM2_B, SM2_P)
    // p ≡ 3 (mod 4), so a square root is rhs^((p+1)/4).
    let y = powMod(rhs, (SM2_P + 1n) / 4n, SM2_P)
    if ((y * y) % SM2_P !== rhs) throw new RangeError('the point is not on the SM2 curve')
    if ((y & 1n) !== BigInt((b[0] as number) & 1)) y = SM2_P - y
    return Buffer.concat([Buffer.from([4]), toBytes(x), toBytes(y)])
  }
  throw new RangeError('an SM2 point is 65 bytes 04‖x‖y (or 33 bytes compressed)')
}
