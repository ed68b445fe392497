/**
 * SM3 (GB/T 32905-2016) in TypeScript, independent of OpenSSL. Used by the JavaScript backend
 * and as the reference the native backend is cross-checked against.
 */
const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e]

// T_j rotated left by j mod 32, precomputed for the 64 rounds.
const TJ = new Uint32Array(64)
for (let j = 0; j < 64; j++) {
  const t = j < 16 ? 0x79cc4519 : 0x7a879d8a
  const r = j % 32
  TJ[j] = r === 0 ? t : ((t << r) | (t >>> (32 - r))) >>> 0
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n))
}

/** Incremental SM3. */
export class Sm3 {
  readonly #v = Uint32Array.from(IV)
  readonly #block = new Uint8Array(64)
  readonly #w = new Int32Array(68)
  #used = 0
  #length = 0 // bytes hashed so far (messages here stay far below 2^53)
  #done = false

  /** Adds bytes to the message. */
  update(data: Uint8Array): this {
    if (this.#done) throw new Error('SM3: digest() was already called')
    let off = 0
    this.#length += data.length
    while (off < data.length) {
      const take = Math.min(64 - this.#used, data.length - off)
      this.#block.set(data.subarray(off, off + take), this.#used)
      this.#used += take
      off += take
      if (this.#used === 64) {
        this.#compress(this.#block)
        this.#used = 0
      }
    }
    return this
  }

  /** The 32-byte digest; the hasher cannot be used afterwards. */
  digest(): Buffer {
    const bits = this.#length * 8
    const pad = new Uint8Array(((this.#used < 56 ? 56 : 120) - this.#used) + 8)
    pad[0] = 0x80
    const view = new DataView(pad.buffer)
    view.setUint32(pad.length - 8, Math.floor(bits / 0x100000000))
    view.setUint32(pad.length - 4, bits >>> 0)
    this.update(pad)
    this.#done = true
    const out = Buffer.alloc(32)
    for (let i = 0; i < 8; i++) out.writeUInt32BE(this.#v[i] as number, i * 4)
    return out
  }

  #compress(b: Uint8Array): void {
    const w = this.#w
    for (let j = 0; j < 16; j++) w[j] = ((b[4 * j] as number) << 24) | ((b[4 * j + 1] as number) << 16) | ((b[4 * j + 2] as number) << 8) | (b[4 * j + 3] as number)
    for (let j = 16; j < 68; j++) {
      const x = (w[j - 16] as number) ^ (w[j - 9] as number) ^ rotl(w[j - 3] as number, 15)
      w[j] = x ^ rotl(x, 15) ^ rotl(x, 23) ^ rotl(w[j - 13] as number, 7) ^ (w[j - 6] as number)
    }
    const v = this.#v
    let a = v[0] as number, bb = v[1] as number, c = v[2] as number, d = v[3] as number
    let e = v[4] as number, f = v[5] as number, g = v[6] as number, h = v[7] as number
    for (let j = 0; j < 64; j++) {
      const a12 = rotl(a, 12)
      const ss1 = rotl((a12 + e + (TJ[j] as number)) | 0, 7)
      const ss2 = ss1 ^ a12
      const wj = w[j] as number
      const wj1 = wj ^ (w[j + 4] as number)
      const ff = j < 16 ? a ^ bb ^ c : (a & bb) | (a & c) | (bb & c)
      const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g)
      const tt1 = (ff + d + ss2 + wj1) | 0
      const tt2 = (gg + h + ss1 + wj) | 0
      d = c
      c = rotl(bb, 9)
      bb = a
      a = tt1
      h = g
      g = rotl(f, 19)
      f = e
      e = tt2 ^ rotl(tt2, 9) ^ rotl(tt2, 17)
    }
    v[0] = (v[0] as number) ^ a
    v[1] = (v[1] as number) ^ bb
    v[2] = (v[2] as number) ^ c
    v[3] = (v[3] as number) ^ d
    v[4] = (v[4] as number) ^ e
    v[5] = (v[5] as number) ^ f
    v[6] = (v[6] as number) ^ g
    v[7] = (v[7] as number) ^ h
  }
}

/** SM3 of the concatenation of `parts`. */
export function sm3(...parts: Uint8Array[]): Buffer {
  const h = new Sm3()
  for (const p of parts) h.update(p)
  return h.digest()
}

/** HMAC-SM3 (RFC 2104 with SM3: 64-byte block, 32-byte output). */
export function hmacSm3(key: Uint8Array, data: Uint8Array): Buffer {
  const k = new Uint8Array(64)
  k.set(key.length > 64 ? sm3(key) : key)
  const ipad = k.map((x) => x ^ 0x36)
  const opad = k.map((x) => x ^ 0x5c)
  return sm3(opad, sm3(ipad, data))
}
