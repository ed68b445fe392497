import { digestAlg, digestHex, parseJws, PublicKey, signJws, verifyJws, verifyTimeStampToken, type Certificate, type GatewayKeyring, type Suite } from '../crypto/index.ts'
import type { Directory } from '../core/directory.ts'
import { DELIVERY_TYP } from '../core/envelope.ts'
import type { Db } from '../store/db.ts'
import { listCaseDeliveries } from '../store/deliveries.ts'
import { caseEntries, caseExchanges } from '../store/ledger.ts'
import { isCanonicalBase64url } from '../util/base64url.ts'
import { canonicalJson } from './entries.ts'
import { tagged, type Ledger } from './index.ts'
import { noteVerifier, parseCheckpointText, verifyNote } from './note.ts'
import { leafHash, verifyInclusion, type TreeHash } from './tree.ts'
import { RecordFault } from './verify.ts'

/** The format name of an evidence package (its payload's `format`). */
export const EVIDENCE_FORMAT = 'tongban-evidence@v1'
/** JWS typ of an evidence package. */
export const EVIDENCE_TYP = 'tongban+evidence'

interface KeyJson { readonly kid: string; readonly publicKey: string }

/** The payload of an evidence package (docs/ledger.md §8). */
export interface EvidencePayload {
  readonly format: string
  readonly caseId: string
  readonly issuedAt: string
  /** Whose view: a participant's own exchanges, or an operator's whole case. */
  readonly issuedFor: string
  readonly gateway: { readonly id: string; readonly signingKeys: readonly KeyJson[]; readonly certificates: readonly string[] }
  readonly ledger: { readonly origin: string; readonly hashAlg: TreeHash; readonly checkpoint: string; readonly tsaToken?: string }
  /** The keys that signed the messages (from the directory), by kid. */
  readonly signers: ReadonlyArray<KeyJson & { readonly owner: string }>
  readonly exchanges: ReadonlyArray<{
    readonly exchangeId: string; readonly messageId: string; readonly type: string; readonly from: string; readonly receivedAt: string
    /** The sender's JWS as accepted; absent once purged (retention.purgeAfterDays), with when in `purgedAt`. */
    readonly message?: string
    readonly purgedAt?: string
    readonly receipt: string
    readonly deliveries: ReadonlyArray<{ readonly deliveryId: string; readonly recipient: string; readonly status: string; readonly statement?: string }>
  }>
  /** The ledger entries about the case, each with its inclusion proof to the checkpoint. */
  readonly entries: ReadonlyArray<{ readonly leafIndex: number; readonly entry: string; readonly proof: readonly string[] }>
}

export interface EvidenceDeps {
  readonly db: Db
  readonly ledger: Ledger
  readonly keyring: GatewayKeyring
  readonly directory: Directory
  readonly now: Date
}

/**
 * Builds the evidence package (证据包) of a case as `viewer` may see it (a participant: the
 * exchanges it sent or received and the entries naming it; undefined: an operator, everything),
 * signed by the gateway as a compact JWS (typ tongban+evidence). Undefined when the viewer has
 * no exchange in the case (or the case has none).
 */
