import canonicalize from 'canonicalize'
import type { LedgerRecord } from '../store/ledger.ts'

/**
 * The ledger's entries (docs/ledger.md §2): one JSON object per fact, canonical by RFC 8785
 * (JCS), holding ids, digests, participants and times — never personal data in clear (no
 * names, ID numbers, unit codes, free text: an operator's reason is kept as its digest).
 */

/** Version of the entry format (the `v` member of every entry). */
export const ENTRY_VERSION = 1

export type EntryKind =
  | 'message.accepted' | 'delivery.settled' | 'query.recorded' | 'case.read' | 'operator.action' | 'directory.loaded' | 'keys.loaded'

export const ENTRY_KINDS: readonly EntryKind[] = ['message.accepted', 'delivery.settled', 'query.recorded', 'case.read', 'operator.action', 'directory.loaded', 'keys.loaded']

/** A digest with its algorithm: `SM3:<hex>` or `SHA-256:<hex>` (lower-case hex). */
export type TaggedDigest = string

export interface MessageAccepted {
  readonly exchangeId: string; readonly sender: string; readonly messageId: string; readonly type: string
  readonly caseId?: string; readonly recipients: readonly string[]; readonly suite: string
  /** Of the exact request body, as the receipt states it. */
  readonly requestDigest: TaggedDigest
  /** Of the sender's JWS as accepted (what is delivered, and what the delivery statement digests). */
  readonly messageDigest: TaggedDigest
  /** Of the signed receipt (its compact JWS, ASCII). */
  readonly receiptDigest: TaggedDigest
}

export interface DeliverySettled {
  readonly deliveryId: string; readonly exchangeId: string; readonly sender: string; readonly recipient: string
  readonly outcome: 'delivered' | 'dead' | 'replayed'
  /** The attempt that settled it (0 for a replay, which starts the attempts again). */
  readonly attempt: number
  /** A dead delivery's reason code (e.g. `HTTP_5XX 503`); never a partner's body. */
  readonly reason?: string
  /** The operator who replayed it. */
  readonly operator?: string
}

export interface QueryRecorded {
  readonly queryId: string; readonly asker: string; readonly responder: string; readonly type: string; readonly messageId: string
  readonly outcome: string; readonly errorCode?: string
  readonly requestDigest: TaggedDigest
  readonly answerDigest?: TaggedDigest
}

export interface CaseRead {
  readonly reader: string
  /** What was read: one case, one exchange, the list of one's cases, the query record, an evidence package, deliveries, or an attachment. */
  readonly what: 'case' | 'exchange' | 'cases' | 'queries' | 'evidence' | 'deliveries' | 'attachment'
  readonly ref?: string
  /** How many records a list read returned. */
  readonly count?: number
  /** A console read that showed personal data unmasked (an operator or auditor asked for it). */
  readonly unmasked?: boolean
}

export interface OperatorAction {
  readonly operator: string
  readonly action: 'delivery.replay' | 'step.close' | 'directory.reload' | 'read'
    | 'operator.add' | 'operator.disable' | 'operator.enable' | 'operator.passwd' | 'console.login' | 'console.logout' | 'ledger.verify'
  /** What it acted on or read (a delivery id, `caseId/stepId`, a route). */
  readonly target?: string
  readonly reasonDigest?: TaggedDigest
  readonly outcome?: string
}

export interface DirectoryLoaded {
  readonly instance: string
  readonly by: string
  readonly version: number
  readonly participants: number
  /** Of the directory file's exact bytes. */
  readonly fileDigest: TaggedDigest
}

export interface KeysLoaded {
  readonly instance: string
  /** The gateway's public keys: kid and base64url SHA-256 of the SubjectPublicKeyInfo, sorted by kid. */
  readonly keys: ReadonlyArray<{ readonly kid: string; readonly spkiSha256: string }>
}

export interface EntryFields {
  'message.accepted': MessageAccepted
  'delivery.settled': DeliverySettled
  'query.recorded': QueryRecorded
  'case.read': CaseRead
  'operator.action': OperatorAction
  'directory.loaded': DirectoryLoaded
  'keys.loaded': KeysLoaded
}

/** The participants an entry names (they may read it whole; others see only its leaf hash). */
function partiesOf<K extends EntryKind>(kind: K, f: EntryFields[K]): string[] {
  const named = new Set<string>()
  const add = (...ids: Array<string | undefined>): void => { for (const id of ids) if (id !== undefined) named.add(id) }
  switch (kind) {
    case 'message.accepted': { const m = f as MessageAccepted; add(m.sender, ...m.recipients); break }
    case 'delivery.settled': { const d = f as DeliverySettled; add(d.sender, d.recipient); break }
    case 'query.recorded': { const q = f as QueryRecorded; add(q.asker, q.responder); break }
    case 'case.read': add((f as CaseRead).reader); break
    default: break
  }
  return [...named].sort()
}

/**
 * The case whose evidence package holds an entry (docs/ledger.md §8), where its fields name it: an
 * accepted message of a case, a read of a case or of its evidence, an operator's closing of a
 * step (`caseId/stepId`). A settled delivery names its exchange, not the case: its writer says.
 */
function caseOf<K extends EntryKind>(kind: K, f: EntryFields[K]): string | undefined {
  switch (kind) {
    case 'message.accepted': return (f as MessageAccepted).caseId
    case 'case.read': { const r = f as CaseRead; return r.what === 'case' || r.what === 'evidence' ? r.ref : undefined }
    case 'operator.action': {
      const a = f as OperatorAction
      const slash = a.target?.lastIndexOf('/') ?? -1
      return a.action === 'step.close' && a.target !== undefined && slash > 0 ? a.target.slice(0, slash) : undefined
    }
    default: return undefined
  }
}

/** The canonical bytes of a JSON value (RFC 8785). */
export function canonicalJson(value: unknown): string {
  const s = canonicalize(value)
  if (s === undefined) throw new Error('not a JSON value')
  return s
}

/**
 * Builds an entry: `{ v, kind, id, at, …fields }`, canonical, with the parties it names and the
 * case it belongs to (`caseId`, stored beside the entry, not in it: given for a settled delivery).
 */
export function makeEntry<K extends EntryKind>(kind: K, id: string, at: Date, fields: EntryFields[K], caseId?: string | null): LedgerRecord {
  const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))
  const entry = canonicalJson({ ...clean, v: ENTRY_VERSION, kind, id, at: at.toISOString() })
  return { id, kind, entry, parties: partiesOf(kind, fields), at, caseId: caseId ?? caseOf(kind, fields) ?? null }
}
