import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { canonicalJson, ENTRY_KINDS, ENTRY_VERSION } from './entries.ts'
import { parseCheckpointText, parseVkey, verifyNote, type CheckpointBody, type NoteVerifier } from './note.ts'
import { emptyRoot, leafHash, nodeHash, verifyConsistency, type TreeHash } from './tree.ts'
import { EXPORT_FORMAT } from './export.ts'
import { verifyTimeStampToken, type Certificate } from '../crypto/index.ts'

/** The first fault found, naming its record: `entry <leaf index>`, `checkpoint <tree size>` or the file. */
export interface LedgerFault {
  readonly record: string
  readonly message: string
}

export interface LedgerReport {
  readonly ok: boolean
  readonly fault?: LedgerFault
  readonly treeSize: number
  readonly checkpoints: number
  readonly kinds: Record<string, number>
  readonly rootHash?: string
  /** Checkpoints with a verified RFC 3161 time stamp. */
  readonly timestamps: number
  readonly notices: string[]
}

/** A fault of one record (an entry, a checkpoint, a file): what the verifiers report first. */
export class RecordFault extends Error {
  readonly record: string
  constructor(record: string, message: string) {
    super(message)
    this.record = record
  }
}

/** The right edge of a growing tree: its complete subtrees, largest first (RFC 9162 roots from it). */
class Frontier {
  readonly #alg: TreeHash
  readonly #stack: Array<{ size: number; hash: Buffer }> = []
  constructor(alg: TreeHash) {
    this.#alg = alg
  }

