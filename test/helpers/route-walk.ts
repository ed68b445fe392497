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
  signed: ['POST /v1/token', 'POST /v1/messages', 'POST /v1/queries'],
  /** test/gateway/route-errors-reads.test.ts */
  reads: [
    'GET /healthz', 'GET /readyz', 'GET /v1/directory', 'GET /v1/openapi.json',
    'GET /v1/queries', 'GET /v1/queries/:id/problem', 'GET /v1/cases', 'GET /v1/cases/:caseId', 'GET /v1/cases/:caseId/evidence', 'GET /v1/exchanges/:id',
    'GET /v1/ledger/checkpoint', 'GET /v1/ledger/proof/inclusion', 'GET /v1/ledger/proof/consistency', 'GET /v1/ledger/entries/:ref',
    'GET /v1/admin/deliveries', 'POST /v1/admin/deliveries/:id/replay', 'POST /v1/admin/directory/reload', 'POST /v1/admin/cases/:caseId/steps/:stepId/close',
    'POST /v1/adapters/:adapter/:participant/:path',
  ],
} as const satisfies Record<string, readonly RouteKey[]>

async function read(a: Answered): Promise<{ status: number; type: string; body: unknown }> {
  if (a instanceof Response) {
    const text = await a.text()
    return { status: a.status, type: a.headers.get('content-type') ?? '', body: parse(text) }
  }
  const type = a.headers['content-type']
  return { status: a.status, type: Array.isArray(type) ? type.join(', ') : type ?? '', body: parse(a.text) }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

type TapLike = typeof t

/**
 * For each route: the triggers name exactly the codes the route declares (none missing, none
 * extra), and each trigger's request is answered with that code, its catalogue status and
 * problem+json. Triggers run in the order the route declares its codes.
 */
export async function walk(t: TapLike, routes: readonly RouteKey[], triggers: Triggers): Promise<void> {
  for (const route of routes) {
    await t.test(route, async (t) => {
      const declared = [...ROUTE_ERRORS[route]] as ErrorCode[]
      const given = Object.keys(triggers[route] ?? {}) as ErrorCode[]
      t.same(declared.filter((c) => !given.includes(c)), [], 'a request for every code the route declares')
      t.same(given.filter((c) => !declared.includes(c)), [], 'no request for a code the route does not declare')
      for (const code of declared) {
        const trigger = triggers[route]?.[code]
        if (trigger === undefined) continue
        await t.test(code, async (t) => {
          const a = await read(await trigger())
          const body = a.body as { code?: unknown; status?: unknown }
          t.same([a.status, body.code], [ERRORS[code].status, code], `${route} answers ${ERRORS[code].status} ${code}`)
          t.match(a.type, /^application\/problem\+json/, 'as problem+json')
        })
      }
    })
  }
}

/**
 * The operator console's routes (test/console/route-errors.test.ts): as walk(), for the lists of
 * CONSOLE_ROUTE_ERRORS; a refusal is an HTML error page whose code is in the tongban-error header.
 */
export async function walkConsole(t: TapLike, triggers: ConsoleTriggers): Promise<void> {
  for (const route of Object.keys(CONSOLE_ROUTE_ERRORS) as ConsoleRouteKey[]) {
    await t.test(route, async (t) => {
      const declared = [...CONSOLE_ROUTE_ERRORS[route]] as ErrorCode[]
      const given = Object.keys(triggers[route] ?? {}) as ErrorCode[]
      t.same(declared.filter((c) => !given.includes(c)), [], 'a request for every code the route declares')
      t.same(given.filter((c) => !declared.includes(c)), [], 'no request for a code the route does not declare')
      for (const code of declared) {
        const trigger = triggers[route]?.[code]
        if (trigger === undefined) continue
        await t.test(code, async (t) => {
          const a = await trigger()
          const header = a instanceof Response ? a.headers.get('tongban-error') : a.headers['tongban-error']
          const type = a instanceof Response ? a.headers.get('content-type') : a.headers['content-type']
          if (a instanceof Response) await a.arrayBuffer()
          t.same([a.status, header], [ERRORS[code].status, code], `${route} answers ${ERRORS[code].status} ${code}`)
          t.match(String(type), /^text\/html/, 'as an error page')
        })
      }
    })
  }
}
