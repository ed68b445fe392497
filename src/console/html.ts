/**
 * Server-rendered HTML: a tagged template that escapes every value, unless the value is itself
 * rendered HTML. Nothing from a request or the database reaches a page unescaped.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] as string)
}

function piece(v: unknown): string {
  if (v === undefined || v === null || v === false) return ''
  if (v instanceof Html) return v.text
  if (Array.isArray(v)) return v.map(piece).join('')
  return escapeHtml(String(v))
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] as string
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + (strings[i + 1] as string)
  return new Html(out)
}

/** Trusted markup built by this room (e.g. an SVG path computed from numbers). */
export function raw(text: string): Html {
  return new Html(text)
}