  push(leaf: Buffer): void {
    let node = { size: 1, hash: leaf }
    for (let top = this.#stack.at(-1); top !== undefined && top.size === node.size; top = this.#stack.at(-1)) {
      this.#stack.pop()
      node = { size: top.size * 2, hash: nodeHash(this.#alg, top.hash, node.hash) }
    }
    this.#stack.push(node)
  }

  root(): Buffer {
    let acc = this.#stack.at(-1)?.hash as Buffer
    for (let i = this.#stack.length - 2; i >= 0; i--) acc = nodeHash(this.#alg, (this.#stack[i] as { hash: Buffer }).hash, acc)
    return acc
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Checks one entry line: canonical JSON (RFC 8785) of a known kind, with a fresh id. */
function checkEntry(line: string, index: number, seen: Set<string>, kinds: Record<string, number>): void {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new RecordFault(`entry ${index}`, 'not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RecordFault(`entry ${index}`, 'not a JSON object')
  if (canonicalJson(value) !== line) throw new RecordFault(`entry ${index}`, 'not in canonical form (RFC 8785)')
  const e = value as { v?: unknown; kind?: unknown; id?: unknown; at?: unknown }
  if (e.v !== ENTRY_VERSION) throw new RecordFault(`entry ${index}`, `v is not ${ENTRY_VERSION}`)
  if (typeof e.kind !== 'string' || !(ENTRY_KINDS as readonly string[]).includes(e.kind)) throw new RecordFault(`entry ${index}`, 'an unknown kind')
  if (typeof e.id !== 'string' || !UUID.test(e.id)) throw new RecordFault(`entry ${index}`, 'no entry id')
  if (seen.has(e.id)) throw new RecordFault(`entry ${index}`, `entry id ${e.id} appears twice`)
  if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) throw new RecordFault(`entry ${index}`, 'no time')
  seen.add(e.id)
  kinds[e.kind] = (kinds[e.kind] ?? 0) + 1
}

/** The verifier keys to trust: given, or (with a notice) those the export carries. */
function trustedKeys(dir: string, given: readonly string[] | undefined, notices: string[]): NoteVerifier[] {
  let lines = given
  if (lines === undefined || lines.length === 0) {
    notices.push('no trusted keys given (--vkey / --vkeys): checked against the keys inside the export, which proves integrity, not origin')
    const file = join(dir, 'keys', 'vkeys.txt')
    if (!existsSync(file)) throw new RecordFault('keys/vkeys.txt', 'missing, and no trusted key given')
    lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
  }
  return lines.map((l, i) => {
    try {
      return parseVkey(l)
    } catch (err) {
      throw new RecordFault(`verifier key ${i + 1}`, (err as Error).message)
    }
  })
}

/**
 * Verifies a ledger export offline (docs/ledger.md §7): every entry recomputed into its leaf and
 * the tree, every checkpoint's signature by a trusted key and its root against the entries, and
 * the consistency of successive checkpoints. Stops at the first fault, which it names.
 */
export async function verifyExport(dir: string, options: { vkeys?: readonly string[]; tsaAnchors?: readonly Certificate[] } = {}): Promise<LedgerReport> {
  const notices: string[] = []
  let timestamps = 0
  const kinds: Record<string, number> = {}
  let treeSize = 0
  let checkpointCount = 0
  try {
    let meta: { format?: unknown; origin?: unknown; hashAlg?: unknown; treeSize?: unknown }
    try {
      meta = JSON.parse(readFileSync(join(dir, 'ledger.json'), 'utf8')) as typeof meta
    } catch (err) {
      throw new RecordFault('ledger.json', `unreadable: ${(err as Error).message}`)
    }
    if (meta.format !== EXPORT_FORMAT) throw new RecordFault('ledger.json', `format is not ${EXPORT_FORMAT}`)
    if (meta.hashAlg !== 'SM3' && meta.hashAlg !== 'SHA-256') throw new RecordFault('ledger.json', 'hashAlg is neither SM3 nor SHA-256')
    if (typeof meta.origin !== 'string' || !Number.isSafeInteger(meta.treeSize)) throw new RecordFault('ledger.json', 'origin or treeSize missing')
    const alg: TreeHash = meta.hashAlg
    const origin = meta.origin
    treeSize = meta.treeSize as number
    const trusted = trustedKeys(dir, options.vkeys, notices)

    // The checkpoints, by tree size: each signed by a trusted key, of this log, in order.
    const files = existsSync(join(dir, 'checkpoints')) ? readdirSync(join(dir, 'checkpoints')).filter((f) => f.endsWith('.note')) : []
    const sizes = files.map((f) => f.slice(0, -'.note'.length)).filter((s) => /^(0|[1-9]\d*)$/.test(s)).map(Number).sort((a, b) => a - b)
    if (sizes.length !== files.length) throw new RecordFault('checkpoints/', 'a file that is not <tree size>.note')
    const checkpoints: CheckpointBody[] = []
    for (const size of sizes) {
      const record = `checkpoint ${size}`
      let body: CheckpointBody
      let signedBy: NoteVerifier[]
      try {
        const { text, verifiedBy } = await verifyNote(readFileSync(join(dir, 'checkpoints', `${size}.note`), 'utf8'), trusted)
        body = parseCheckpointText(text)
        signedBy = verifiedBy
      } catch (err) {
        throw new RecordFault(record, (err as Error).message)
      }
      if (body.origin !== origin) throw new RecordFault(record, `of another log (${body.origin})`)
      if (!signedBy.some((v) => v.name === origin)) throw new RecordFault(record, `not signed under the log's own name ${origin}`)
      if (size === 0 && !body.rootHash.equals(emptyRoot(alg))) throw new RecordFault(record, 'an empty tree with a root other than H("")')
      const tsr = join(dir, 'checkpoints', `${size}.tsr`)
      if (existsSync(tsr)) {
        try {
          verifyTimeStampToken(readFileSync(tsr), readFileSync(join(dir, 'checkpoints', `${size}.note`)), options.tsaAnchors)
        } catch (err) {
          throw new RecordFault(`${record} time stamp`, (err as Error).message)
        }
        timestamps++
      }
      if (body.treeSize !== size) throw new RecordFault(record, `its file name says ${size}, it says ${body.treeSize}`)
      const prev = checkpoints.at(-1)
      if (prev !== undefined && body.timestamp < prev.timestamp) throw new RecordFault(record, 'signed before the checkpoint of a smaller tree')
      checkpoints.push(body)
    }
    checkpointCount = checkpoints.length
    if ((checkpoints.at(-1)?.treeSize ?? 0) !== treeSize) throw new RecordFault('ledger.json', `treeSize ${treeSize} is not the last checkpoint's`)

    // Successive checkpoints: the gateway's consistency proof between them must hold.
    for (let i = 1; i < checkpoints.length; i++) {
      const a = checkpoints[i - 1] as CheckpointBody
      const b = checkpoints[i] as CheckpointBody
      const file = join(dir, 'consistency', `${a.treeSize}-${b.treeSize}.txt`)
      if (a.treeSize === 0) continue
      if (!existsSync(file)) throw new RecordFault(`checkpoint ${b.treeSize}`, `no consistency proof from ${a.treeSize}`)
      const proof = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => Buffer.from(l, 'base64'))
      if (!verifyConsistency(alg, a.treeSize, b.treeSize, a.rootHash, b.rootHash, proof)) {
        throw new RecordFault(`checkpoint ${b.treeSize}`, `not consistent with checkpoint ${a.treeSize}: the log was rewritten or forked between them`)
      }
    }

    // The entries, in leaf order: each recomputed, the tree rebuilt, every checkpoint's root checked.
    const stored = existsSync(join(dir, 'leaves.txt')) ? readFileSync(join(dir, 'leaves.txt'), 'utf8').split('\n') : undefined
    if (stored === undefined) notices.push('no leaves.txt: a changed entry is found by its checkpoint, not by its leaf')
    const frontier = new Frontier(alg)
    const seen = new Set<string>()
    let index = 0
    let next = 0
    const checkRoot = (): void => {
      while (next < checkpoints.length && (checkpoints[next] as CheckpointBody).treeSize === index) {
        const c = checkpoints[next] as CheckpointBody
        const root = index === 0 ? undefined : frontier.root()
        if (root !== undefined && !root.equals(c.rootHash)) throw new RecordFault(`checkpoint ${c.treeSize}`, `its signed root does not match entries 0…${c.treeSize - 1}: an entry before it was changed, removed, added or reordered`)
        next++
      }
    }
    checkRoot()
    if (!existsSync(join(dir, 'entries.jsonl'))) throw new RecordFault('entries.jsonl', 'missing')
    const lines = createInterface({ input: createReadStream(join(dir, 'entries.jsonl'), 'utf8'), crlfDelay: Number.POSITIVE_INFINITY })
    for await (const line of lines) {
      if (index >= treeSize) throw new RecordFault(`entry ${index}`, `beyond the last checkpoint (${treeSize} entries)`)
      checkEntry(line, index, seen, kinds)
      const leaf = leafHash(alg, Buffer.from(line, 'utf8'))
      const kept = stored?.[index]
      if (stored !== undefined && kept !== leaf.toString('base64')) {
        throw new RecordFault(`entry ${index}`, kept === undefined || kept === '' ? 'no stored leaf hash' : 'its bytes do not hash to the leaf the gateway placed in the tree: changed, removed or moved')
      }
      frontier.push(leaf)
      index++
      checkRoot()
    }
    if (index < treeSize) throw new RecordFault(`entry ${index}`, `missing: the export holds ${index} entries, its last checkpoint covers ${treeSize}`)
    if (timestamps > 0 && options.tsaAnchors === undefined) notices.push('time stamps checked with the TSA certificates they carry: give the TSA\'s CA (--tsa-ca) to check who issued them')
    return { ok: true, treeSize, checkpoints: checkpointCount, kinds, timestamps, notices, ...(treeSize > 0 ? { rootHash: frontier.root().toString('base64') } : {}) }
  } catch (err) {
    if (!(err instanceof RecordFault)) throw err
    return { ok: false, fault: { record: err.record, message: err.message }, treeSize, checkpoints: checkpointCount, kinds, timestamps, notices }
  }
}
