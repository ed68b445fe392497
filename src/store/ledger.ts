import { prepared, type Db, type SideInsert, type Tx } from './db.ts'

/** One ledger entry as written with its fact (see migrations/0008_ledger.sql). */
export interface LedgerRecord {
  readonly id: string
  readonly kind: string
  /** The canonical JSON (RFC 8785) of the entry: the exact bytes of its leaf. */
  readonly entry: string
  readonly parties: readonly string[]
  readonly at: Date
  /** The case whose evidence package holds it (migration 0022): found by it, not by parsing every entry. */
  readonly caseId: string | null
}

/** An entry as stored, with its leaf index once the integrator has placed it. */
export interface StoredEntry {
  readonly id: string
  readonly kind: string
  readonly entry: string
  readonly parties: string[]
  readonly leafIndex: number | null
  readonly createdAt: Date
}

export interface TreeState {
  readonly hashAlg: 'SM3' | 'SHA-256'
  readonly origin: string
  readonly treeSize: number
  readonly rootHash: Buffer
  readonly updatedAt: Date
}

export interface StoredCheckpoint {
  readonly treeSize: number
  readonly rootHash: Buffer
  readonly signedAt: Date
  readonly note: string
  readonly tsaToken: Buffer | null
}

/** The insert of an entry, its six parameters numbered from `first`; with `from`, written once per row of that relation (none: not written). */
export function entryInsert(first: number, from?: string): string {
  const p = (i: number): string => `$${first + i}`
  const values = `${p(0)}::uuid, ${p(1)}, ${p(2)}, ${p(3)}::text[], ${p(4)}::timestamptz, ${p(5)}::text`
  const into = 'INSERT INTO ledger_entries (id, kind, entry, parties, created_at, case_id)'
  return from === undefined ? `${into} VALUES (${values})` : `${into} SELECT ${values} WHERE EXISTS (SELECT 1 FROM ${from})`
}

/** The parameters of entryInsert, in order. */
export function entryParams(r: LedgerRecord): unknown[] {
  return [r.id, r.kind, r.entry, r.parties, r.at, r.caseId]
}

/** An entry as JSON, for a statement that writes many (migration 0024 reads it back field by field). */
export function entryJson(r: LedgerRecord): Record<string, unknown> {
  return { id: r.id, kind: r.kind, entry: r.entry, parties: r.parties, at: r.at.toISOString(), caseId: r.caseId }
}

/** Writes an entry that is itself the record of its fact (a read, a load). */
export async function insertEntry(db: Db | Tx, r: LedgerRecord): Promise<void> {
  await db.query(entryInsert(1), entryParams(r))
}

/** An entry as a SideInsert (written with a fact, see withEntry). */
export function entrySide(r: LedgerRecord): SideInsert {
  return { sql: (first, from) => entryInsert(first, from), params: entryParams(r) }
}

/**
 * Runs `statement` (an UPDATE … RETURNING) and writes `record` (and `also`) only when it changed
 * a row, in one statement: the fact and its entry are written together or not at all. Returns the rows.
 */
export async function withEntry<R extends Record<string, unknown>>(db: Db | Tx, statement: string, params: readonly unknown[], record: LedgerRecord | undefined, also: readonly SideInsert[] = []): Promise<R[]> {
  const sides = record === undefined ? also : [entrySide(record), ...also]
  if (sides.length === 0) return (await db.query<R>(statement, [...params])).rows
  const all = [...params]
  const ctes = sides.map((x, i) => {
    const sql = x.sql(all.length + 1, 'fact')
    all.push(...x.params)
    return `s${i} AS (${sql})`
  })
  return (await db.query<R>(prepared(`WITH fact AS (${statement}), ${ctes.join(', ')} SELECT * FROM fact`, all))).rows
}

