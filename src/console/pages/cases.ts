import { html, type Html } from '../html.ts'
import { badge, csrfField, cst, layout, span, type PageContext } from '../layout.ts'

/** The case as GET /v1/cases/:caseId describes it (docs/protocol.md), as far as the console shows it. */
export interface CaseDoc {
  readonly caseId: string
  readonly unitCode: string
  readonly openedBy: string
  readonly createdAt: string
  readonly participants: readonly string[]
  readonly steps: ReadonlyArray<{ stepId: string; kind: string; status: string; requester: string; responder: string; openedAt: string; closedAt: string | null; dueAt: string | null; overdue: boolean }>
  readonly timeline: ReadonlyArray<{ at: string; event: string; actor: string | null; exchangeId?: string | null; deliveryId?: string | null; [k: string]: unknown }>
}

export function caseSearchPage(c: PageContext, q: string, found: ReadonlyArray<{ caseId: string; createdAt: Date }> | undefined): Html {
  return layout(c, c.t('cases'), html`${searchForm(c, q)}
${found === undefined ? '' : found.length === 0 ? html`<p class="notice" id="no-match">${c.t('noMatch')}</p>` : html`<table id="found"><thead><tr><th>${c.t('caseId')}</th><th>${c.t('openedAt')}</th></tr></thead><tbody>
${found.map((f) => html`<tr><td><a href="/cases/${f.caseId}">${f.caseId}</a></td><td>${cst(f.createdAt)}</td></tr>`)}</tbody></table>`}`)
}

function searchForm(c: PageContext, q: string): Html {
  return html`<form class="search" method="get" action="/cases"><input type="search" name="q" id="q" value="${q}" placeholder="${c.t('searchHint')}" aria-label="${c.t('searchHint')}"><button type="submit" id="search">${c.t('search')}</button></form>`
}

/**
 * One case: the steps as a flow from the application to the last step, each with who holds it
 * and its deadline in working days, then the timeline. Personal data masked unless `unmasked`.
 */
export function casePage(c: PageContext, doc: CaseDoc, o: {
  now: Date; unmasked: boolean; mayUnmask: boolean; mayAct: boolean
  workingDaysLeft: (dueAt: Date) => number; mask: (unit: string) => string; scrub: (text: string) => string
}): Html {
  const show = (text: string): string => (o.unmasked ? text : o.scrub(text))
  const nodes: Html[] = [html`<div class="node completed" data-kind="application"><div class="k">${c.t('flowStart')}</div><div class="s">${doc.openedBy}</div><div class="s">${cst(new Date(doc.createdAt))}</div></div>`]
  for (const s of doc.steps) {
    const due = s.dueAt === null ? undefined : new Date(s.dueAt)
    const late = s.status === 'open' && s.overdue
    let when: Html | string = ''
    if (s.status === 'open' && due !== undefined) {
      const left = due.getTime() - o.now.getTime()
      when = html`<div class="s ${late ? 'overdue' : left < 86_400_000 ? 'soon' : ''}">${c.t('dueAt')} ${cst(due)} · ${late ? `${c.t('overdueBy')} ${span(c, left)}` : `${c.t('workingDaysLeft')} ${o.workingDaysLeft(due)}`}</div>`
    } else if (s.closedAt !== null) when = html`<div class="s">${cst(new Date(s.closedAt))}</div>`
    nodes.push(html`<div class="arrow">→</div><div class="node ${late ? 'late' : s.status}" data-kind="${s.kind}" data-status="${s.status}">
<div class="k">${c.tf('stepKind', s.kind)} ${badge(c, s.status)}</div>
<div class="s">${c.t('requester')}: ${s.requester}</div><div class="s">${c.t('holder')}: <b>${s.responder}</b></div>${when}
${o.mayAct && s.status === 'open' ? html`<form method="post" action="/cases/${doc.caseId}/steps/${s.stepId}/close" class="close-step">${csrfField(c)}<input type="text" name="reason" placeholder="${c.t('reason')}" required maxlength="500"><button type="submit" class="danger">${c.t('closeStep')}</button></form>` : ''}
</div>`)
  }
  // The register entry ends a transfer: shown as the last node once the centre has sent it.
  const registered = doc.timeline.find((e) => e.event === 'message.accepted' && e.type === 'registration.completed')
  if (registered !== undefined) {
    nodes.push(html`<div class="arrow">→</div><div class="node completed" data-kind="registered" data-status="completed"><div class="k">${c.t('stepKind_registration')} ${badge(c, 'completed')}</div><div class="s">${registered.actor ?? ''}</div><div class="s">${cst(new Date(registered.at))}</div></div>`)
  }
  const rows = doc.timeline.map((e) => {
    const { at, event, actor, exchangeId, deliveryId, ...rest } = e
    void exchangeId
    void deliveryId
    const detail = Object.entries(rest).map(([k, v]) => `${k}: ${typeof v === 'string' ? show(v) : JSON.stringify(v)}`).join(' · ')
    return html`<tr><td>${cst(new Date(at))}</td><td class="mono">${event}</td><td>${actor ?? '—'}</td><td>${detail}</td></tr>`
  })
  return layout(c, `${c.t('cases')} ${doc.caseId}`, html`${searchForm(c, '')}
<section class="card">
<p>${c.t('caseId')}: <b id="case-id">${doc.caseId}</b> · ${c.t('unitCode')}: <span class="mono" id="unit-code">${o.unmasked ? doc.unitCode : o.mask(doc.unitCode)}</span>
· ${c.t('participantsLabel')}: ${doc.participants.join(', ')}</p>
${o.unmasked ? html`<p class="notice" id="unmasked">${c.t('unmasked')}</p>` : html`<p class="muted">${c.t('masked')}${o.mayUnmask ? html` · <a href="/cases/${doc.caseId}?unmask=1" id="unmask">${c.t('unmask')}</a>` : ''}</p>`}
<h2>${c.t('progressMap')}</h2>
<div class="flow" id="progress-map">${nodes}</div>
</section>
<section class="card"><h2>${c.t('timeline')}</h2>
<table id="timeline"><thead><tr><th>${c.t('time')}</th><th>${c.t('event')}</th><th>${c.t('actor')}</th><th>${c.t('detail')}</th></tr></thead><tbody>${rows}</tbody></table></section>`)
}
