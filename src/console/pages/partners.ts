import { html, type Html } from '../html.ts'
import { badge, cst, layout, type PageContext } from '../layout.ts'
import type { PartnerStatus } from '../../core/operations.ts'

export function partnersPage(c: PageContext, rows: readonly PartnerStatus[], now: Date): Html {
  return layout(c, c.t('partners'), html`<table id="partners"><thead><tr><th>${c.t('participant')}</th><th>${c.t('name')}</th><th>${c.t('role')}</th><th>${c.t('keysExpire')}</th><th>${c.t('circuit')}</th><th>${c.t('lastDelivery')}</th></tr></thead><tbody>
${rows.map((r) => {
    const exp = r.keysExpire
    const cls = exp === undefined ? '' : exp < now ? 'overdue' : exp.getTime() - now.getTime() < 30 * 86_400_000 ? 'soon' : ''
    return html`<tr data-partner="${r.participant.id}"><td class="mono">${r.participant.id}</td><td>${r.participant.name}</td><td>${r.participant.role}</td>
<td class="${cls}">${exp === undefined ? c.t('noExpiry') : cst(exp)}${cls === 'overdue' ? ` (${c.t('expired')})` : cls === 'soon' ? ` (${c.t('expiresSoon')})` : ''}</td>
<td class="${r.circuit === 'closed' ? 'ok' : 'overdue'}">${c.tf('circuit', r.circuit)}</td>
<td>${r.last === undefined ? '—' : html`${badge(c, r.last.status)} ${cst(r.last.at)} <span class="mono">${r.last.lastError ?? ''}</span>`}</td></tr>`
  })}</tbody></table>`)
}
