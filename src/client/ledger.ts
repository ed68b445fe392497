import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { digestHex, parseJws, type PublicKey } from '../crypto/index.ts'
import type { Receipt } from '../core/envelope.ts'
import { noteVerifier, parseCheckpointText, verifyNote, type NoteVerifier } from '../ledger/note.ts'
import { leafHash, verifyConsistency, verifyInclusion, type TreeHash } from '../ledger/tree.ts'
import { refused, TongbanClientError } from './errors.ts'
import type { HttpResult } from './client.ts'

/** A checkpoint this client has verified: what later checkpoints must be consistent with. */
export interface SeenCheckpoint {
  readonly origin: string
  readonly treeSize: number
  /** base64 */
  readonly rootHash: string
  readonly note: string
}

/** Where a client keeps the last checkpoint it has seen (a file, a database row: the client's choice). */
export interface CheckpointStore {
  load(): Promise<SeenCheckpoint | undefined>
  save(c: SeenCheckpoint): Promise<void>
}

/** Keeps the last checkpoint in memory (lost with the process). */
export class MemoryCheckpointStore implements CheckpointStore {
  #c: SeenCheckpoint | undefined
  async load(): Promise<SeenCheckpoint | undefined> {
    return this.#c
  }

  async save(c: SeenCheckpoint): Promise<void> {
    this.#c = c
  }
}

/** Keeps the last checkpoint in a small JSON file (written whole, then renamed into place). */
export class FileCheckpointStore implements CheckpointStore {
  readonly #file: string
  constructor(file: string) {
    this.#file = file
  }

