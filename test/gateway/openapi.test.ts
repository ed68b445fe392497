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
