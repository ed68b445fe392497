import { TongbanError } from '../errors.ts'
import type { Db } from '../store/db.ts'
import { getCase, isParticipant, listEvents, listParticipants, listPendingParticipants, listSteps } from '../store/cases.ts'
import { listCaseDeliveries, listForExchange } from '../store/deliveries.ts'
import { getExchange } from '../store/exchanges.ts'
import type { KeyOwner } from './directory.ts'

/** Who asks: a participant sees only what it takes part in; an operator sees everything. */
function idOf(viewer: KeyOwner): string | undefined {
  return viewer.kind === 'participant' ? viewer.participant.id : undefined
}

/**
 * A utility company takes part in a case only through its transfer notice: it sees the exchanges
 * it sent or received, never the case (its timeline names the tax bureau, the banks, the court).
 */
export function seesOnlyItsOwn(viewer: KeyOwner): boolean {
  return viewer.kind === 'participant' && viewer.participant.role === 'UTILITY'
}

// Not found and not allowed look the same, so a caller cannot probe for other agencies' cases.
const notFound = (what: string): TongbanError => new TongbanError('TB_ERR_NOT_FOUND', `no ${what} visible to you`)

/** Status of one exchange and its deliveries. */
export async function exchangeView(db: Db, exchangeId: string, viewer: KeyOwner, now: Date): Promise<object> {
  const e = await getExchange(db, exchangeId)
  if (e === undefined) throw notFound('such exchange')
  const deliveries = await listForExchange(db, exchangeId)
  const me = idOf(viewer)
  if (me !== undefined) {
    const direct = e.sender === me || deliveries.some((d) => d.recipient === me)
    if (!direct && (seesOnlyItsOwn(viewer) || !(e.caseId !== null && (await isParticipant(db, e.caseId, me))))) throw notFound('such exchange')
  }
  return {
    exchangeId: e.id,
    messageId: e.messageId,
    type: e.type,
    v: e.v,
    from: e.sender,
    caseId: e.caseId,
    unitCode: e.unitCode,
    suite: e.suite,
    receivedAt: e.receivedAt.toISOString(),
    status: deliveries.every((d) => d.status === 'delivered') ? 'delivered' : deliveries.some((d) => d.status === 'dead') ? 'dead' : 'pending',
    deliveries: deliveries.map((d) => ({
      deliveryId: d.id,
      recipient: d.recipient,
      status: d.status,
      attempts: d.attempts,
      lastError: d.lastError,
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
      deadAt: d.deadAt?.toISOString() ?? null,
    })),
    asOf: now.toISOString(),
  }
}

/** A case: its steps (with deadlines), participants and timeline. */
export async function caseView(db: Db, caseId: string, viewer: KeyOwner, now: Date): Promise<object> {
  const c = await getCase(db, caseId)
  const me = idOf(viewer)
  // Linked cases (异地申请) read as one: the owner of either case may read the other.
  const linkedId = c?.homeCase ?? c?.forwardedFrom ?? null
  const linked = linkedId === null ? undefined : await getCase(db, linkedId)
  if (c === undefined || (me !== undefined && (seesOnlyItsOwn(viewer) || (!(await isParticipant(db, caseId, me)) && linked?.openedBy !== me)))) throw notFound('such case')
  const [steps, events, participants, pending, rows] = await Promise.all([
    listSteps(db, caseId), listEvents(db, caseId), listParticipants(db, caseId), listPendingParticipants(db, caseId), listCaseDeliveries(db, caseId),
  ])
  const exchanges = new Map<string, { exchangeId: string; messageId: string; type: string; from: string; receivedAt: string; deliveries: object[] }>()
  for (const r of rows) {
    let e = exchanges.get(r.exchangeId)
    if (e === undefined) {
      e = { exchangeId: r.exchangeId, messageId: r.messageId, type: r.type, from: r.sender, receivedAt: r.receivedAt.toISOString(), deliveries: [] }
      exchanges.set(r.exchangeId, e)
    }
    if (r.deliveryId !== null) {
      e.deliveries.push({ deliveryId: r.deliveryId, recipient: r.recipient, status: r.status, attempts: r.attempts, lastError: r.lastError, deliveredAt: r.deliveredAt?.toISOString() ?? null })
    }
  }
  return {
    caseId: c.caseId,
    unitCode: c.unitCode,
    openedBy: c.openedBy,
    createdAt: c.createdAt.toISOString(),
    participants,
    /** The case linked with this one (异地申请): the home centre's case (`home`) or the forwarding centre's (`forwarded`). */
    linkedCase: linkedId === null ? null : { caseId: linkedId, relation: c.homeCase !== null ? 'home' : 'forwarded', openedBy: linked?.openedBy ?? null },
    /** Applicants on the case not yet answered: they see their own exchanges, not the case. */
    pendingParticipants: pending,
    steps: steps.map((s) => ({
      stepId: s.id,
      kind: s.kind,
      status: s.status,
      requester: s.requester,
      responder: s.responder,
      openedAt: s.openedAt.toISOString(),
      closedAt: s.closedAt?.toISOString() ?? null,
      dueAt: s.dueAt?.toISOString() ?? null,
      overdue: s.overdueAt !== null || (s.status === 'open' && s.dueAt !== null && s.dueAt < now),
      waitingFor: s.status === 'open' ? s.responder : null,
    })),
    exchanges: [...exchanges.values()],
    timeline: events.map((ev) => ({
      at: ev.at.toISOString(),
      event: ev.event,
      actor: ev.actor,
      exchangeId: ev.exchangeId,
      deliveryId: ev.deliveryId,
      ...ev.detail,
    })),
    asOf: now.toISOString(),
  }
}