  async load(): Promise<SeenCheckpoint | undefined> {
    if (!existsSync(this.#file)) return undefined
    return JSON.parse(readFileSync(this.#file, 'utf8')) as SeenCheckpoint
  }

  async save(c: SeenCheckpoint): Promise<void> {
    writeFileSync(`${this.#file}.tmp`, `${JSON.stringify(c, null, 2)}\n`)
    renameSync(`${this.#file}.tmp`, this.#file)
  }
}

/** What `prove` established. */
export interface InclusionEvidence {
  readonly entryId: string
  readonly leafIndex: number
  /** The entry's exact bytes (canonical JSON). */
  readonly entry: string
  readonly checkpoint: SeenCheckpoint
  /** The C2SP tlog-proof of the entry to that checkpoint: keep it with the receipt. */
  readonly tlogProof: string
}

type Http = (method: 'GET', path: string) => Promise<HttpResult>

const fail = (message: string): TongbanClientError => new TongbanClientError('TB_CLIENT_LEDGER_INVALID', message)

/**
 * The ledger as a partner checks it: that a receipt's entry is in the gateway's signed tree, and
 * that every checkpoint extends the last one this client saw — a gateway that rewrote or forked
 * its history is caught (TB_CLIENT_LEDGER_INCONSISTENT). Checkpoints are verified with the
 * gateway keys pinned in the client's options, never with keys the gateway sends.
 */
export class LedgerClient {
  readonly #http: Http
  readonly #keys: readonly PublicKey[]
  readonly #store: CheckpointStore

  constructor(http: Http, gatewayKeys: readonly PublicKey[], store: CheckpointStore) {
    this.#http = http
    this.#keys = gatewayKeys
    this.#store = store
  }

  async #get(path: string): Promise<Record<string, unknown>> {
    const res = await this.#http('GET', path)
    if (res.status !== 200) throw refused(`GET ${path}`, res)
    return res.json as Record<string, unknown>
  }

  #verifiers(origin: string): NoteVerifier[] {
    return this.#keys.filter((k) => k.kind === 'sm2' || k.kind === 'ec-p256').map((k) => noteVerifier(origin, k))
  }

  /**
   * The gateway's latest checkpoint, verified with the pinned keys and shown consistent with the
   * last one this client saw (then remembered in its place).
   */
  async checkpoint(): Promise<SeenCheckpoint & { hashAlg: TreeHash }> {
    const cp = await this.#get('/v1/ledger/checkpoint')
    const hashAlg = cp.hashAlg === 'SHA-256' ? 'SHA-256' : 'SM3'
    const note = String(cp.note)
    let body
    try {
      const origin = note.slice(0, note.indexOf('\n'))
      body = parseCheckpointText((await verifyNote(note, this.#verifiers(origin))).text)
    } catch (err) {
      throw fail(`the checkpoint is not signed by a pinned gateway key: ${(err as Error).message}`)
    }
    const seen: SeenCheckpoint = { origin: body.origin, treeSize: body.treeSize, rootHash: body.rootHash.toString('base64'), note }
    const last = await this.#store.load()
    if (last !== undefined) await this.#consistent(last, seen, hashAlg)
    await this.#store.save(seen)
    return { ...seen, hashAlg }
  }

  async #consistent(old: SeenCheckpoint, now: SeenCheckpoint, alg: TreeHash): Promise<void> {
    const inconsistent = (why: string): TongbanClientError => new TongbanClientError('TB_CLIENT_LEDGER_INCONSISTENT', `the gateway's log does not extend the checkpoint seen before (size ${old.treeSize}): ${why}`)
    if (old.origin !== now.origin) throw inconsistent(`another log (${now.origin})`)
    if (now.treeSize < old.treeSize) throw inconsistent(`its latest checkpoint is smaller (${now.treeSize})`)
    if (now.treeSize === old.treeSize) {
      if (now.rootHash !== old.rootHash) throw inconsistent('the same size with another root')
      return
    }
    if (old.treeSize === 0) return
    const p = await this.#get(`/v1/ledger/proof/consistency?from=${old.treeSize}&to=${now.treeSize}`)
    const proof = (p.hashes as string[]).map((h) => Buffer.from(h, 'base64'))
    if (!verifyConsistency(alg, old.treeSize, now.treeSize, Buffer.from(old.rootHash, 'base64'), Buffer.from(now.rootHash, 'base64'), proof)) {
      throw inconsistent('the consistency proof fails: history was rewritten or forked')
    }
  }

  /**
   * Proves a receipt's acceptance is in the ledger: fetches its entry (by the receipt's
   * `ledgerEntry`), checks the entry is this receipt's (exchange, digests), fetches its
   * inclusion proof to the latest checkpoint and checks it, and checks that checkpoint against
   * the last one seen. `receiptJws` (the receipt as received) lets it check the receipt's digest too.
   */
  async prove(receipt: Receipt | string): Promise<InclusionEvidence> {
    const r: Receipt = typeof receipt === 'string' ? JSON.parse(parseJws(receipt).payload.toString('utf8')) as Receipt : receipt
    if (r.ledgerEntry === undefined) throw fail('the receipt names no ledger entry (a gateway running without its ledger)')
    const e = await this.#get(`/v1/ledger/entries/${encodeURIComponent(r.ledgerEntry)}`)
    if (typeof e.leafIndex !== 'number') throw new TongbanClientError('TB_CLIENT_LEDGER_PENDING', 'the entry is not in the tree yet: ask again after the next checkpoint (seconds)')
    const entry = String(e.entry)
    const fields = JSON.parse(entry) as { kind?: string; exchangeId?: string; messageId?: string; requestDigest?: string; receiptDigest?: string }
    const suiteAlg = /^SM3:/.test(fields.requestDigest ?? '') ? 'national' : 'international'
    if (fields.kind !== 'message.accepted' || fields.exchangeId !== r.exchangeId || fields.messageId !== r.messageId || fields.requestDigest?.split(':')[1] !== r.digest) {
      throw fail('the ledger entry named by the receipt is not this receipt\'s acceptance')
    }
    if (typeof receipt === 'string' && fields.receiptDigest?.split(':')[1] !== digestHex(suiteAlg, Buffer.from(receipt, 'ascii'))) throw fail('the ledger entry records another receipt')
    const cp = await this.checkpoint()
    if (e.leafIndex >= cp.treeSize) throw new TongbanClientError('TB_CLIENT_LEDGER_PENDING', 'the entry is not under a signed checkpoint yet: ask again in a few seconds')
    const p = await this.#get(`/v1/ledger/proof/inclusion?index=${e.leafIndex}&treeSize=${cp.treeSize}`)
    const leaf = leafHash(cp.hashAlg, Buffer.from(entry, 'utf8'))
    const hashes = (p.hashes as string[]).map((h) => Buffer.from(h, 'base64'))
    if (!verifyInclusion(cp.hashAlg, e.leafIndex, cp.treeSize, leaf, hashes, Buffer.from(cp.rootHash, 'base64'))) throw fail('the inclusion proof does not lead to the signed root')
    return { entryId: r.ledgerEntry, leafIndex: e.leafIndex, entry, checkpoint: cp, tlogProof: String(p.tlogProof ?? '') }
  }
}
