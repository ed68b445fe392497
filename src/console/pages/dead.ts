import { html, type Html } from '../html.ts'
import { badge, csrfField, cst, layout, type PageContext } from '../layout.ts'
import type { DeadLetter } from '../../core/operations.ts'

export function deadLettersPage(c: PageContext, rows: readonly DeadLetter[], mayAct: boolean): Html {
  return layout(c, c.t('deadLetters'), rows.length === 0 ? html`<p class="notice good" id="no-dead">${c.t('noDeadLetters')}</p>` : html`
<table id="dead-letters"><thead><tr><th>${c.t('deadAt')}</th><th>${c.t('type')}</th><th>${c.t('sender')}</th><th>${c.t('recipient')}</th><th>${c.t('caseId')}</th><th>${c.t('attempts')}</th><th>${c.t('lastError')}</th><th></th></tr></thead><tbody>
${rows.map((d) => html`<tr data-delivery="${d.deliveryId}"><td>${cst(d.deadAt)}</td><td class="mono">${d.type}</td><td>${d.sender}</td><td>${d.recipient}</td>
<td>${d.caseId === null ? '—' : html`<a href="/cases/${d.caseId}">${d.caseId}</a>`}</td><td>${d.attempts}</td><td class="mono">${d.lastError ?? '—'}</td>
<td>${mayAct ? html`<a class="button replay" href="/dead/${d.deliveryId}">${c.t('replay')}</a>` : ''}</td></tr>`)}
</tbody></table>`)
}

/** The confirmation step of a replay: what will be sent again, and to whom. */
export function replayConfirmPage(c: PageContext, d: DeadLetter): Html {
  return layout(c, c.t('replay'), html`<section class="card">
<p class="notice">${c.t('replayConfirm')}</p>
${details(c, d)}
<form method="post" action="/dead/${d.deliveryId}/replay" class="actions">${csrfField(c)}<button type="submit" id="confirm-replay">${c.t('confirm')}</button><a class="button secondary" href="/dead">${c.t('cancel')}</a></form>
</section>`)
}

/** One delivery's state (after a replay: the outcome, as it comes). */
export function deliveryPage(c: PageContext, d: DeadLetter, replayed: boolean): Html {
  return layout(c, c.t('deliveryStatus'), html`<section class="card">
${replayed ? html`<p class="notice good" id="replayed">${c.t('replayed')}</p>` : ''}
${details(c, d)}
<p><a class="button secondary" href="/deliveries/${d.deliveryId}" id="refresh">${c.t('refresh')}</a></p></section>`)
}

function details(c: PageContext, d: DeadLetter): Html {
  return html`<table class="details"><tbody>
<tr><th>${c.t('status')}</th><td id="delivery-status" data-status="${d.status}">${badge(c, d.status)}</td></tr>
<tr><th>${c.t('type')}</th><td class="mono">${d.type}</td></tr>
<tr><th>${c.t('sender')}</th><td>${d.sender}</td></tr><tr><th>${c.t('recipient')}</th><td>${d.recipient}</td></tr>
<tr><th>${c.t('caseId')}</th><td>${d.caseId ?? '—'}</td></tr><tr><th>${c.t('attempts')}</th><td>${d.attempts}</td></tr>
<tr><th>${c.t('lastError')}</th><td class="mono">${d.lastError ?? '—'}</td></tr>
<tr><th>${c.t('delivered')}</th><td>${cst(d.deliveredAt)}</td></tr></tbody></table>`
}