export async function buildEvidence(d: EvidenceDeps, caseId: string, viewer: string | undefined, issuedFor: string): Promise<string | undefined> {
  // The case as it stands now (an exchange without deliveries comes as one row with a null delivery)…
  const deliveries = (await listCaseDeliveries(d.db, caseId)).flatMap((r) => (r.deliveryId === null ? [] : [{ exchangeId: r.exchangeId, deliveryId: r.deliveryId, recipient: r.recipient as string, status: r.status as string }]))
  const rows = (await caseExchanges(d.db, caseId)).filter((x) => viewer === undefined || x.sender === viewer || deliveries.some((r) => r.exchangeId === x.id && r.recipient === viewer))
  if (rows.length === 0) return undefined
  // …then every entry committed so far placed, under one checkpoint: the entries of what was just
  // read were written with it, so all of them are under it (what happens later is not in the package).
  const checkpoint = await d.ledger.settle()
  if (checkpoint === undefined) return undefined
  const statementSigner = d.keyring.signer('national') ?? d.keyring.signer('international')
  const signers = new Map<string, KeyJson & { owner: string }>()
  const exchanges: Array<EvidencePayload['exchanges'][number]> = []
  for (const x of rows) {
    // A purged message is gone: its digest stays in its entry, and no statement is issued for it.
    const message = x.sealed === null ? undefined : d.keyring.sealer().open(x.sealed, x.id).toString('latin1')
    const kid = message === undefined ? undefined : parseJws(message).header.kid
    if (kid !== undefined && !signers.has(kid)) {
      const found = d.directory.signingKeyStatus(kid, x.receivedAt)
      if (found.state !== 'unknown') signers.set(kid, { kid, owner: found.owner.kind === 'participant' ? found.owner.participant.id : found.owner.operator.id, publicKey: found.key.toPem() })
    }
    const own = deliveries.filter((r) => r.exchangeId === x.id && (viewer === undefined || viewer === x.sender || r.recipient === viewer))
    const out = []
    for (const r of own) {
      let statement: string | undefined
      if (r.status === 'delivered' && statementSigner !== undefined && message !== undefined) {
        // Issued now, for the package: what the delivered message was (its digest), to whom.
        const s = { exchangeId: x.id, deliveryId: r.deliveryId, messageId: x.messageId, from: x.sender, to: r.recipient, digestAlg: digestAlg(statementSigner.suite), digest: digestHex(statementSigner.suite, Buffer.from(message, 'latin1')), iat: Math.floor(d.now.getTime() / 1000) }
        statement = await signJws(Buffer.from(JSON.stringify(s), 'utf8'), statementSigner, { typ: DELIVERY_TYP })
      }
      out.push({ deliveryId: r.deliveryId, recipient: r.recipient, status: r.status, ...(statement !== undefined ? { statement } : {}) })
    }
    exchanges.push({ exchangeId: x.id, messageId: x.messageId, type: x.type, from: x.sender, receivedAt: x.receivedAt.toISOString(), ...(message !== undefined ? { message } : { purgedAt: (x.purgedAt as Date).toISOString() }), receipt: x.receipt, deliveries: out })
  }
  const entries = (await caseEntries(d.db, { caseId, exchangeIds: exchanges.map((x) => x.exchangeId), deliveryIds: exchanges.flatMap((x) => x.deliveries.map((r) => r.deliveryId)) }))
    .filter((e) => viewer === undefined || e.parties.includes(viewer))
    .filter((e) => (e.leafIndex as number) < checkpoint.treeSize)
  const proved = []
  for (const e of entries) {
    const p = await d.ledger.inclusion(e.leafIndex as number, checkpoint.treeSize)
    proved.push({ leafIndex: e.leafIndex as number, entry: e.entry, proof: p.hashes.map((h) => h.toString('base64')) })
  }
  const payload: EvidencePayload = {
    format: EVIDENCE_FORMAT, caseId, issuedAt: d.now.toISOString(), issuedFor,
    gateway: { id: d.keyring.gatewayId, signingKeys: d.ledger.signingKeys().map((k) => ({ kid: k.kid, publicKey: k.toPem() })), certificates: d.keyring.signingCertificates() },
    ledger: { origin: d.ledger.origin, hashAlg: d.ledger.hash, checkpoint: checkpoint.note, ...(checkpoint.tsaToken !== null ? { tsaToken: checkpoint.tsaToken.toString('base64') } : {}) },
    signers: [...signers.values()], exchanges, entries: proved,
  }
  const signer = d.keyring.signer('national') ?? d.keyring.signer('international')
  if (signer === undefined) throw new Error('the gateway has no signing key')
  return signJws(Buffer.from(canonicalJson(payload), 'utf8'), signer, { typ: EVIDENCE_TYP })
}

export interface EvidenceReport {
  readonly ok: boolean
  readonly fault?: { readonly record: string; readonly message: string }
  readonly notices: string[]
  readonly caseId?: string
  readonly exchanges: number
  readonly entries: number
  /** When the TSA stamped the checkpoint (RFC 3161), if it did. */
  readonly timestamp?: string
}


