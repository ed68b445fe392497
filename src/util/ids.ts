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

/** UUIDv7 from a millisecond timestamp and 10 random bytes. */
export function uuid7At(ms: number, random: Uint8Array = idRandom(10)): string {
  const b = Buffer.alloc(16)
  b.writeUIntBE(ms, 0, 6)
  b[6] = 0x70 | ((random[0] ?? 0) & 0x0f)
  b[7] = random[1] ?? 0
  b[8] = 0x80 | ((random[2] ?? 0) & 0x3f)
  Buffer.from(random.subarray(3, 10)).copy(b, 9)
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** The production id source, reading time from `clock`. */
export function systemIds(clock: Clock = systemClock): IdSource {
  return {
    uuid7: () => uuid7At(clock.now().getTime()),
    nonce: (bytes = 16) => randomBytes(bytes).toString('base64url'),
  }
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
