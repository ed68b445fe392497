import { hostname } from 'node:os'
import { digestAlg, treeHash, type GatewayKeyring, type PublicKey, type Suite } from '../crypto/index.ts'
import { TongbanError } from '../errors.ts'
import { inTransaction, type Db } from '../store/db.ts'
import {
  appendToTree, checkpointAt, ensureTreeState, setTsaToken, fetchNodes, insertCheckpoint, insertEntry, latestCheckpoint, lockTree, treeState, waitingEntries,
  type LedgerRecord, type StoredCheckpoint, type TreeState,
} from '../store/ledger.ts'
import type { Clock, IdSource } from '../util/ids.ts'
import type { Logger } from '../util/log.ts'
import { makeEntry, type EntryFields, type EntryKind, type TaggedDigest } from './entries.ts'
import { checkpointText, noteVerifier, signNote, vkeyOf, type NoteVerifier } from './note.ts'
import {
  appendLeaves, consistencyRanges, emptyRoot, inclusionRanges, leafHash, refsOf, rightEdge, rootHash, subtreeHash, type NodeRef, type TreeHash,
} from './tree.ts'

export { ENTRY_KINDS, makeEntry, canonicalJson } from './entries.ts'
export type { EntryKind, EntryFields } from './entries.ts'

export interface LedgerSettings {
  readonly enabled: boolean
  readonly hash: TreeHash
  readonly origin: string
  readonly integrateMs: number
  readonly checkpointMs: number
  readonly batch: number
}

export interface LedgerDeps {
  readonly db: Db
  readonly keyring: GatewayKeyring
  readonly clock: Clock
  readonly ids: IdSource
  readonly logger: Logger
  readonly settings: LedgerSettings
  /** Stamps a checkpoint note with a time-stamping authority (RFC 3161), when one is configured. */
  readonly timestamp?: (note: string) => Promise<Buffer>
}

/** The default origin of a gateway's checkpoints. */
export function defaultOrigin(gatewayId: string): string {
  return `${gatewayId.toLowerCase()}.tongban/ledger`
}

/** A digest tagged with its algorithm: `SM3:<hex>` or `SHA-256:<hex>`. */
export function tagged(suite: Suite, hex: string): TaggedDigest {
  return `${digestAlg(suite)}:${hex}`
}

/** An inclusion proof of one leaf in the tree of `treeSize` leaves. */
export interface InclusionProof {
  readonly index: number
  readonly treeSize: number
  readonly leafHash: Buffer
  readonly hashes: Buffer[]
  readonly rootHash: Buffer
}

/**
 * The evidence ledger (存证): entries written with their facts (the fact's store call takes
 * the record `record()` builds), placed in the Merkle tree by a background integrator (one at a
 * time across instances), and signed checkpoints of the tree at least every `checkpointMs`
 * while entries arrive.
 */
export class Ledger {
  readonly #d: LedgerDeps
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #closed = false

  constructor(deps: LedgerDeps) {
    this.#d = deps
  }

  get enabled(): boolean {
    return this.#d.settings.enabled
  }

  get hash(): TreeHash {
    return this.#d.settings.hash
  }

  get origin(): string {
    return this.#d.settings.origin
  }

  /**
   * The entry of a fact, to write in the fact's own transaction; undefined when the ledger is off.
   * `caseId`: the case whose evidence holds it, where its fields do not name it (a settled delivery).
   */
  record<K extends EntryKind>(kind: K, fields: EntryFields[K], caseId?: string | null): LedgerRecord | undefined {
    if (!this.enabled) return undefined
    return makeEntry(kind, this.#d.ids.uuid7(), this.#d.clock.now(), fields, caseId)
  }

