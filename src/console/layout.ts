import { html, type Html } from './html.ts'
import { word, wordFor, type Lang, type WordKey } from './i18n.ts'
import { may, type ConsoleOperator, type Right } from '../core/operators.ts'

/** What every page knows about its request. */
export interface PageContext {
  readonly lang: Lang
  readonly operator: ConsoleOperator | undefined
  /** The CSRF token for the page's forms. */
  readonly csrf: string
  /** The path asked for (the language switch comes back to it). */
  readonly path: string
  readonly t: (key: WordKey) => string
  readonly tf: (prefix: string, value: string) => string
}

export function pageContext(lang: Lang, operator: ConsoleOperator | undefined, csrf: string, path: string): PageContext {
  return { lang, operator, csrf, path, t: (k) => word(lang, k), tf: (p, v) => wordFor(lang, p, v) }
}

const NAV: ReadonlyArray<{ href: string; key: WordKey; right: Right }> = [
  { href: '/overview', key: 'overview', right: 'view' },
  { href: '/cases', key: 'cases', right: 'view' },
  { href: '/dead', key: 'deadLetters', right: 'view' },
  { href: '/partners', key: 'partners', right: 'view' },
  { href: '/queries', key: 'queryRecord', right: 'audit' },
  { href: '/ledger', key: 'ledger', right: 'audit' },
  { href: '/api', key: 'apiReference', right: 'view' },
]

/** A hidden CSRF field for a form. */
export function csrfField(c: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${c.csrf}">`
}

/** The page frame: navigation for what the operator's role may see, the language switch, log-out. */
export function layout(c: PageContext, title: string, body: Html): Html {
  const op = c.operator
  const other: Lang = c.lang === 'zh' ? 'en' : 'zh'
  const nav = op === undefined ? [] : NAV.filter((n) => may(op.role, n.right)).map((n) => html`<a href="${n.href}"${c.path.startsWith(n.href) ? html` class="here"` : ''}>${c.t(n.key)}</a>`)
  return html`<!doctype html>
<html lang="${c.lang === 'zh' ? 'zh-CN' : 'en'}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${c.t('appName')}</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body>
<header><span class="brand">${c.t('appName')}</span><nav>${nav}</nav>
<a href="/lang?to=${other}&amp;back=${encodeURIComponent(c.path)}" id="lang">${c.t('switchLang')}</a>
${op === undefined ? '' : html`<span class="who">${c.t('signedInAs')}: ${op.displayName} (${c.tf('role', op.role)})</span>
<form method="post" action="/logout">${csrfField(c)}<button type="submit" id="logout">${c.t('logout')}</button></form>`}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`
}

/** China Standard Time, as operators read it: 2026-12-06 11:22. */
export function cst(at: Date | null | undefined): string {
  if (at === null || at === undefined) return '—'
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')
}

/** A duration in words: 2天3小时 / 2 d 3 h. */
export function span(c: PageContext, ms: number): string {
  const m = Math.max(0, Math.round(Math.abs(ms) / 60_000))
  const d = Math.floor(m / 1440)
  const h = Math.floor((m % 1440) / 60)
  const min = m % 60
  if (c.lang === 'zh') return d > 0 ? `${d}天${h}小时` : h > 0 ? `${h}小时${min}分钟` : `${min}分钟`
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${min} min` : `${min} min`
}

export function badge(c: PageContext, status: string): Html {
  return html`<span class="badge ${status}">${c.tf('st', status)}</span>`
}
