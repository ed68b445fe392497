import type { Db } from './db.ts'
import { entryInsert, entryJson, entryParams, type LedgerRecord } from './ledger.ts'
import { ALONE, byKey, GroupWriter, writerOf } from './group.ts'

/** Everything the acceptance of one message writes (see migrations/0004, 0005, 0006, 0012 and 0014: tongban_accept). */
export interface AcceptDoc {
  readonly exchange: {
    readonly id: string; readonly sender: string; readonly messageId: string; readonly type: string; readonly v: number
    readonly caseId: string | null; readonly unitCode: string | null; readonly suite: string; readonly requestDigest: string
    /** The sender's message, sealed (base64). */
    readonly messageSealed: string
    readonly receipt: string; readonly receivedAt: string
  }
  readonly deliveries: ReadonlyArray<{ readonly id: string; readonly recipient: string }>
  /** The attachments the message names (migration 0016: exchange_attachments, written in the same statement). */
  readonly attachments: readonly string[]
  readonly housingContract?: { readonly unitCode: string; readonly contractNumber: string; readonly filingNumber: string }
  readonly case?: {
    readonly caseId: string; readonly unitCode: string
    /** The sender may open a new case (a registration centre, for a case id of one of its divisions). */
    readonly mayCreate: boolean
    /** Whether the recipients become (confirmed) participants; false for a refusal, which confirms nobody. */
    readonly involvesRecipients: boolean
    /** The message is an application by which a non-participant joins the case as pending. */
    readonly mayJoin: boolean
    /** Who the message goes to (the sender is added by the store, confirmed or pending). */
    readonly recipients: readonly string[]
    readonly events: ReadonlyArray<{ readonly event: string; readonly actor: string; readonly detail: Record<string, unknown> }>
    readonly openStep?: { readonly id: string; readonly kind: string; readonly requester: string; readonly responder: string; readonly dueAt: string | null }
    readonly closeStep?: { readonly id: string; readonly outcome: 'completed' | 'rejected' }
    /** A filed contract to link: only a filing of `housing`, the bureau responsible for the unit (null: none, no link). */
    readonly linkContract?: { readonly unitCode: string; readonly contractNumber: string | null; readonly filingNumber: string | null; readonly housing: string | null }
    /** The utilities the applicants opted in to (registration.completed; kept, with a utility.opted-in event, only when the case's owner sends it: migration 0014). */
    readonly utilityServices?: readonly string[]
    /** A cross-region application accepted into the sender's own (home) case: the two cases are linked (migration 0014). */
    readonly linkCase?: { readonly caseId: string }
    /** The case must not be linked to a home case yet (an examination of a cross-region application; TB006 otherwise). */
    readonly requireUnlinked?: boolean
  }
}

/** Why the store refused an acceptance (the core turns it into an error for the sender). */
export type AcceptConflict =
  | 'repeat' | 'unit-mismatch' | 'step-already-open' | 'step-closed' | 'not-a-participant'
  /** The contract and filing numbers do not name exactly one filing of the responsible bureau. */
  | 'contract-ambiguous'
  /** The bureau already used the contract number (for another unit) or the filing number (for another contract). */
  | 'filing-conflict'
  /** The case or the home case named is linked elsewhere, or the home case is another centre's or another unit's. */
  | 'link-conflict'
  /** An attachment the message names was deleted (retention) between its check and the acceptance. */
  | 'attachment-gone'

const ACCEPT = 'SELECT tongban_accept($1::jsonb)'
const ACCEPT_ENTRY = `WITH accepted AS (SELECT tongban_accept($1::jsonb)) ${entryInsert(2, 'accepted')}`
const LINK = `linked AS (INSERT INTO exchange_attachments (exchange_id, attachment_id, received_at)
              SELECT $2::uuid, a, $3::timestamptz FROM unnest($4::uuid[]) a WHERE EXISTS (SELECT 1 FROM accepted))`
const ACCEPT_LINKED = `WITH accepted AS (SELECT tongban_accept($1::jsonb)), ${LINK} SELECT 1`
const ACCEPT_LINKED_ENTRY = `WITH accepted AS (SELECT tongban_accept($1::jsonb)), ${LINK} ${entryInsert(5, 'accepted')}`

/** Why the store refused an acceptance, from the SQLSTATE and constraint PostgreSQL gave (undefined: not a refusal). */
function conflictOf(code: string | undefined, constraint: string | undefined): AcceptConflict | undefined {
  if (code === 'TB001') return 'unit-mismatch'
  if (code === 'TB002') return 'step-closed'
  if (code === 'TB003') return 'not-a-participant'
  if (code === 'TB004') return 'contract-ambiguous'
  if (code === 'TB005') return 'filing-conflict'
  if (code === 'TB006') return 'link-conflict'
  if (code === '23505' && constraint === 'housing_contracts_filing_key') return 'filing-conflict'
  if (code === '23505' && constraint === 'exchange_keys_pkey') return 'repeat'
  if (code === '23503' && constraint === 'exchange_attachments_attachment_id_fkey') return 'attachment-gone'
  if (code === '23505' && constraint === 'case_steps_one_open') return 'step-already-open'
  return undefined
}

