import { randomBytes, randomFillSync } from 'node:crypto'

/** Source of time for everything that stamps or compares times; tests freeze it. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** Source of identifiers and nonces; tests make it deterministic. */
export interface IdSource {
  /** A UUIDv7 (RFC 9562): time-ordered, so exchange ids sort by arrival. */
  uuid7(): string
  /** A random nonce, base64url, of `bytes` bytes. */
  nonce(bytes?: number): string
}

/**
 * Random bytes for identifiers, drawn from the system's generator 4 KiB at a time (as
 * crypto.randomUUID does): one call per id cost more than the id. Identifiers are unique, not
 * secret; nonces and keys do not come from here.
 */
const pool = Buffer.alloc(4096)
let poolAt = pool.length
function idRandom(n: number): Uint8Array {
  if (poolAt + n > pool.length) {
    randomFillSync(pool)
    poolAt = 0
  }
  poolAt += n
  return pool.subarray(poolAt - n, poolAt)
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const hex = (bytes: Uint8Array, from: number, to: number): string => {
  let s = ''
  for (let i = from; i < to; i++) s += HEX[bytes[i] as number] as string
  return s
}

/** UUIDv7 from a millisecond timestamp and 10 random bytes (written out directly: no buffer per id). */
export function uuid7At(ms: number, random: Uint8Array = idRandom(10)): string {
  // 48 bits of time: the high 16 and the low 32 (a JavaScript number holds them exactly).
  const high = Math.floor(ms / 0x1_0000_0000)
  const low = ms - high * 0x1_0000_0000
  const time = `${high.toString(16).padStart(4, '0')}${low.toString(16).padStart(8, '0')}`
  const version = HEX[0x70 | ((random[0] ?? 0) & 0x0f)] as string
  const variant = HEX[0x80 | ((random[2] ?? 0) & 0x3f)] as string
  return `${time.slice(0, 8)}-${time.slice(8)}-${version}${HEX[random[1] ?? 0]}-${variant}${hex(random, 3, 4)}-${hex(random, 4, 10)}`
}

/** The production id source, reading time from `clock`. */
export function systemIds(clock: Clock = systemClock): IdSource {
  return {
    uuid7: () => uuid7At(clock.now().getTime()),
    nonce: (bytes = 16) => randomBytes(bytes).toString('base64url'),
  }
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
