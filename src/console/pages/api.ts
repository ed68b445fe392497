import { html, type Html } from '../html.ts'
import { layout, type PageContext } from '../layout.ts'

interface Operation { summary?: string; security?: unknown[]; parameters?: Array<{ name: string; in: string; required?: boolean }>; responses?: Record<string, { description?: string }> }

/**
 * The API reference for operators and integrators, rendered on the server from the gateway's own
 * OpenAPI document (the same as GET /v1/openapi.json on the partners' listener, also served here
 * as /api/openapi.json): every operation, its parameters and its answers with their error codes.
 */
export function apiPage(c: PageContext, doc: { info?: { title?: string; version?: string }; paths?: Record<string, Record<string, Operation>> }): Html {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })))
  return layout(c, c.t('apiReference'), html`<p>${doc.info?.title ?? ''} ${doc.info?.version ?? ''} · <a href="/api/openapi.json" id="openapi-json">openapi.json</a> · docs/protocol.md, docs/errors.md</p>
<table id="operations"><thead><tr><th>${c.t('operations')}</th><th>${c.t('detail')}</th><th>${c.t('status')}</th></tr></thead><tbody>
${ops.map(({ path, method, op }) => html`<tr><td class="mono"><b>${method.toUpperCase()}</b> ${path}${op.security !== undefined && op.security.length === 0 ? html` <span class="muted">(public)</span>` : ''}</td>
<td>${op.summary ?? ''}${(op.parameters ?? []).length === 0 ? '' : html`<div class="muted mono">${(op.parameters ?? []).map((p) => `${p.in}:${p.name}${p.required ? '*' : ''}`).join(' ')}</div>`}</td>
<td class="mono">${Object.entries(op.responses ?? {}).map(([code, r]) => html`<div>${code} ${r.description ?? ''}</div>`)}</td></tr>`)}
</tbody></table>`)
}
