import { ERRORS, type ErrorCode } from '../errors.ts'

/**
 * Every error code each route of the partners' API can answer: the one list that the OpenAPI
 * document (each operation's problem responses), docs/errors.md ("By route", a test keeps it in
 * step) and the tests use. The tests' gateways refuse to answer a code a route does not declare
 * here (response-check.ts), and test/gateway/route-errors-*.test.ts send one request for every
 * (route, code) pair, so the list is neither short nor padded.
 *
 * Not listed per route: TB_ERR_INTERNAL (a fault of ours, on any route) and the answers before
 * any route (BEFORE_ROUTING).
 */

/** A token is checked first on every authenticated route. */
const AUTH = ['TB_ERR_TOKEN_MISSING', 'TB_ERR_TOKEN_INVALID', 'TB_ERR_TOKEN_EXPIRED'] as const satisfies readonly ErrorCode[]

/** Opening a signed request body: framing, keys, signature, strict JSON (POST /v1/token). */
const SIGNED = ['TB_ERR_CONTENT_TYPE', 'TB_ERR_BODY_TOO_LARGE', 'TB_ERR_JOSE_MALFORMED', 'TB_ERR_ALG_UNSUPPORTED', 'TB_ERR_KEY_UNKNOWN', 'TB_ERR_KEY_EXPIRED',
  'TB_ERR_KEY_REVOKED', 'TB_ERR_SIGNATURE_INVALID', 'TB_ERR_SIGNER_MISMATCH', 'TB_ERR_SCHEMA', 'TB_ERR_IAT_WINDOW', 'TB_ERR_REPLAY'] as const satisfies readonly ErrorCode[]

/** Opening a message or query: the above, plus the JWE around it and the envelope's type, route and id. */
const ENVELOPE = [...AUTH, 'TB_ERR_FORBIDDEN', 'TB_ERR_RATE_LIMITED', ...SIGNED, 'TB_ERR_DECRYPT', 'TB_ERR_ENCRYPTION_REQUIRED', 'TB_ERR_TYPE_UNKNOWN',
  'TB_ERR_ROUTE_FORBIDDEN', 'TB_ERR_NO_ROUTE', 'TB_ERR_DUPLICATE_ID', 'TB_ERR_UNAVAILABLE'] as const satisfies readonly ErrorCode[]

/** An authenticated read of stored data (recorded in the ledger before it is answered). */
const READ = [...AUTH, 'TB_ERR_UNAVAILABLE'] as const satisfies readonly ErrorCode[]

/**
 * An operator's POST: any body sent is read before the handler (a JSON reason of at most 4 KiB, or
 * application/jose), so a body of another type, too large, or JSON that does not parse is refused
 * even where the route needs none.
 */
const ADMIN_POST = [...READ, 'TB_ERR_FORBIDDEN', 'TB_ERR_CONTENT_TYPE', 'TB_ERR_BODY_TOO_LARGE', 'TB_ERR_BAD_REQUEST'] as const satisfies readonly ErrorCode[]

