/**
 * Arithmetic on the SM2 curve with BigInt, independent of OpenSSL: Jacobian coordinates
 * (a = -3 doubling), a 4-bit fixed-base table for G and width-5 NAF for other points.
 * Variable-time: fine for a fallback and for cross-checks, not a constant-time implementation.
 */
import { SM2_GX, SM2_GY, SM2_P } from '../curve.ts'

const P = SM2_P

/** A point in Jacobian coordinates (X/Z², Y/Z³); Z = 0 is the point at infinity. */
export interface Jacobian {
  readonly x: bigint
  readonly y: bigint
  readonly z: bigint
}

/** An affine point (never infinity). */
export interface Affine {
  readonly x: bigint
  readonly y: bigint
}

const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n }

function m(a: bigint): bigint {
  const r = a % P
  return r < 0n ? r + P : r
}

/** a⁻¹ mod `mod` by the extended Euclidean algorithm; `a` must be non-zero mod `mod`. */
export function invert(a: bigint, mod: bigint): bigint {
  let r0 = mod
  let r1 = ((a % mod) + mod) % mod
  let t0 = 0n
  let t1 = 1n
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[t0, t1] = [t1, t0 - q * t1]
  }
  if (r0 !== 1n) throw new RangeError('not invertible')
  return t0 < 0n ? t0 + mod : t0
}

function double(p: Jacobian): Jacobian {
  if (p.z === 0n || p.y === 0n) return INFINITY
  const delta = m(p.z * p.z)
  const gamma = m(p.y * p.y)
  const beta = m(p.x * gamma)
  const alpha = m(3n * (p.x - delta) * (p.x + delta))
  const x = m(alpha * alpha - 8n * beta)
  const z = m((p.y + p.z) * (p.y + p.z) - gamma - delta)
  const y = m(alpha * (4n * beta - x) - 8n * gamma * gamma)
  return { x, y, z }
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p.z === 0n) return q
  if (q.z === 0n) return p
  const z1z1 = m(p.z * p.z)
  const z2z2 = m(q.z * q.z)
  const u1 = m(p.x * z2z2)
  const u2 = m(q.x * z1z1)
  const s1 = m(p.y * q.z * z2z2)
  const s2 = m(q.y * p.z * z1z1)
  const h = m(u2 - u1)
  const r = m(2n * (s2 - s1))
  if (h === 0n) return r === 0n ? double(p) : INFINITY
  const i = m(4n * h * h)
  const j = m(h * i)
  const v = m(u1 * i)
  const x = m(r * r - j - 2n * v)
  const y = m(r * (v - x) - 2n * s1 * j)
  const z = m(((p.z + q.z) * (p.z + q.z) - z1z1 - z2z2) * h)
  return { x, y, z }
}

function addAffine(p: Jacobian, q: Affine): Jacobian {
  if (p.z === 0n) return { x: q.x, y: q.y, z: 1n }
  const z1z1 = m(p.z * p.z)
  const u2 = m(q.x * z1z1)
  const s2 = m(q.y * p.z * z1z1)
  const h = m(u2 - p.x)
  const r = m(2n * (s2 - p.y))
  if (h === 0n) return r === 0n ? double(p) : INFINITY
  const hh = m(h * h)
  const i = m(4n * hh)
  const j = m(h * i)
  const v = m(p.x * i)
  const x = m(r * r - j - 2n * v)
  const y = m(r * (v - x) - 2n * p.y * j)
  const z = m((p.z + h) * (p.z + h) - z1z1 - hh)
  return { x, y, z }
}

function negate(p: Jacobian): Jacobian {
  return { x: p.x, y: m(-p.y), z: p.z }
}

/** The affine form of `p`, or undefined for infinity. */
export function toAffine(p: Jacobian): Affine | undefined {
  if (p.z === 0n) return undefined
  const zi = invert(p.z, P)
  const zi2 = m(zi * zi)
  return { x: m(p.x * zi2), y: m(p.y * zi2 * zi) }
}

// G table: TABLE[i][j-1] = j·16^i·G, affine, built on first use (~1000 additions).
let TABLE: Affine[][] | undefined

function table(): Affine[][] {
  if (TABLE) return TABLE
  const rows: Affine[][] = []
  let base: Jacobian = { x: SM2_GX, y: SM2_GY, z: 1n }
  for (let i = 0; i < 64; i++) {
    const row: Affine[] = []
    let acc: Jacobian = base
    for (let j = 1; j < 16; j++) {
      row.push(toAffine(acc) as Affine)
      acc = add(acc, base)
    }
    rows.push(row)
    base = acc // 16·base
  }
  TABLE = rows
  return rows
}

/** k·G for 0 ≤ k < 2^256. */
export function mulG(k: bigint): Jacobian {
  const t = table()
  let acc = INFINITY
  for (let i = 0; i < 64; i++) {
    const nibble = Number((k >> BigInt(4 * i)) & 15n)
    if (nibble !== 0) acc = addAffine(acc, (t[i] as Affine[])[nibble - 1] as Affine)
  }
  return acc
}

/** k·Q for an affine point Q and k ≥ 0 (width-5 NAF). */
export function mul(q: Affine, k: bigint): Jacobian {
  // Odd multiples Q, 3Q, ..., 15Q.
  const base: Jacobian = { x: q.x, y: q.y, z: 1n }
  const twice = double(base)
  const odd: Jacobian[] = [base]
  for (let i = 1; i < 8; i++) odd.push(add(odd[i - 1] as Jacobian, twice))
  const naf: number[] = []
  let e = k
  while (e > 0n) {
    if (e & 1n) {
      let d = Number(e & 31n)
      if (d > 16) d -= 32
      naf.push(d)
      e -= BigInt(d)
    } else {
      naf.push(0)
    }
    e >>= 1n
  }
  let acc = INFINITY
  for (let i = naf.length - 1; i >= 0; i--) {
    acc = double(acc)
    const d = naf[i] as number
    if (d > 0) acc = add(acc, odd[(d - 1) >> 1] as Jacobian)
    else if (d < 0) acc = add(acc, negate(odd[(-d - 1) >> 1] as Jacobian))
  }
  return acc
}

/** a + b. */
export function addPoints(a: Jacobian, b: Jacobian): Jacobian {
  return add(a, b)
}