  /**
   * Writes an entry that is itself the record (a read of personal data, a load): before the
   * answer leaves. A read that cannot be recorded is not answered (503 TB_ERR_UNAVAILABLE).
   */
  async write<K extends EntryKind>(kind: K, fields: EntryFields[K]): Promise<void> {
    const r = this.record(kind, fields)
    if (r === undefined) return
    try {
      await insertEntry(this.#d.db, r)
    } catch (err) {
      this.#d.logger.error({ err, kind }, 'ledger entry not written')
      throw new TongbanError('TB_ERR_UNAVAILABLE', 'the evidence ledger cannot record this now; try again', { cause: err })
    }
  }

  /** Writes entries that are together the record of one fact, in one transaction; 503 when they cannot be written. */
  async writeAll(records: ReadonlyArray<LedgerRecord | undefined>): Promise<void> {
    const rs = records.filter((r) => r !== undefined)
    if (rs.length === 0) return
    try {
      await inTransaction(this.#d.db, async (tx) => { for (const r of rs) await insertEntry(tx, r) })
    } catch (err) {
      this.#d.logger.error({ err, kinds: rs.map((r) => r.kind) }, 'ledger entries not written')
      throw new TongbanError('TB_ERR_UNAVAILABLE', 'the evidence ledger cannot record this now; try again', { cause: err })
    }
  }

  /** A digest for an entry, with the tree's hash: `SM3:<hex>` (or SHA-256). */
  digest(bytes: Uint8Array): TaggedDigest {
    return `${this.hash}:${treeHash(this.hash, bytes).toString('hex')}`
  }

  /** The keys checkpoints are signed with, as note verifiers (both suites where the gateway has them). */
  verifiers(): NoteVerifier[] {
    return this.#signers().map((k) => noteVerifier(this.origin, k.publicKey))
  }

  /** The verifier key strings (`name+id+key`) to give partners. */
  vkeys(): string[] {
    return this.verifiers().map(vkeyOf)
  }

  #signers(): Array<import('../crypto/index.ts').PrivateKey> {
    return (['national', 'international'] as const).map((s) => this.#d.keyring.signer(s)).filter((k) => k !== undefined)
  }

  /** The public keys of the checkpoint signers. */
  signingKeys(): PublicKey[] {
    return this.#signers().map((k) => k.publicKey)
  }

  /** Creates the tree state on first use; refuses a hash or origin other than the tree's. */
  async open(): Promise<TreeState> {
    const s = this.#d.settings
    const state = await ensureTreeState(this.#d.db, { hashAlg: s.hash, origin: s.origin, emptyRoot: emptyRoot(s.hash), at: this.#d.clock.now() })
    if (state.hashAlg !== s.hash) throw new Error(`the ledger's tree uses ${state.hashAlg}; ledger.hash is ${s.hash} (the hash of an existing ledger cannot change)`)
    if (state.origin !== s.origin) throw new Error(`the ledger's origin is ${state.origin}; ledger.origin is ${s.origin} (the origin of an existing ledger cannot change)`)
    return state
  }

  /** Starts the background integrator and checkpointer. */
  start(): void {
    if (!this.enabled || this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      if (this.#running !== undefined || this.#closed) return
      this.#running = this.#tick().finally(() => { this.#running = undefined })
    }, this.#d.settings.integrateMs)
    this.#timer.unref()
  }

  async #tick(): Promise<void> {
    try {
      while ((await this.integrate()) >= this.#d.settings.batch && !this.#closed) { /* more waiting */ }
      await this.checkpoint()
    } catch (err) {
      this.#d.logger.warn({ err }, 'ledger integration failed; retried on the next round')
    }
  }

  /** Places one batch of waiting entries in the tree; the number placed (0 when another instance holds the tree, unless `wait`). */
  async integrate(wait = false): Promise<number> {
    const alg = this.hash
    const placed = await inTransaction(this.#d.db, async (tx) => {
      const state = await lockTree(tx, wait)
      if (state === undefined) return 0
      const waiting = await waitingEntries(tx, this.#d.settings.batch)
      if (waiting.length === 0) return 0
      const edge = await fetchNodes(tx, rightEdge(state.treeSize))
      const source = (level: number, index: number): Buffer => {
        const h = edge.get(`${level}/${index}`)
        if (h === undefined) throw new Error(`ledger node ${level}/${index} missing`)
        return h
      }
      const nodes = appendLeaves(alg, source, state.treeSize, waiting.map((w) => leafHash(alg, Buffer.from(w.entry, 'utf8'))))
      const size = state.treeSize + waiting.length
      const all = new Map(edge)
      for (const n of nodes) all.set(`${n.level}/${n.index}`, n.hash)
      const root = rootHash(alg, (l, i) => all.get(`${l}/${i}`) as Buffer, size)
      await appendToTree(tx, waiting.map((w, i) => ({ id: w.id, index: state.treeSize + i })), nodes, { treeSize: size, rootHash: root, at: this.#d.clock.now() })
      return waiting.length
    })
    return placed
  }

  /**
   * Signs a checkpoint of the current tree when it has grown and the last one is `checkpointMs`
   * old (or `force`); returns it, or undefined when none was due.
   */
  async checkpoint(force = false, wait = false): Promise<StoredCheckpoint | undefined> {
    const signers = this.#signers()
    return inTransaction(this.#d.db, async (tx) => {
      const state = await lockTree(tx, wait)
      if (state === undefined) return undefined
      const last = await latestCheckpoint(tx)
      const now = this.#d.clock.now()
      if (last !== undefined && last.treeSize >= state.treeSize) return undefined
      if (!force && last !== undefined && now.getTime() - last.signedAt.getTime() < this.#d.settings.checkpointMs) return undefined
      const text = checkpointText({ origin: state.origin, treeSize: state.treeSize, rootHash: state.rootHash, timestamp: now.toISOString() })
      const note = await signNote(text, state.origin, signers)
      const c: StoredCheckpoint = { treeSize: state.treeSize, rootHash: state.rootHash, signedAt: now, note, tsaToken: null }
      await insertCheckpoint(tx, c)
      return c
    }).then((c) => (c === undefined ? undefined : this.#stamp(c)))
  }

  /** Has the checkpoint stamped by the TSA, after it is committed (a slow TSA holds no lock); unstamped when the TSA fails. */
  async #stamp(c: StoredCheckpoint): Promise<StoredCheckpoint> {
    if (this.#d.timestamp === undefined) return c
    try {
      const token = await this.#d.timestamp(c.note)
      await setTsaToken(this.#d.db, c.treeSize, token)
      return { ...c, tsaToken: token }
    } catch (err) {
      this.#d.logger.warn({ err, treeSize: c.treeSize }, 'the time-stamping authority did not stamp the checkpoint; it stays signed, without a time stamp')
      return c
    }
  }

  /**
   * Integrates everything committed so far and signs a checkpoint of it (export, evidence,
   * tests): waits for another instance's integrator rather than skipping its round.
   */
  async settle(): Promise<StoredCheckpoint | undefined> {
    while ((await this.integrate(true)) > 0) { /* until nothing waits */ }
    await this.checkpoint(true, true)
    return latestCheckpoint(this.#d.db)
  }

  async state(): Promise<TreeState> {
    const s = await treeState(this.#d.db)
    if (s === undefined) throw new Error('the ledger is not open')
    return s
  }

  async #hashes(ranges: Array<[number, number]>): Promise<Buffer[]> {
    const refs: NodeRef[] = refsOf(ranges)
    const nodes = await fetchNodes(this.#d.db, refs)
    const source = (level: number, index: number): Buffer => {
      const h = nodes.get(`${level}/${index}`)
      if (h === undefined) throw new Error(`ledger node ${level}/${index} missing`)
      return h
    }
    return ranges.map(([lo, hi]) => subtreeHash(this.hash, source, lo, hi))
  }

  /** The root of the tree at `size` (≤ the integrated size). */
  async rootAt(size: number): Promise<Buffer> {
    if (size === 0) return emptyRoot(this.hash)
    const [root] = await this.#hashes([[0, size]])
    return root as Buffer
  }

  /** The inclusion proof of leaf `index` in the tree of `treeSize` leaves (both within the integrated tree). */
  async inclusion(index: number, treeSize: number): Promise<InclusionProof> {
    const [leaf, ...hashes] = await this.#hashes([[index, index + 1], ...inclusionRanges(index, treeSize)])
    return { index, treeSize, leafHash: leaf as Buffer, hashes, rootHash: await this.rootAt(treeSize) }
  }

  /** The consistency proof from the tree of `from` leaves to the tree of `to` leaves. */
  async consistency(from: number, to: number): Promise<Buffer[]> {
    return this.#hashes(consistencyRanges(from, to))
  }

  async checkpointAt(treeSize: number): Promise<StoredCheckpoint | undefined> {
    return checkpointAt(this.#d.db, treeSize)
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    return latestCheckpoint(this.#d.db)
  }

  /**
   * Stops the integrator after its current round, then (a gateway shutting down) places what is
   * still waiting and signs a checkpoint of it, so a stopped gateway leaves no entry out of the tree.
   */
  async close(): Promise<void> {
    this.#closed = true
    const started = this.#timer !== undefined
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
    if (started) await this.settle().catch((err: unknown) => this.#d.logger.warn({ err }, 'ledger: the last entries are placed at the next start'))
  }
}

/** The instance name written into load entries. */
export function instanceName(): string {
  return `${hostname()}:${process.pid}`
}
