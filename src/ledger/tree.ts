import { treeHash, type TreeHash } from '../crypto/index.ts'

/**
 * The Merkle tree of RFC 9162 §2.1 over the ledger's entries, with SM3 (or SHA-256) as H:
 * leaf = H(0x00 ‖ entry), node = H(0x01 ‖ left ‖ right), and for n > 1 leaves the split at k,
 * the largest power of two smaller than n. Pure functions: the hashes of complete subtrees
 * come from a NodeSource (the store keeps them), everything else is computed from them.
 */

export type { TreeHash }

/** The hash of a complete, aligned subtree: `level` (0: a leaf hash) and `index` (its position at that level). */
export interface NodeRef {
  readonly level: number
  readonly index: number
}

/** Gives the hash of a complete aligned subtree that exists (throws when it is not known). */
export type NodeSource = (level: number, index: number) => Buffer

const LEAF = Buffer.from([0])
const NODE = Buffer.from([1])

export function leafHash(alg: TreeHash, entry: Uint8Array): Buffer {
  return treeHash(alg, LEAF, entry)
}

export function nodeHash(alg: TreeHash, left: Uint8Array, right: Uint8Array): Buffer {
  return treeHash(alg, NODE, left, right)
}

/** The hash of the empty tree: H() of nothing. */
export function emptyRoot(alg: TreeHash): Buffer {
  return treeHash(alg, Buffer.alloc(0))
}

/** The largest power of two smaller than n (n ≥ 2). */
export function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function isPow2(n: number): boolean {
  // Exact for every safe integer (Math.log2 alone rounds 2^k ± 1 to k from k = 49 on).
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n
}

/** MTH(D[lo:hi]) from the complete subtrees it decomposes into. */
export function subtreeHash(alg: TreeHash, nodes: NodeSource, lo: number, hi: number): Buffer {
  const n = hi - lo
  if (n <= 0) throw new RangeError(`empty range ${lo}..${hi}`)
  if (isPow2(n) && lo % n === 0) return nodes(Math.log2(n), lo / n)
  const k = split(n)
  return nodeHash(alg, subtreeHash(alg, nodes, lo, lo + k), subtreeHash(alg, nodes, lo + k, hi))
}

/** The complete subtrees MTH(D[lo:hi]) needs. */
export function subtreeRefs(lo: number, hi: number, out: NodeRef[] = []): NodeRef[] {
  const n = hi - lo
  if (n <= 0) return out
  if (isPow2(n) && lo % n === 0) {
    out.push({ level: Math.log2(n), index: lo / n })
    return out
  }
  const k = split(n)
  subtreeRefs(lo, lo + k, out)
  return subtreeRefs(lo + k, hi, out)
}

/** The root of the tree of `size` leaves (RFC 9162 MTH). */
export function rootHash(alg: TreeHash, nodes: NodeSource, size: number): Buffer {
  return size === 0 ? emptyRoot(alg) : subtreeHash(alg, nodes, 0, size)
}

/** The ranges whose hashes make up the inclusion proof of leaf `index` in a tree of `size` (RFC 9162 §2.1.3.1 PATH), leaf side first. */
export function inclusionRanges(index: number, size: number): Array<[number, number]> {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`)
  const out: Array<[number, number]> = []
  const path = (m: number, lo: number, hi: number): void => {
    const n = hi - lo
    if (n === 1) return
    const k = split(n)
    if (m < k) {
      path(m, lo, lo + k)
      out.push([lo + k, hi])
    } else {
      path(m - k, lo + k, hi)
      out.push([lo, lo + k])
    }
  }
  path(index, 0, size)
  return out
}

/** The ranges of the consistency proof from size `m` to size `n` (RFC 9162 §2.1.4.1 PROOF), in proof order. */
export function consistencyRanges(m: number, n: number): Array<[number, number]> {
  if (!(m >= 0 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`)
  if (m === 0 || m === n) return []
  const out: Array<[number, number]> = []
  const sub = (mm: number, lo: number, hi: number, b: boolean): void => {
    const size = hi - lo
    if (mm === size) {
      if (!b) out.push([lo, hi])
      return
    }
    const k = split(size)
    if (mm <= k) {
      sub(mm, lo, lo + k, b)
      out.push([lo + k, hi])
    } else {
      sub(mm - k, lo + k, hi, false)
      out.push([lo, lo + k])
    }
  }
  sub(m, 0, n, true)
  return out
}