export const ROUTE_ERRORS = {
  'GET /healthz': [],
  'GET /readyz': [],
  'GET /v1/directory': [],
  'GET /v1/openapi.json': [],
  'POST /v1/token': [...SIGNED, 'TB_ERR_RATE_LIMITED', 'TB_ERR_UNAVAILABLE'],
  'POST /v1/messages': [...ENVELOPE, 'TB_ERR_CASE_NOT_FOUND', 'TB_ERR_CASE_MISMATCH', 'TB_ERR_CASE_CONFLICT', 'TB_ERR_CONTRACT_AMBIGUOUS', 'TB_ERR_FILING_CONFLICT',
    'TB_ERR_ATTACHMENT_UNKNOWN', 'TB_ERR_ATTACHMENT_MISMATCH', 'TB_ERR_ATTACHMENT_UNSUPPORTED'],
  // An upload: a stream whose key JWE is opened like a message's JWE (no signature: the message that names it is signed).
  'POST /v1/attachments': [...AUTH, 'TB_ERR_FORBIDDEN', 'TB_ERR_RATE_LIMITED', 'TB_ERR_CONTENT_TYPE', 'TB_ERR_BODY_TOO_LARGE', 'TB_ERR_JOSE_MALFORMED', 'TB_ERR_ALG_UNSUPPORTED',
    'TB_ERR_KEY_UNKNOWN', 'TB_ERR_DECRYPT', 'TB_ERR_SCHEMA', 'TB_ERR_ATTACHMENT_MALFORMED', 'TB_ERR_ATTACHMENT_MISMATCH', 'TB_ERR_UNAVAILABLE'],
  'GET /v1/attachments/:id': [...READ, 'TB_ERR_FORBIDDEN', 'TB_ERR_NOT_FOUND'],
  // A batch: opened like a message (no nonce of its own: its id is unique per sender); its
  // messages' own refusals are in the batch receipt, each a 4xx of POST /v1/messages.
  'POST /v1/batches': [...AUTH, 'TB_ERR_FORBIDDEN', 'TB_ERR_RATE_LIMITED', ...SIGNED.filter((c) => c !== 'TB_ERR_REPLAY'), 'TB_ERR_DECRYPT', 'TB_ERR_ENCRYPTION_REQUIRED', 'TB_ERR_DUPLICATE_ID', 'TB_ERR_UNAVAILABLE'],
  'POST /v1/queries': [...ENVELOPE, 'TB_ERR_PARTNER_TIMEOUT', 'TB_ERR_PARTNER_UNAVAILABLE', 'TB_ERR_PARTNER_REJECTED', 'TB_ERR_PARTNER_BAD_ANSWER'],
  'GET /v1/queries': [...READ, 'TB_ERR_BAD_REQUEST'],
  'GET /v1/queries/:id/problem': [...READ, 'TB_ERR_NOT_FOUND'],
  'GET /v1/cases': [...READ, 'TB_ERR_BAD_REQUEST', 'TB_ERR_FORBIDDEN'],
  'GET /v1/cases/:caseId': [...READ, 'TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND'],
  'GET /v1/cases/:caseId/evidence': [...READ, 'TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND'],
  'GET /v1/exchanges/:id': [...READ, 'TB_ERR_NOT_FOUND'],
  'GET /v1/ledger/checkpoint': [...READ, 'TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND'],
  'GET /v1/ledger/proof/inclusion': [...READ, 'TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND'],
  'GET /v1/ledger/proof/consistency': [...READ, 'TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND'],
  'GET /v1/ledger/entries/:ref': [...READ, 'TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND'],
  'GET /v1/admin/deliveries': [...READ, 'TB_ERR_FORBIDDEN', 'TB_ERR_BAD_REQUEST'],
  'POST /v1/admin/deliveries/:id/replay': [...ADMIN_POST, 'TB_ERR_NOT_FOUND', 'TB_ERR_INVALID_STATE'],
  'POST /v1/admin/directory/reload': [...ADMIN_POST, 'TB_ERR_DIRECTORY_INVALID'],
  'POST /v1/admin/cases/:caseId/steps/:stepId/close': [...ADMIN_POST, 'TB_ERR_NOT_FOUND'],
  'POST /v1/adapters/:adapter/:participant/:path': ['TB_ERR_RATE_LIMITED', 'TB_ERR_BODY_TOO_LARGE', 'TB_ERR_NOT_FOUND', 'TB_ERR_UNAVAILABLE'],
} as const satisfies Record<string, readonly ErrorCode[]>

export type RouteKey = keyof typeof ROUTE_ERRORS

/**
 * What any request may be answered before it reaches a route: TB_ERR_BAD_REQUEST (a request
 * Node's HTTP parser refuses, a URL whose percent-encoding does not decode, an `Expect` other than
 * 100-continue, a path parameter over the router's limit) and TB_ERR_NOT_FOUND (no such route).
 */
export const BEFORE_ROUTING = ['TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND'] as const satisfies readonly ErrorCode[]

/** The route key of a registered route (`POST /v1/adapters/legacy-tax/:participant/notify` → the adapters' key). */
export function routeKey(method: string, url: string): RouteKey | undefined {
  const m = method === 'HEAD' ? 'GET' : method
  const key = /^\/v1\/adapters\/[^/]+\/:participant\//.test(url) ? `${m} /v1/adapters/:adapter/:participant/:path` : `${m} ${url}`
  return key in ROUTE_ERRORS ? key as RouteKey : undefined
}

/** The codes a route declares, by HTTP status (for OpenAPI's responses). */
export function errorsByStatus(key: RouteKey): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of ROUTE_ERRORS[key] as readonly ErrorCode[]) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code])
  return byStatus
}

/** Why an error answer is not one its route declares, or undefined when it is. */
export function undeclaredError(method: string, url: string | undefined, code: string): string | undefined {
  if (code === 'TB_ERR_INTERNAL') return undefined
  if (url === undefined) return (BEFORE_ROUTING as readonly string[]).includes(code) ? undefined : `${code} answered before any route (only ${BEFORE_ROUTING.join(', ')} may be)`
  const key = routeKey(method, url)
  if (key === undefined) return `${method} ${url} has no list of errors (src/inbound/route-errors.ts)`
  return (ROUTE_ERRORS[key] as readonly string[]).includes(code) ? undefined : `${code} is not among the errors ${key} declares (src/inbound/route-errors.ts, docs/errors.md)`
}

/** A console form: its CSRF token first, then the body (a form of at most 16 KiB), then the operator. */
const FORM = ['TB_ERR_CSRF', 'TB_ERR_BODY_TOO_LARGE', 'TB_ERR_CONTENT_TYPE', 'TB_ERR_UNAVAILABLE'] as const satisfies readonly ErrorCode[]
/** A console action: a form of a signed-in operator whose role may act (a session that lost its operator: TB_ERR_TOKEN_MISSING). */
const ACTION = [...FORM, 'TB_ERR_TOKEN_MISSING', 'TB_ERR_FORBIDDEN'] as const satisfies readonly ErrorCode[]

