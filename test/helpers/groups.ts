import { randomUUID } from 'node:crypto'
import type { AcceptDoc } from '../../src/store/accept.ts'
import type { LedgerRecord } from '../../src/store/ledger.ts'
import type { Db } from '../../src/store/db.ts'

export const SENDER = 'REG:231202'
export const UNIT = '231202001001GB00001F00010001'

/** Acceptances as the core writes them (store/accept.ts), for the store's own tests: each call a new message received at `now`. */
export function acceptDocs(now: Date): {
  doc: (over?: { messageId?: string; caseId?: string; mayCreate?: boolean; attachments?: string[]; sender?: string }) => AcceptDoc
  entry: (d: AcceptDoc) => LedgerRecord
} {
  let n = 0
  const doc = (over: { messageId?: string; caseId?: string; mayCreate?: boolean; attachments?: string[]; sender?: string } = {}): AcceptDoc => {
    n++
    const caseId = over.caseId
    return {
      exchange: {
        id: randomUUID(), sender: over.sender ?? SENDER, messageId: over.messageId ?? `m-${n}`, type: 'tax.assessment.request', v: 1,
        caseId: caseId ?? null, unitCode: caseId === undefined ? null : UNIT, suite: 'national', requestDigest: `d-${n}`,
        messageSealed: Buffer.from(`sealed ${n}`).toString('base64'), receipt: `receipt ${n}`, receivedAt: now.toISOString(),
      },
      deliveries: [{ id: randomUUID(), recipient: 'TAX:231202' }],
      attachments: over.attachments ?? [],
      ...(caseId === undefined ? {} : {
        case: {
          caseId, unitCode: UNIT, mayCreate: over.mayCreate ?? true, involvesRecipients: true, mayJoin: false,
          recipients: ['TAX:231202'], events: [{ event: 'message.accepted', actor: SENDER, detail: { n } }],
        },
      }),
    }
  }
  const entry = (d: AcceptDoc): LedgerRecord => ({
    id: randomUUID(), kind: 'message.accepted', entry: JSON.stringify({ exchangeId: d.exchange.id, note: '税 ✓' }),
    parties: [d.exchange.sender, 'TAX:231202'], at: new Date(now.getTime() + 1), caseId: d.case?.caseId ?? null,
  })
  return { doc, entry }
}

/** The pool's statements, counted by their text (the pool is real, and PostgreSQL runs each; only the calls are counted). */
export function counting(pool: Db): { calls: string[]; restore: () => void } {
  const calls: string[] = []
  const query = pool.query.bind(pool)
  const spy = ((q: unknown, ...rest: unknown[]) => {
    calls.push(typeof q === 'string' ? q : String((q as { text?: string }).text))
    return (query as (...a: unknown[]) => unknown)(q, ...rest)
  }) as typeof pool.query
  pool.query = spy
  return { calls, restore: () => { pool.query = query } }
}

/** A transaction of its own, holding the row locks `sql` takes, until `letGo` (at the latest, the test's end). */
export async function holding(db: Db, t: { teardown: (fn: () => unknown) => void }, sql: string, params: unknown[]): Promise<{ lock: (sql: string, params: unknown[]) => Promise<unknown>; letGo: () => Promise<void> }> {
  const holder = await db.connect()
  let held = true
  const letGo = async (): Promise<void> => {
    if (!held) return
    held = false
    await holder.query('COMMIT')
    holder.release()
  }
  t.teardown(letGo)
  await holder.query('BEGIN')
  await holder.query(sql, params)
  return { lock: (s, p) => holder.query(s, p), letGo }
}
