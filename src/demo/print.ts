/** A case as GET /v1/cases/:caseId returns it (the fields the demo prints). */
export interface CaseDoc {
  readonly caseId: string
  readonly unitCode: string
  readonly participants: readonly string[]
  readonly linkedCase?: { readonly caseId: string; readonly relation: string; readonly openedBy: string | null } | null
  readonly steps: ReadonlyArray<{ kind: string; status: string; requester: string; responder: string; openedAt: string; closedAt: string | null; dueAt: string | null; overdue: boolean }>
  readonly timeline: ReadonlyArray<{ at: string; event: string; actor: string | null; [k: string]: unknown }>
}

/** GB/T 37346 display form: `231202 003004 GB00012 F00010001`. */
export function displayUnitCode(u: string): string {
  return `${u.slice(0, 6)} ${u.slice(6, 12)} ${u.slice(12, 19)} ${u.slice(19)}`
}

function cst(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19) + ' CST'
}

/** A deadline falls at 24:00 China time: show it as the end of that working day. */
function due(iso: string): string {
  const t = Date.parse(iso)
  const local = new Date(t + 8 * 3_600_000).toISOString()
  return local.slice(11, 19) === '00:00:00' ? `end of ${new Date(t + 8 * 3_600_000 - 1).toISOString().slice(0, 10)} (CST)` : cst(iso)
}

function describe(e: CaseDoc['timeline'][number]): string {
  switch (e.event) {
    case 'message.accepted': return `${String(e.type)} → ${(e.recipients as string[] | undefined)?.join(', ') ?? ''}`
    case 'step.opened': return `step "${String(e.kind)}" waits for ${String(e.responder)}`
    case 'step.closed': return `step "${String(e.kind)}" ${String(e.outcome)}`
    case 'step.overdue': return `step "${String(e.kind)}" overdue (due ${String(e.dueAt)}), waiting for ${String(e.waitingFor)}`
    case 'delivery.delivered': return `to ${String(e.recipient)} (attempt ${String(e.attempt)}, ${String(e.ms)} ms)`
    case 'delivery.failed': return `to ${String(e.recipient)} failed (attempt ${String(e.attempt)}: ${String(e.reason)}), will retry`
    case 'delivery.dead': return `to ${String(e.recipient)} dead (${String(e.reason)})`
    case 'delivery.waiting': return `to ${String(e.recipient)} waiting: partner unavailable (next probe ${String(e.probeAt)})`
    case 'delivery.replayed': return `to ${String(e.recipient)} replayed by an operator`
    case 'contract.linked': return `filed contract ${String(e.contractNumber)} of ${String(e.housing)} linked to the case`
    case 'case.linked': return `linked to ${String(e.relation)} case ${String(e.linkedCase)}`
    case 'utility.opted-in': return `the applicants opted in to the ${(e.services as string[]).join(' and ')} transfers (水电气热同步过户)`
    default: return ''
  }
}

/** The case's steps and timeline, with each event's time since the first. */
export function formatCase(c: CaseDoc): string {
  const linked = c.linkedCase ? ` — linked: ${c.linkedCase.relation} case ${c.linkedCase.caseId} (${c.linkedCase.openedBy ?? '?'})` : ''
  const lines = [`case ${c.caseId} — unit ${displayUnitCode(c.unitCode)} — participants ${c.participants.join(', ')}${linked}`]
  for (const s of c.steps) {
    const took = s.closedAt ? ` after ${Date.parse(s.closedAt) - Date.parse(s.openedAt)} ms` : ''
    const waiting = s.status === 'open' ? `; waiting for ${s.responder}` : ''
    lines.push(`  step ${s.kind.padEnd(16)} ${s.status.padEnd(9)} ${s.requester} → ${s.responder}${took}${waiting}; due ${s.dueAt ? due(s.dueAt) : '—'}${s.overdue ? ' OVERDUE' : ''}`)
  }
  const t0 = Date.parse(c.timeline[0]?.at ?? new Date().toISOString())
  for (const e of c.timeline) {
    lines.push(`  ${`+${Date.parse(e.at) - t0} ms`.padStart(10)}  ${e.event.padEnd(20)} ${(e.actor ?? 'gateway').padEnd(34)} ${describe(e)}`)
  }
  return lines.join('\n')
}
