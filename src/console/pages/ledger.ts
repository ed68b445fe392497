import { html, type Html } from '../html.ts'
import { csrfField, cst, layout, type PageContext } from '../layout.ts'
import type { StoredCheckpoint } from '../../store/ledger.ts'
import type { LedgerReport } from '../../ledger/verify.ts'

/** The ledger (auditors): the latest checkpoints, and a button that verifies the whole ledger as exported. */
export function ledgerPage(c: PageContext, o: { enabled: boolean; checkpoints: readonly StoredCheckpoint[]; origin: string; report?: LedgerReport }): Html {
  if (!o.enabled) return layout(c, c.t('ledger'), html`<p class="notice">${c.t('ledgerOff')}</p>`)
  const r = o.report
  return layout(c, c.t('ledger'), html`
${r === undefined ? '' : r.ok
    ? html`<p class="notice good" id="verify-result" data-ok="true">${c.t('verifyOk')}: ${c.t('treeSize')} ${r.treeSize}, ${c.t('checkpoints')} ${r.checkpoints}${r.rootHash === undefined ? '' : html`, ${c.t('rootHash')} <span class="mono">${r.rootHash}</span>`}</p>`
    : html`<p class="notice error" id="verify-result" data-ok="false">${c.t('verifyFailed')}: <span class="mono">${r.fault?.record ?? ''}</span> ${r.fault?.message ?? ''}</p>`}
<section class="card"><p class="muted mono">${o.origin}</p>
<form method="post" action="/ledger/verify">${csrfField(c)}<button type="submit" id="verify">${c.t('verify')}</button></form>
<h2>${c.t('checkpoints')}</h2>
<table id="checkpoints"><thead><tr><th>${c.t('treeSize')}</th><th>${c.t('rootHash')}</th><th>${c.t('signedAt')}</th><th>${c.t('timeStamp')}</th></tr></thead><tbody>
${o.checkpoints.map((k) => html`<tr><td>${k.treeSize}</td><td class="mono">${k.rootHash.toString('base64')}</td><td>${cst(k.signedAt)}</td><td>${k.tsaToken === null ? '—' : '✓'}</td></tr>`)}
</tbody></table></section>`)
}
