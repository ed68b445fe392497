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
