import t from 'tap'
import { World } from '../helpers/world.ts'

// The OpenAPI description is generated from the live schemas: it lists every route the gateway
// serves and every message type it validates.
const routes: Array<{ method: string; url: string }> = []
const w = await World.start({
  label: 'openapi',
  partners: [{ id: 'REG:231202', send: ['tax.assessment.request'], receive: ['tax.payment.completed'] }],
})
t.teardown(() => w.close())

t.test('GET /v1/openapi.json describes every route and message type', async (t) => {
  const res = await fetch(`${w.url}/v1/openapi.json`)
  t.equal(res.status, 200)
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } }
  t.equal(doc.openapi, '3.1.0')
  for (const { type, v } of w.app.tb.validator.types()) t.ok(doc.components.schemas[`${type}.v${v}`], `schema of ${type} v${v}`)
  t.ok(doc.components.schemas.Envelope)
  for (const r of w.app.tb.routes) routes.push({ method: r.method, url: r.url.replace(/:(\w+)/g, '{$1}') })
  t.ok(routes.length >= 12, `${routes.length} routes served`)
  for (const r of routes) {
    const described = Object.entries(doc.paths).some(([p, ops]) => (p === r.url || (p.startsWith('/v1/adapters/') && r.url.startsWith('/v1/adapters/'))) && r.method.toLowerCase() in ops)
    t.ok(described, `${r.method} ${r.url} is described`)
  }
})

// Issue 11: every route's response has a schema, in the route's definition (Fastify's
// schema.response), and the OpenAPI document shows that same schema. The World builds the gateway
// with validateResponses, so every test checks every answer against these schemas.
t.test('every route has a response schema, and OpenAPI shows the same one', async (t) => {
  const doc = (await (await fetch(`${w.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> }
  const missing: string[] = []
  const differ: string[] = []
  for (const r of w.app.tb.routes) {
    const name = `${r.method} ${r.url}`
    if (r.responses === undefined) {
      missing.push(name)
      continue
    }
    if (r.url.startsWith('/v1/adapters/')) continue
    const op = doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()]
    for (const [status, schema] of Object.entries(r.responses)) {
      if (!/^\d{3}$/.test(status)) {
        t.same(schema, (doc as unknown as { components: { schemas: { Problem: unknown } } }).components.schemas.Problem, `${name} ${status}: problem details`)
        continue
      }
      const described = Object.values(op?.responses[status]?.content ?? {})[0]?.schema
      if (JSON.stringify(described) !== JSON.stringify(schema)) differ.push(`${name} ${status}`)
    }
  }
  t.same(missing, [], 'no route without a response schema')
  t.same(differ, [], 'OpenAPI shows each route\'s own response schema')
})

t.test('an answer its schema does not describe is a 500 under validateResponses, and is kept', async (t) => {
  const { useResponseSchemas, schemaForStatus } = await import('../../src/inbound/response-check.ts')
  const Fastify = (await import('fastify')).default
  const { answers, Health } = await import('../../src/inbound/responses.ts')
  const app = Fastify()
  const faults: import('../../src/inbound/response-check.ts').ResponseFault[] = []
  useResponseSchemas(app, faults)
  app.get('/good', { schema: { response: answers({ 200: Health }) } }, async () => ({ status: 'ok' }))
  app.get('/bad', { schema: { response: answers({ 200: Health }) } }, async () => ({ status: 'fine', extra: 1 }))
  app.get('/none', async () => ({ status: 'ok' }))
  app.get('/teapot', { schema: { response: answers({ 200: Health }) } }, async (_q, reply) => reply.code(418).send({ not: 'a problem' }))
  t.equal((await app.inject('/good')).statusCode, 200)
  const bad = await app.inject('/bad')
  t.same([bad.statusCode, bad.json().code], [500, 'TB_ERR_INTERNAL'])
  t.match(bad.json().detail, /\/status must be equal to constant|additional properties/)
  t.equal((await app.inject('/none')).statusCode, 500, 'a route without a response schema fails too')
  t.equal((await app.inject('/teapot')).statusCode, 500, 'an error that is not problem details')
  t.same(faults.map((f) => f.url), ['/bad', '/none', '/teapot'])
  t.equal(schemaForStatus({ 200: 1, '4xx': 2, default: 3 } as Record<string, unknown>, 404), 2)
  t.equal(schemaForStatus({ 200: 1, default: 3 } as Record<string, unknown>, 302), 3)
  await app.close()
})

// Issue 11: the served document passes a standard linter — Redocly CLI 2.x with its recommended
// rules — with no error (warnings, e.g. operations without an operationId, remain).
t.test('redocly lint (recommended rules) finds no error in the served document', async (t) => {
  const { spawnSync } = await import('node:child_process')
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'tongban-redocly-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'openapi.json')
  writeFileSync(file, await (await fetch(`${w.url}/v1/openapi.json`)).text())
  const bin = new URL('../../node_modules/.bin/redocly', import.meta.url).pathname
  const r = spawnSync(bin, ['lint', file, '--format=summary'], {
    encoding: 'utf8', timeout: 120_000,
    env: { PATH: process.env.PATH ?? '', HOME: dir, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  })
  const out = `${r.stdout}${r.stderr}`
  t.equal(r.status, 0, out.split('\n').filter((l) => /error|valid/i.test(l)).join('\n'))
  t.notMatch(out, /^error\s/m, 'no error-level rule fired')
  t.match(out, /Your API description is valid/)
})