/**
 * The operator console's routes (its own listener, docs/console.md): a refused request gets an
 * error page and its code in the `tongban-error` header. Every request that carries a session
 * cookie reads the session from PostgreSQL first, so every route may answer TB_ERR_UNAVAILABLE.
 * A page asked for without a session is a redirect to the log-in page, not an error.
 */
export const CONSOLE_ROUTE_ERRORS = {
  'GET /': ['TB_ERR_UNAVAILABLE'],
  'GET /static/console.css': ['TB_ERR_UNAVAILABLE'],
  'GET /favicon.ico': ['TB_ERR_UNAVAILABLE'],
  'GET /lang': ['TB_ERR_UNAVAILABLE'],
  'GET /login': ['TB_ERR_UNAVAILABLE'],
  'POST /login': [...FORM, 'TB_ERR_LOGIN_FAILED', 'TB_ERR_ACCOUNT_LOCKED'],
  'POST /logout': [...FORM],
  'GET /overview': ['TB_ERR_UNAVAILABLE'],
  'GET /cases': ['TB_ERR_UNAVAILABLE'],
  'GET /cases/:caseId': ['TB_ERR_FORBIDDEN', 'TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND', 'TB_ERR_UNAVAILABLE'],
  'POST /cases/:caseId/steps/:stepId/close': [...ACTION, 'TB_ERR_BAD_REQUEST', 'TB_ERR_NOT_FOUND'],
  'GET /dead': ['TB_ERR_UNAVAILABLE'],
  'GET /dead/:id': ['TB_ERR_FORBIDDEN', 'TB_ERR_NOT_FOUND', 'TB_ERR_UNAVAILABLE'],
  'POST /dead/:id/replay': [...ACTION, 'TB_ERR_NOT_FOUND', 'TB_ERR_INVALID_STATE'],
  'GET /deliveries/:id': ['TB_ERR_NOT_FOUND', 'TB_ERR_UNAVAILABLE'],
  'GET /partners': ['TB_ERR_UNAVAILABLE'],
  'GET /queries': ['TB_ERR_FORBIDDEN', 'TB_ERR_UNAVAILABLE'],
  'GET /ledger': ['TB_ERR_FORBIDDEN', 'TB_ERR_UNAVAILABLE'],
  'POST /ledger/verify': [...ACTION],
  'GET /api': ['TB_ERR_UNAVAILABLE'],
  'GET /api/openapi.json': ['TB_ERR_UNAVAILABLE'],
} as const satisfies Record<string, readonly ErrorCode[]>

export type ConsoleRouteKey = keyof typeof CONSOLE_ROUTE_ERRORS

/** Why a console refusal is not one its route declares, or undefined when it is. */
export function undeclaredConsoleError(method: string, url: string | undefined, code: string): string | undefined {
  if (code === 'TB_ERR_INTERNAL') return undefined
  if (url === undefined) return (BEFORE_ROUTING as readonly string[]).includes(code) ? undefined : `console: ${code} answered before any route`
  const key = `${method === 'HEAD' ? 'GET' : method} ${url}`
  if (!(key in CONSOLE_ROUTE_ERRORS)) return `console: ${key} has no list of errors (src/inbound/route-errors.ts)`
  return (CONSOLE_ROUTE_ERRORS[key as ConsoleRouteKey] as readonly string[]).includes(code) ? undefined : `console: ${code} is not among the errors ${key} declares (src/inbound/route-errors.ts, docs/errors.md)`
}

/**
 * A "By route" table of docs/errors.md, generated from a list (`npm run docs:errors` writes both;
 * a test checks the document): each route's codes by status, each status's codes in catalogue order.
 */
export function errorsTable(lists: Readonly<Record<string, readonly ErrorCode[]>>): string {
  const order = Object.keys(ERRORS)
  const rows = Object.entries(lists).map(([key, codes]) => {
    const statuses = [...new Set(codes.map((c) => ERRORS[c].status))].sort((a, b) => a - b)
    const cell = statuses.map((s) => `${s} ${codes.filter((c) => ERRORS[c].status === s).sort((a, b) => order.indexOf(a) - order.indexOf(b)).map((c) => `\`${c}\``).join(', ')}`).join('; ')
    return `| \`${key}\` | ${cell === '' ? 'none (only `TB_ERR_INTERNAL`)' : cell} |`
  })
  return ['| route | codes, by status |', '|---|---|', ...rows].join('\n')
}

/** docs/errors.md with its two generated tables rewritten from the lists. */
export function withErrorTables(doc: string): string {
  let out = doc
  for (const [name, lists] of [['route-errors', ROUTE_ERRORS], ['console-route-errors', CONSOLE_ROUTE_ERRORS]] as const) {
    const re = new RegExp(`(<!-- ${name}:begin -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`)
    if (!re.test(out)) throw new Error(`docs/errors.md lacks the markers of ${name}`)
    out = out.replace(re, (_m, begin: string, end: string) => `${begin}${errorsTable(lists)}\n${end}`)
  }
  return out
}
