import { html, type Html } from '../html.ts'
import { cst, layout, type PageContext } from '../layout.ts'

export interface QueryRow {
  readonly id: string; readonly asker: string; readonly responder: string; readonly type: string
  readonly unitCode: string | null; readonly certificateNo: string | null; readonly purpose: string | null; readonly applicationNo: string | null
  readonly askedAt: Date; readonly outcome: string; readonly errorCode: string | null
}

/** The record of queries (auditors): who asked what about which unit, and why. */
export function queriesPage(c: PageContext, rows: readonly QueryRow[], o: { unmasked: boolean; mask: (s: string) => string }): Html {
  const show = (s: string | null): string => (s === null ? '—' : o.unmasked ? s : o.mask(s))
  return layout(c, c.t('queryRecord'), html`
${o.unmasked ? html`<p class="notice" id="unmasked">${c.t('unmasked')}</p>` : html`<p class="muted">${c.t('masked')} · <a href="/queries?unmask=1" id="unmask">${c.t('unmask')}</a></p>`}
<table id="queries"><thead><tr><th>${c.t('time')}</th><th>${c.t('asker')}</th><th>${c.t('responder')}</th><th>${c.t('type')}</th><th>${c.t('unitCode')}</th><th>${c.t('certificateNo')}</th><th>${c.t('purpose')}</th><th>${c.t('outcome')}</th></tr></thead><tbody>
${rows.map((q) => html`<tr><td>${cst(q.askedAt)}</td><td>${q.asker}</td><td>${q.responder}</td><td class="mono">${q.type}</td><td class="mono">${show(q.unitCode)}</td><td class="mono">${show(q.certificateNo)}</td>
<td>${q.purpose ?? '—'}${q.applicationNo === null ? '' : html` <span class="mono">(${show(q.applicationNo)})</span>`}</td><td>${q.outcome}${q.errorCode === null ? '' : html` <span class="mono">${q.errorCode}</span>`}</td></tr>`)}
</tbody></table>`)
}
