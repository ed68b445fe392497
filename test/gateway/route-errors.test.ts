import t from 'tap'
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { BEFORE_ROUTING, CONSOLE_ROUTE_ERRORS, ROUTE_ERRORS, routeKey, undeclaredConsoleError, undeclaredError, withErrorTables, type RouteKey } from '../../src/inbound/route-errors.ts'
import { WALKS } from '../helpers/route-walk.ts'
import { World } from '../helpers/world.ts'

// Issue 11, must-show 5: every error code a route can answer is listed for that route — in
// src/inbound/route-errors.ts, shown in OpenAPI and in docs/errors.md — and the walker tests
// (route-errors-signed, route-errors-reads) send one request per (route, code) pair. This test
// keeps the list, the routes the gateway serves, the walkers and the document in step.
const w = await World.start({
  label: 'route-errors',
  partners: [{ id: 'REG:231202', send: ['tax.assessment.request'], receive: ['tax.payment.completed'] }],
})
t.teardown(() => w.close())

const KEYS = Object.keys(ROUTE_ERRORS) as RouteKey[]

t.test('docs/errors.md lists, for every route, the codes it declares', async (t) => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  t.equal(doc, withErrorTables(doc), 'its two tables match src/inbound/route-errors.ts (npm run docs:errors rewrites them)')
  t.match(doc, /\| `POST \/v1\/token` \| 400 `TB_ERR_JOSE_MALFORMED`/, 'the tables are filled in')
  const before = /\*\*Before any route\*\*[^\n]*(\n {2}[^\n]*)*/.exec(doc)?.[0] ?? ''
  for (const code of BEFORE_ROUTING) t.match(before, code, `${code} before routing is stated`)
})

t.test('every route the gateway serves has its list, and every list a route', async (t) => {
  const served = new Set<RouteKey>()
  const unlisted: string[] = []
  for (const r of w.app.tb.routes) {
    const key = routeKey(r.method, r.url)
    if (key === undefined) unlisted.push(`${r.method} ${r.url}`)
    else served.add(key)
  }
  t.same(unlisted, [], 'no route without a list of errors')
  t.same(KEYS.filter((k) => !served.has(k)), [], 'no list for a route the gateway does not serve')
})

t.test('every console route has its list, and every list a console route', async (t) => {
  const served = w.app.tb.consoleRoutes ?? []
  t.ok(served.length > 10, `${served.length} console routes`)
  t.same(served.filter((r) => !(r in CONSOLE_ROUTE_ERRORS)), [], 'no console route without a list of errors')
  t.same(Object.keys(CONSOLE_ROUTE_ERRORS).filter((k) => !served.includes(k)), [], 'no list for a route the console does not serve')
  t.match(undeclaredConsoleError('GET', '/overview', 'TB_ERR_CSRF'), /TB_ERR_CSRF is not among the errors GET \/overview declares/)
  t.equal(undeclaredConsoleError('POST', '/login', 'TB_ERR_LOGIN_FAILED'), undefined)
})

t.test('the walker tests cover every route once', async (t) => {
  const walked = [...WALKS.signed, ...WALKS.reads] as RouteKey[]
  t.same([...walked].sort(), [...KEYS].sort(), 'together they walk every route')
  t.equal(new Set(walked).size, walked.length, 'no route in two walkers')
})

t.test('OpenAPI shows each route\'s declared codes as its problem responses', async (t) => {
  const doc = (await (await fetch(`${w.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { description?: string; content?: Record<string, unknown> }> }>> }
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const key = routeKey(method.toUpperCase(), path.replace(/\{(\w+)\}/g, ':$1'))
      if (key === undefined) {
        t.fail(`${method} ${path} has no list`)
        continue
      }
      const shown = Object.values(op.responses).filter((r) => r.content?.['application/problem+json'] !== undefined)
        .flatMap((r) => [...(r.description ?? '').matchAll(/TB_ERR_[A-Z_]+/g)].map((x) => x[0])).sort()
      t.same(shown, [...ROUTE_ERRORS[key]].sort(), `${key}: OpenAPI shows the declared codes`)
    }
  }
})

t.test('the tests\' gateways refuse to answer a code a route does not declare', async (t) => {
  t.equal(undeclaredError('POST', '/v1/token', 'TB_ERR_REPLAY'), undefined, 'a declared code passes')
  t.equal(undeclaredError('GET', '/v1/directory', 'TB_ERR_INTERNAL'), undefined, 'TB_ERR_INTERNAL may come from any route')
  t.match(undeclaredError('GET', '/v1/directory', 'TB_ERR_SCHEMA'), /TB_ERR_SCHEMA is not among the errors GET \/v1\/directory declares/)
  t.match(undeclaredError('HEAD', '/v1/directory', 'TB_ERR_SCHEMA'), /GET \/v1\/directory/, 'HEAD is its GET route')
  t.equal(undeclaredError('GET', undefined, 'TB_ERR_NOT_FOUND'), undefined, 'before routing: no such route')
  t.match(undeclaredError('GET', undefined, 'TB_ERR_TOKEN_MISSING'), /before any route/)
  t.match(undeclaredError('GET', '/v1/nowhere', 'TB_ERR_NOT_FOUND'), /has no list of errors/)
  t.equal(routeKey('POST', '/v1/adapters/legacy-tax/:participant/notify'), 'POST /v1/adapters/:adapter/:participant/:path', 'adapter routes share one list')
})

/** A raw HTTP/1.1 request (fetch cannot send a bad Expect or an undecodable path). */
async function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: { code?: string } }> {
  const url = new URL(w.url)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { ...headers, connection: 'close' } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: JSON.parse(text) as { code?: string } }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A path of the route with sample parameters. */
const sample = (key: RouteKey): string => key.split(' ')[1]!
  .replace(':adapter', 'legacy-tax').replace(':participant', 'TAX:231202').replace(':path', 'wsxx')
  .replace(':caseId', '231202-20261206-000001').replace(/:(id|stepId)/g, '0190a000-0000-7000-8000-000000000000').replace(':ref', '0')

t.test('before any route: an Expect other than 100-continue, an undecodable path, no such route', async (t) => {
  for (const key of KEYS) {
    const [method] = key.split(' ') as [string]
    const a = await raw(method, sample(key), { expect: 'bogus' })
    t.same([a.status, a.body.code], [400, 'TB_ERR_BAD_REQUEST'], `${key} with Expect: bogus`)
    t.match(a.type, /^application\/problem\+json/)
  }
  const bad = await raw('GET', '/v1/cases/%E0%A4%A')
  t.same([bad.status, bad.body.code], [400, 'TB_ERR_BAD_REQUEST'], 'a percent-encoding that does not decode')
  const none = await raw('GET', '/v1/nowhere')
  t.same([none.status, none.body.code], [404, 'TB_ERR_NOT_FOUND'], 'no such route')
  t.same(w.app.tb.responseFaults, [], 'no answer outside its route\'s declarations')
})