/** The tree's state, created with `hashAlg` and `origin` on first use. */
export async function ensureTreeState(db: Db, init: { hashAlg: 'SM3' | 'SHA-256'; origin: string; emptyRoot: Buffer; at: Date }): Promise<TreeState> {
  await db.query(
    `INSERT INTO ledger_state (one, hash_alg, origin, tree_size, root_hash, updated_at) VALUES (true, $1, $2, 0, $3, $4) ON CONFLICT (one) DO NOTHING`,
    [init.hashAlg, init.origin, init.emptyRoot, init.at],
  )
  const s = await treeState(db)
  if (s === undefined) throw new Error('ledger state missing')
  return s
}

// Sizes and indices are bigint; read as float8, exact for every integer below 2^53 (a JavaScript number).
const STATE_COLUMNS = `hash_alg AS "hashAlg", origin, tree_size::float8 AS "treeSize", root_hash AS "rootHash", updated_at AS "updatedAt"`

export async function treeState(db: Db | Tx): Promise<TreeState | undefined> {
  return (await db.query<TreeState>(`SELECT ${STATE_COLUMNS} FROM ledger_state`)).rows[0]
}

/** Locks the tree for appending; undefined when another integrator holds it (or, with `wait`, once it is done). */
export async function lockTree(tx: Tx, wait = false): Promise<TreeState | undefined> {
  return (await tx.query<TreeState>(`SELECT ${STATE_COLUMNS} FROM ledger_state FOR UPDATE${wait ? '' : ' SKIP LOCKED'}`)).rows[0]
}

/** Entries not yet in the tree, in the order they were written. */
export async function waitingEntries(tx: Tx, limit: number): Promise<Array<{ id: string; entry: string }>> {
  return (await tx.query<{ id: string; entry: string }>(`SELECT id, entry FROM ledger_entries WHERE leaf_index IS NULL ORDER BY seq LIMIT $1`, [limit])).rows
}

/** The hashes of the given complete subtrees, keyed `level/index`. */
export async function fetchNodes(db: Db | Tx, refs: ReadonlyArray<{ level: number; index: number }>): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  if (refs.length === 0) return out
  const r = await db.query<{ level: number; idx: string; hash: Buffer }>(
    `SELECT n.level, n.idx, n.hash FROM ledger_nodes n JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx`,
    [refs.map((x) => x.level), refs.map((x) => x.index)],
  )
  for (const row of r.rows) out.set(`${row.level}/${row.idx}`, row.hash)
  return out
}

