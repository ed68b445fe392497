import { html, raw, type Html } from '../html.ts'
import { cst, layout, span, type PageContext } from '../layout.ts'
import type { Overview } from '../../core/operations.ts'

const W = 720
const H = 200
const PAD = { l: 36, r: 10, t: 10, b: 24 }

/** A line chart of the three per-minute series, drawn on the server as SVG (no script). */
function chart(c: PageContext, o: Overview): Html {
  const max = Math.max(1, ...o.accepted, ...o.delivered, ...o.refused)
  const x = (i: number): number => PAD.l + (i * (W - PAD.l - PAD.r)) / Math.max(1, o.minutes.length - 1)
  const y = (v: number): number => PAD.t + (H - PAD.t - PAD.b) * (1 - v / max)
  const line = (values: readonly number[], color: string, id: string): string =>
    `<polyline id="${id}" fill="none" stroke="${color}" stroke-width="2" points="${values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`
  const ticks = [0, Math.round(max / 2), max].map((v) => `<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text><line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e4e7eb"/>`).join('')
  const labels = [0, 15, 30, 45, 59].map((i) => `<text x="${x(i)}" y="${H - 6}" text-anchor="middle">${i === 59 ? c.t('now') : `-${59 - i}`}</text>`).join('')
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${c.t('perMinute')}">${raw(ticks + labels + line(o.accepted, '#0b69a3', 'accepted') + line(o.delivered, '#2e7d32', 'delivered') + line(o.refused, '#c62828', 'refused'))}</svg>
<div class="legend"><span class="a">━ ${c.t('accepted')} (${sum(o.accepted)})</span><span class="d">━ ${c.t('delivered')} (${sum(o.delivered)})</span><span class="r">━ ${c.t('refused')} (${sum(o.refused)})</span> <span class="muted">(${c.t('minutesAgo')})</span></div>`
}

const sum = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0)

export function overviewPage(c: PageContext, o: Overview, unitMask: (u: string) => string): Html {
  const warn = o.warnings.map((s) => {
    const late = s.msLeft < 0
    const cls = late ? 'overdue' : s.msLeft < 86_400_000 ? 'soon' : ''
    return html`<tr class="${cls}"><td><a href="/cases/${s.caseId}">${s.caseId}</a></td><td class="mono">${unitMask(s.unitCode)}</td><td>${c.tf('stepKind', s.kind)}</td><td>${s.responder}</td>
<td>${cst(s.dueAt)}</td><td class="${cls}">${late ? `${c.t('overdueBy')} ${span(c, s.msLeft)}` : span(c, s.msLeft)}</td><td>${s.workingDaysLeft}</td></tr>`
  })
  return layout(c, c.t('overview'), html`
<div class="tiles">
<div class="tile"><div class="muted">${c.t('accepted')} (60 min)</div><div class="n" id="n-accepted">${sum(o.accepted)}</div></div>
<div class="tile"><div class="muted">${c.t('pending')}</div><div class="n" id="n-pending">${o.pending}</div></div>
<div class="tile${o.dead > 0 ? ' bad' : ''}"><div class="muted">${c.t('dead')}</div><div class="n" id="n-dead"><a href="/dead">${o.dead}</a></div></div>
<div class="tile${o.openCircuits.length > 0 ? ' bad' : ''}"><div class="muted">${c.t('openCircuits')}</div><div class="n" id="n-circuits">${o.openCircuits.length}</div>
${o.openCircuits.map((b) => html`<div class="mono">${b.partner}: ${c.tf('circuit', b.state)}</div>`)}</div>
</div>
<section class="card"><h2>${c.t('perMinute')}</h2>${chart(c, o)}</section>
<section class="card"><h2>${c.t('warnings')}</h2>
${o.warnings.length === 0 ? html`<p class="muted">${c.t('none')}</p>` : html`<table id="warnings"><thead><tr><th>${c.t('caseId')}</th><th>${c.t('unitCode')}</th><th>${c.t('step')}</th><th>${c.t('holder')}</th><th>${c.t('dueAt')}</th><th>${c.t('timeLeft')}</th><th>${c.t('workingDaysLeft')}</th></tr></thead><tbody>${warn}</tbody></table>`}
</section>`)
}