/** base64url without padding, strictly: every character counts (no ignored trailing bits). */
function strictB64url(s: string, record: string): Buffer {
  if (!isCanonicalBase64url(s)) throw new RecordFault(record, 'not canonical base64url')
  return Buffer.from(s, 'base64url')
}

const tagOf = (suite: Suite, bytes: Uint8Array): string => tagged(suite, digestHex(suite, bytes))
const suiteOfTag = (tag: string | undefined): Suite => (tag?.startsWith('SM3:') ? 'national' : 'international')

/**
 * Verifies an evidence package offline with the gateway's public keys only (given; else those it
 * carries, with a notice): the checkpoint's signature, every entry's inclusion in it, every
 * message, receipt and delivery statement against its entry, and the package's own signature.
 * Stops at the first fault and names it.
 */
export async function verifyEvidence(text: string, options: { gatewayKeys?: readonly PublicKey[]; tsaAnchors?: readonly Certificate[] } = {}): Promise<EvidenceReport> {
  const notices: string[] = []
  let exchangesSeen = 0
  let entriesSeen = 0
  let caseId: string | undefined
  try {
    const compact = text.endsWith('\n') ? text.slice(0, -1) : text
    const parts = compact.split('.')
    if (parts.length !== 3) throw new RecordFault('package', 'not a compact JWS')
    let header: { typ?: unknown; kid?: unknown; alg?: unknown }
    let payload: EvidencePayload
    try {
      header = JSON.parse(strictB64url(parts[0] as string, 'package header').toString('utf8')) as typeof header
      payload = JSON.parse(strictB64url(parts[1] as string, 'package payload').toString('utf8')) as EvidencePayload
    } catch (err) {
      if (err instanceof RecordFault) throw err
      throw new RecordFault('package', 'its header or payload is not JSON')
    }
    strictB64url(parts[2] as string, 'package signature')
    if (header.typ !== EVIDENCE_TYP) throw new RecordFault('package header', `typ is not ${EVIDENCE_TYP}`)
    if (payload.format !== EVIDENCE_FORMAT) throw new RecordFault('package', `format is not ${EVIDENCE_FORMAT}`)
    caseId = payload.caseId

    let carried: PublicKey[]
    try {
      carried = payload.gateway.signingKeys.map((k) => PublicKey.fromPem(k.kid, k.publicKey))
    } catch {
      throw new RecordFault('package', 'its gateway keys are unreadable')
    }
    // The gateway's certificates, each of one of its signing keys.
    for (const [i, pem] of (payload.gateway.certificates ?? []).entries()) {
      let print: string
      try {
        print = PublicKey.fromPem(`certificate ${i + 1}`, pem).fingerprint
      } catch {
        throw new RecordFault(`gateway certificate ${i + 1}`, 'unreadable')
      }
      if (!carried.some((k) => k.fingerprint === print)) throw new RecordFault(`gateway certificate ${i + 1}`, 'not of a gateway signing key')
    }
    let gatewayKeys = options.gatewayKeys
    if (gatewayKeys === undefined || gatewayKeys.length === 0) {
      notices.push('no trusted gateway keys given: checked against the keys inside the package, which proves integrity, not origin')
      gatewayKeys = carried
    }
    const trusted = gatewayKeys
    // A trusted key by its kid, or (a key given as a bare file) the one whose fingerprint the package's key of that kid has.
    const gatewayKey = (kid: unknown): PublicKey | undefined => {
      const byKid = trusted.find((k) => k.kid === kid)
      if (byKid !== undefined) return byKid
      const print = carried.find((k) => k.kid === kid)?.fingerprint
      return print === undefined ? undefined : trusted.find((k) => k.fingerprint === print)
    }

    // The checkpoint, signed by a trusted gateway key.
    const alg = payload.ledger.hashAlg
    if (alg !== 'SM3' && alg !== 'SHA-256') throw new RecordFault('ledger', 'hashAlg is neither SM3 nor SHA-256')
    const vkeys = trusted.filter((k) => k.kind === 'sm2' || k.kind === 'ec-p256').map((k) => noteVerifier(payload.ledger.origin, k))
    let cp
    try {
      cp = parseCheckpointText((await verifyNote(payload.ledger.checkpoint, vkeys)).text)
    } catch (err) {
      throw new RecordFault('checkpoint', (err as Error).message)
    }
    if (cp.origin !== payload.ledger.origin) throw new RecordFault('checkpoint', `of another log (${cp.origin})`)
    let timestamp: Date | undefined
    if (payload.ledger.tsaToken !== undefined) {
      try {
        const token = Buffer.from(payload.ledger.tsaToken, 'base64')
        if (token.toString('base64') !== payload.ledger.tsaToken) throw new Error('not base64')
        timestamp = verifyTimeStampToken(token, Buffer.from(payload.ledger.checkpoint, 'utf8'), options.tsaAnchors).genTime
      } catch (err) {
        throw new RecordFault('checkpoint time stamp', (err as Error).message)
      }
      if (options.tsaAnchors === undefined) notices.push('the time stamp was checked with the TSA certificate it carries: give the TSA\'s CA (--tsa-ca) to check who issued it')
    }

    // Every entry, in the signed tree.
    const byExchange = new Map<string, Record<string, unknown>>()
    const byDelivery = new Map<string, Array<Record<string, unknown>>>()
    for (const e of payload.entries) {
      const record = `entry ${e.leafIndex}`
      let fields: Record<string, unknown>
      try {
        fields = JSON.parse(e.entry) as Record<string, unknown>
      } catch {
        throw new RecordFault(record, 'not JSON')
      }
      if (canonicalJson(fields) !== e.entry) throw new RecordFault(record, 'not in canonical form (RFC 8785)')
      const proof = e.proof.map((h) => Buffer.from(h, 'base64'))
      if (e.proof.some((h, i) => (proof[i] as Buffer).toString('base64') !== h)) throw new RecordFault(record, 'a proof hash is not base64')
      if (!verifyInclusion(alg, e.leafIndex, cp.treeSize, leafHash(alg, Buffer.from(e.entry, 'utf8')), proof, cp.rootHash)) {
        throw new RecordFault(record, `not in the tree of the checkpoint (size ${cp.treeSize}): the entry or its proof was changed`)
      }
      if (fields.kind === 'message.accepted') byExchange.set(String(fields.exchangeId), fields)
      if (fields.kind === 'delivery.settled') byDelivery.set(String(fields.deliveryId), [...(byDelivery.get(String(fields.deliveryId)) ?? []), fields])
      entriesSeen++
    }

    // Every exchange: its message and receipt, as its entry recorded them; its deliveries.
    for (const x of payload.exchanges) {
      const record = `exchange ${x.exchangeId}`
      const entry = byExchange.get(x.exchangeId)
      if (entry === undefined) throw new RecordFault(record, 'no message.accepted entry for it')
      const receipt = parseJws(x.receipt)
      const rk = gatewayKey(receipt.header.kid)
      if (rk === undefined || !(await verifyJws(receipt, rk))) throw new RecordFault(`${record} receipt`, 'not signed by a trusted gateway key')
      const r = JSON.parse(receipt.payload.toString('utf8')) as { exchangeId?: string; messageId?: string }
      if (r.exchangeId !== x.exchangeId || r.messageId !== x.messageId || entry.messageId !== x.messageId || entry.sender !== x.from || entry.type !== x.type) throw new RecordFault(`${record} receipt`, 'for another message than its entry records')
      const suite = suiteOfTag(entry.receiptDigest as string)
      if (tagOf(suite, Buffer.from(x.receipt, 'ascii')) !== entry.receiptDigest) throw new RecordFault(`${record} receipt`, 'not the receipt its entry records')
      const message = x.message
      if (message === undefined) {
        // Purged (retention): exactly one of message and purgedAt, and nothing that needs the bytes.
        if (typeof x.purgedAt !== 'string' || Number.isNaN(Date.parse(x.purgedAt))) throw new RecordFault(`${record} message`, 'absent, and no purgedAt says it was purged')
        if (x.deliveries.some((dl) => dl.statement !== undefined)) throw new RecordFault(`${record} message`, 'purged, yet a delivery statement claims its digest')
        notices.push(`${record}: its message was purged on ${x.purgedAt} (retention); its digest is in its entry, its signature was not checked`)
      } else {
        if (x.purgedAt !== undefined) throw new RecordFault(`${record} message`, 'both present and purged')
        if (tagOf(suite, Buffer.from(message, 'latin1')) !== entry.messageDigest) throw new RecordFault(`${record} message`, 'not the message its entry records')
        const jws = parseJws(message)
        const signer = payload.signers.find((s) => s.kid === jws.header.kid)
        const key = gatewayKey(jws.header.kid) ?? (signer !== undefined ? PublicKey.fromPem(signer.kid, signer.publicKey) : undefined)
        if (key === undefined) notices.push(`${record}: the sender's key ${String(jws.header.kid)} is not in the package; its signature was not checked`)
        else if (!(await verifyJws(jws, key))) throw new RecordFault(`${record} message`, 'the sender\'s signature does not verify')
        const env = JSON.parse(jws.payload.toString('utf8')) as { id?: string; from?: string; type?: string }
        if (env.id !== x.messageId || env.from !== x.from || env.type !== x.type) throw new RecordFault(`${record} message`, 'its envelope is not the exchange\'s')
      }
      for (const dl of x.deliveries) {
        const drec = `delivery ${dl.deliveryId}`
        const settled = byDelivery.get(dl.deliveryId) ?? []
        if (dl.status !== 'pending' && !settled.some((s) => s.outcome === dl.status && s.recipient === dl.recipient && s.exchangeId === x.exchangeId)) throw new RecordFault(drec, `no delivery.settled entry (${dl.status}) for it`)
        if (dl.statement !== undefined) {
          const st = parseJws(dl.statement)
          const sk = gatewayKey(st.header.kid)
          if (st.header.typ !== DELIVERY_TYP || sk === undefined || !(await verifyJws(st, sk))) throw new RecordFault(`${drec} statement`, 'not signed by a trusted gateway key')
          const s = JSON.parse(st.payload.toString('utf8')) as { exchangeId?: string; deliveryId?: string; to?: string; digestAlg?: string; digest?: string }
          const ok = s.exchangeId === x.exchangeId && s.deliveryId === dl.deliveryId && s.to === dl.recipient && (s.digestAlg === 'SM3' || s.digestAlg === 'SHA-256') &&
            s.digest === digestHex(s.digestAlg === 'SM3' ? 'national' : 'international', Buffer.from(message as string, 'latin1'))
          if (!ok) throw new RecordFault(`${drec} statement`, 'for another delivery or other bytes')
        }
      }
      exchangesSeen++
    }

    // Last, the package as a whole (what no check above covers: its times, its order).
    const outer = parseJws(compact)
    const ok = gatewayKey(header.kid)
    if (ok === undefined || !(await verifyJws(outer, ok))) throw new RecordFault('package', 'its signature does not verify with a trusted gateway key')
    return { ok: true, notices, caseId, exchanges: exchangesSeen, entries: entriesSeen, ...(timestamp !== undefined ? { timestamp: timestamp.toISOString() } : {}) }
  } catch (err) {
    if (err instanceof RecordFault) return { ok: false, fault: { record: err.record, message: err.message }, notices, exchanges: exchangesSeen, entries: entriesSeen, ...(caseId !== undefined ? { caseId } : {}) }
    // Anything else malformed inside (a JWS that does not parse, a key that does not read) is a fault too.
    return { ok: false, fault: { record: 'package', message: (err as Error).message }, notices, exchanges: exchangesSeen, entries: entriesSeen, ...(caseId !== undefined ? { caseId } : {}) }
  }
}