/** Writes one acceptance in one statement (one transaction); a conflict comes back as its kind. */
export async function storeOneAcceptance(db: Db, doc: AcceptDoc, entry?: LedgerRecord): Promise<AcceptConflict | undefined> {
  try {
    // With its ledger entry and its attachments' links, in the same statement (one transaction): all or nothing.
    // Named: each connection parses and plans the statement once (PostgreSQL's prepared statements).
    const json = JSON.stringify(doc)
    if (doc.attachments.length === 0) {
      if (entry === undefined) await db.query({ name: 'tb-accept', text: ACCEPT, values: [json] })
      else await db.query({ name: 'tb-accept-entry', text: ACCEPT_ENTRY, values: [json, ...entryParams(entry)] })
      return undefined
    }
    const params = [json, doc.exchange.id, doc.exchange.receivedAt, doc.attachments]
    if (entry === undefined) await db.query({ name: 'tb-accept-linked', text: ACCEPT_LINKED, values: params })
    else await db.query({ name: 'tb-accept-linked-entry', text: ACCEPT_LINKED_ENTRY, values: [...params, ...entryParams(entry)] })
    return undefined
  } catch (err) {
    const e = err as { code?: string; constraint?: string }
    const conflict = conflictOf(e.code, e.constraint)
    if (conflict === undefined) throw err
    return conflict
  }
}

/** One acceptance of a group: what storeOneAcceptance writes. */
export interface AcceptItem {
  readonly doc: AcceptDoc
  readonly entry?: LedgerRecord | undefined
}

/**
 * What became of one item of a group: written (`undefined`), refused (its conflict), or ALONE:
 * PostgreSQL refused it for a reason that is not a conflict (the item is then written, or its
 * error raised, by storeOneAcceptance).
 */
export type GroupOutcome = AcceptConflict | undefined | typeof ALONE

const ACCEPT_MANY = 'SELECT tongban_accept_many($1::jsonb) AS outcomes'

/**
 * Writes up to MAX_GROUP acceptances in one statement and one transaction (migration 0024), each
 * in its own subtransaction: an item refused undoes its own writes only. Throws when the statement
 * as a whole fails, and then nothing of it was written.
 */
export async function storeAcceptances(db: Db, items: readonly AcceptItem[]): Promise<GroupOutcome[]> {
  if (items.length > MAX_GROUP) throw new RangeError(`at most ${MAX_GROUP} acceptances in a group`)
  const json = JSON.stringify(items.map((x) => ({
    doc: x.doc,
    entry: x.entry === undefined ? null : entryJson(x.entry),
  })))
  const r = await db.query<{ outcomes: Array<{ code: string; constraint: string | null } | null> }>({ name: 'tb-accept-many', text: ACCEPT_MANY, values: [json] })
  const outcomes = r.rows[0]?.outcomes
  if (!Array.isArray(outcomes) || outcomes.length !== items.length) throw new Error('tongban_accept_many answered for another number of items')
  return outcomes.map((o) => (o === null ? undefined : conflictOf(o.code, o.constraint ?? undefined) ?? ALONE))
}

/** The most acceptances in one group (see migration 0024: each is a subtransaction). */
export const MAX_GROUP = 16
/**
 * The most statements of acceptances out at once, per pool. One writes the largest groups: at
 * 500 messages/s it cost PostgreSQL 0.73-0.84 ms per message against 0.86-0.98 with two
 * (docs/performance.md, "Acceptances in groups"). More instances each have their own.
 */
export const MAX_WRITING = 1

const writers = new WeakMap<Db, GroupWriter<AcceptItem, AcceptConflict | undefined>>()

/**
 * Writes an acceptance (with its ledger entry and its attachments' links: all or nothing); a
 * conflict comes back as its kind. Resolves once it is committed, alone or in a group: while one
 * statement of this pool's acceptances is out, those that arrive wait and go together
 * (store/group.ts), in case order, so two groups do not wait on each other's case locks crosswise.
 */
export async function storeAcceptance(db: Db, doc: AcceptDoc, entry?: LedgerRecord): Promise<AcceptConflict | undefined> {
  return writerOf(writers, db, (pool) => ({
    one: (x) => storeOneAcceptance(pool, x.doc, x.entry),
    many: (xs) => storeAcceptances(pool, xs),
    maxGroup: MAX_GROUP,
    maxWriting: MAX_WRITING,
    order: byKey((x) => x.doc.case?.caseId ?? ''),
  })).write({ doc, entry })
}
