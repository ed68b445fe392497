import t from 'tap'
import { ERRORS, type ErrorCode } from '../../src/errors.ts'
import { CONSOLE_ROUTE_ERRORS, ROUTE_ERRORS, type ConsoleRouteKey, type RouteKey } from '../../src/inbound/route-errors.ts'

/** An answer as the walker reads it: a fetch Response, or a World client's `http()` result. */
export type Answered = Response | { readonly status: number; readonly headers: Record<string, string | string[] | undefined>; readonly text: string }

/** One request that must draw one error code from one route. */
export type Trigger = () => Promise<Answered>
export type Triggers = { readonly [K in RouteKey]?: { readonly [C in ErrorCode]?: Trigger } }
export type ConsoleTriggers = { readonly [K in ConsoleRouteKey]?: { readonly [C in ErrorCode]?: Trigger } }

/**
 * Which walker test covers which routes (test/gateway/route-errors.test.ts checks that together
 * they cover every route of src/inbound/route-errors.ts, once).
 */
export const WALKS = {
  /** test/gateway/route-errors-signed.test.ts */
  signed: ['POST /v1/token', 'POST /v1/messages', 'POST /v1/batches', 'POST /v1/attachments', 'POST /v1/queries'],
  /** test/gateway/route-errors-reads.test.ts */
  reads: [
    'GET /healthz', 'GET /readyz', 'GET /v1/directory', 'GET /v1/openapi.json',
    'GET /v1/queries', 'GET /v1/queries/:id/problem', 'GET /v1/cases', 'GET /v1/cases/:caseId', 'GET /v1/cases/:caseId/evidence', 'GET /v1/exchanges/:id', 'GET /v1/attachments/:id',
    'GET /v1/ledger/checkpoint', 'GET /v1/ledger/proof/inclusion', 'GET /v1/ledger/proof/consistency', 'GET /v1/ledger/entries/:ref',
    'GET /v1/admin/deliveries', 'POST /v1/admin/deliveries/:id/replay', 'POST /v1/admin/directory/reload', 'POST /v1/admin/cases/:caseId/steps/:stepId/close',
    'POST /v1/adapters/:adapter/:participant/:path',
  ],
} as const satisfies Record<string, readonly RouteKey[]>

/** An answer's status, content type, and error code: problem+json's `code`, else the console's tongban-error header. */
async function read(a: Answered): Promise<{ status: number; type: string; code: unknown }> {
  const header = (name: string): string => {
    const v = a instanceof Response ? a.headers.get(name) : a.headers[name]
    return Array.isArray(v) ? v.join(', ') : v ?? ''
  }
  const text = a instanceof Response ? await a.text() : a.text
  let code: unknown = header('tongban-error') || undefined
  try {
    code = (JSON.parse(text) as { code?: unknown }).code ?? code
  } catch {
    // not JSON: an error page
  }
  return { status: a.status, type: header('content-type'), code }
}

type TapLike = typeof t

/**
 * For each route of `lists`: the triggers name exactly the codes the route declares (none
 * missing, none extra), and each trigger's request is answered with that code, its catalogue
 * status and the content type `as` expects. Triggers run in the order the route declares its codes.
 */
async function walkLists(t: TapLike, lists: Readonly<Record<string, readonly ErrorCode[]>>, routes: readonly string[], triggers: Readonly<Record<string, Readonly<Partial<Record<ErrorCode, Trigger>>> | undefined>>, as: { type: RegExp; name: string }): Promise<void> {
  for (const route of routes) {
    await t.test(route, async (t) => {
      const declared = [...(lists[route] ?? [])]
      const given = Object.keys(triggers[route] ?? {}) as ErrorCode[]
      t.same(declared.filter((c) => !given.includes(c)), [], 'a request for every code the route declares')
      t.same(given.filter((c) => !declared.includes(c)), [], 'no request for a code the route does not declare')
      for (const code of declared) {
        const trigger = triggers[route]?.[code]
        if (trigger === undefined) continue
        await t.test(code, async (t) => {
          const a = await read(await trigger())
          t.same([a.status, a.code], [ERRORS[code].status, code], `${route} answers ${ERRORS[code].status} ${code}`)
          t.match(a.type, as.type, as.name)
        })
      }
    })
  }
}

/** The partners' API (ROUTE_ERRORS): every refusal is problem+json with its code. */
export async function walk(t: TapLike, routes: readonly RouteKey[], triggers: Triggers): Promise<void> {
  await walkLists(t, ROUTE_ERRORS, routes, triggers, { type: /^application\/problem\+json/, name: 'as problem+json' })
}

/**
 * The operator console's routes (test/console/route-errors.test.ts, CONSOLE_ROUTE_ERRORS): a
 * refusal is an HTML error page whose code is in the tongban-error header.
 */
export async function walkConsole(t: TapLike, triggers: ConsoleTriggers): Promise<void> {
  await walkLists(t, CONSOLE_ROUTE_ERRORS, Object.keys(CONSOLE_ROUTE_ERRORS), triggers, { type: /^text\/html/, name: 'as an error page' })
}