/** Every complete subtree the given ranges need (to fetch them at once). */
export function refsOf(ranges: ReadonlyArray<readonly [number, number]>): NodeRef[] {
  const out: NodeRef[] = []
  for (const [lo, hi] of ranges) subtreeRefs(lo, hi, out)
  return out
}

/** The root a leaf's inclusion proof leads to (RFC 9162 §2.1.3.2), or undefined when the proof has the wrong length. */
export function rootFromInclusion(alg: TreeHash, index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer | undefined {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return undefined
  let fn = index
  let sn = size - 1
  let r: Buffer = Buffer.from(leaf)
  for (const p of proof) {
    if (sn === 0) return undefined
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(alg, p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = nodeHash(alg, r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 ? r : undefined
}

/** True when `proof` shows that the tree of `size` with root `root` contains `leaf` at `index`. */
export function verifyInclusion(alg: TreeHash, index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const r = rootFromInclusion(alg, index, size, leaf, proof)
  return r !== undefined && r.equals(Buffer.from(root))
}

/** True when `proof` shows that the tree of size `n` (root2) extends the tree of size `m` (root1) (RFC 9162 §2.1.4.2). */
export function verifyConsistency(alg: TreeHash, m: number, n: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m <= n)) return false
  const r1 = Buffer.from(root1)
  const r2 = Buffer.from(root2)
  if (m === n) return proof.length === 0 && r1.equals(r2)
  if (m === 0) return proof.length === 0
  if (proof.length === 0) return false
  let path = proof.map((p) => Buffer.from(p))
  // 1. When m is an exact power of two, the old root is the first node of the path.
  if (isPow2(m)) path = [r1, ...path]
  let fn = m - 1
  let sn = n - 1
  // 3. Shift right until the lowest bit of fn is clear.
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  let fr = path[0] as Buffer
  let sr = path[0] as Buffer
  for (const c of path.slice(1)) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(alg, c, fr)
      sr = nodeHash(alg, c, sr)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      sr = nodeHash(alg, sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return fr.equals(r1) && sr.equals(r2) && sn === 0
}

/**
 * Appends leaves to a tree of `size` leaves: returns every complete subtree that the new leaves
 * complete (level 0 the leaves themselves), given the tree's right edge (the complete subtrees
 * along it, as `nodes` knows them) and the new leaf hashes.
 */
export function appendLeaves(alg: TreeHash, nodes: NodeSource, size: number, leaves: readonly Buffer[]): Array<NodeRef & { hash: Buffer }> {
  const made = new Map<string, Buffer>()
  const get = (level: number, index: number): Buffer => made.get(`${level}/${index}`) ?? nodes(level, index)
  const out: Array<NodeRef & { hash: Buffer }> = []
  let n = size
  for (const leaf of leaves) {
    const at = n
    made.set(`0/${at}`, leaf)
    out.push({ level: 0, index: at, hash: leaf })
    // Each level where the new leaf completes a pair: the pair's parent.
    let level = 0
    let index = at
    while (index % 2 === 1) {
      const parent = nodeHash(alg, get(level, index - 1), get(level, index))
      level++
      index = (index - 1) / 2
      made.set(`${level}/${index}`, parent)
      out.push({ level, index, hash: parent })
    }
    n++
  }
  return out
}

/** The complete subtrees along the right edge of a tree of `size` leaves (what appendLeaves reads). */
export function rightEdge(size: number): NodeRef[] {
  const out: NodeRef[] = []
  for (let level = 0; 2 ** level <= size; level++) {
    const count = Math.floor(size / 2 ** level)
    if (count % 2 === 1) out.push({ level, index: count - 1 })
  }
  return out
}