/** Places entries at their leaf indices, writes the new subtree hashes and the new state. */
export async function appendToTree(
  tx: Tx,
  placed: ReadonlyArray<{ id: string; index: number }>,
  nodes: ReadonlyArray<{ level: number; index: number; hash: Buffer }>,
  state: { treeSize: number; rootHash: Buffer; at: Date },
): Promise<void> {
  await tx.query(
    `UPDATE ledger_entries e SET leaf_index = p.idx FROM unnest($1::uuid[], $2::bigint[]) AS p(id, idx) WHERE e.id = p.id AND e.leaf_index IS NULL`,
    [placed.map((p) => p.id), placed.map((p) => p.index)],
  )
  await tx.query(
    `INSERT INTO ledger_nodes (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
    [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
  )
  await tx.query(`UPDATE ledger_state SET tree_size = $1, root_hash = $2, updated_at = $3`, [state.treeSize, state.rootHash, state.at])
}

const CHECKPOINT_COLUMNS = `tree_size::float8 AS "treeSize", root_hash AS "rootHash", signed_at AS "signedAt", note, tsa_token AS "tsaToken"`

export async function latestCheckpoint(db: Db | Tx): Promise<StoredCheckpoint | undefined> {
  return (await db.query<StoredCheckpoint>(`SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1`)).rows[0]
}

export async function checkpointAt(db: Db | Tx, treeSize: number): Promise<StoredCheckpoint | undefined> {
  return (await db.query<StoredCheckpoint>(`SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE tree_size = $1`, [treeSize])).rows[0]
}

/** The latest `limit` checkpoints, newest first (the console's ledger page): not every one sorted. */
export async function latestCheckpoints(db: Db | Tx, limit: number): Promise<StoredCheckpoint[]> {
  return (await db.query<StoredCheckpoint>(`SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT $1`, [limit])).rows
}

/** Every checkpoint, oldest first (export). */
export async function allCheckpoints(db: Db | Tx): Promise<StoredCheckpoint[]> {
  return (await db.query<StoredCheckpoint>(`SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoints ORDER BY tree_size`)).rows
}

export async function insertCheckpoint(tx: Tx, c: StoredCheckpoint): Promise<void> {
  await tx.query(`INSERT INTO ledger_checkpoints (tree_size, root_hash, signed_at, note, tsa_token) VALUES ($1, $2, $3, $4, $5)`, [c.treeSize, c.rootHash, c.signedAt, c.note, c.tsaToken])
}

/** Adds the TSA's token to a checkpoint that has none (the one update a checkpoint takes). */
export async function setTsaToken(db: Db | Tx, treeSize: number, token: Buffer): Promise<void> {
  await db.query(`UPDATE ledger_checkpoints SET tsa_token = $2 WHERE tree_size = $1 AND tsa_token IS NULL`, [treeSize, token])
}

const ENTRY_COLUMNS = `id, kind, entry, parties, leaf_index::float8 AS "leafIndex", created_at AS "createdAt"`

export async function entryByIndex(db: Db | Tx, index: number): Promise<StoredEntry | undefined> {
  return (await db.query<StoredEntry>(`SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE leaf_index = $1`, [index])).rows[0]
}

export async function entryById(db: Db | Tx, id: string): Promise<StoredEntry | undefined> {
  return (await db.query<StoredEntry>(`SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE id = $1`, [id])).rows[0]
}

/** Integrated entries with leaf index in [from, to), in order (export). */
export async function entriesInRange(db: Db | Tx, from: number, to: number): Promise<StoredEntry[]> {
  return (await db.query<StoredEntry>(`SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index`, [from, to])).rows
}

/**
 * The placed entries about one case (evidence package): the acceptance of each of its exchanges,
 * the settlement of each delivery, the reads of the case and the operators' closing of its steps.
 * Found by the case they are stored with (its index), then checked by what they say.
 */
export async function caseEntries(db: Db | Tx, q: { caseId: string; exchangeIds: readonly string[]; deliveryIds: readonly string[] }): Promise<StoredEntry[]> {
  return (await db.query<StoredEntry>(
    `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE case_id = $3 AND leaf_index IS NOT NULL AND (
       (kind = 'message.accepted' AND (entry::jsonb ->> 'exchangeId') = ANY($1::text[]))
       OR (kind = 'delivery.settled' AND (entry::jsonb ->> 'deliveryId') = ANY($2::text[]))
       OR (kind = 'case.read' AND (entry::jsonb ->> 'ref') = $3 AND (entry::jsonb ->> 'what') IN ('case', 'evidence'))
       OR (kind = 'operator.action' AND (entry::jsonb ->> 'action') = 'step.close' AND (entry::jsonb ->> 'target') LIKE $3 || '/%'))
     ORDER BY leaf_index`,
    [q.exchangeIds, q.deliveryIds, q.caseId],
  )).rows
}

/** The exchanges of a case, oldest first, with their sealed messages (null once purged, with when). */
export async function caseExchanges(db: Db | Tx, caseId: string): Promise<Array<{ id: string; sender: string; messageId: string; type: string; suite: 'national' | 'international'; receipt: string; receivedAt: Date; sealed: Buffer | null; purgedAt: Date | null }>> {
  return (await db.query(
    `SELECT id, sender, message_id AS "messageId", type, suite, receipt, received_at AS "receivedAt", message_sealed AS sealed, purged_at AS "purgedAt" FROM exchanges WHERE case_id = $1 ORDER BY received_at, id`,
    [caseId],
  )).rows
}
