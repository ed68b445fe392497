import { readdirSync, existsSync } from 'node:fs'
import t from 'tap'
import { ADAPTERS } from '../../adapters/index.ts'
import { REFERENCE_PARTNERS } from '../../adapters/reference.ts'
import { createMessageValidator } from '../../src/core/schemas.ts'
import { classifyError } from '../../src/outbound/retry.ts'
import type { PartnerAdapter } from '../../src/outbound/adapter.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { personalData } from '../helpers/world.ts'
import { AdapterBench, closedPort, signedMessage } from './helpers.ts'

// STYLE §6: one adapter interface, and one conformance suite run against every adapter, each
// with its reference partner: real keys, real signed messages, real HTTP, no mocks.
const validator = createMessageValidator()

t.test('every adapter folder is registered and has a reference partner', async (t) => {
  const root = new URL('../../adapters/', import.meta.url)
  const folders = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(new URL(`${d.name}/index.ts`, root))).map((d) => d.name).sort()
  t.same([...ADAPTERS.keys()].sort(), folders, 'ADAPTERS lists exactly the folders of adapters/')
  for (const [name, adapter] of ADAPTERS) {
    t.equal(adapter.name, name, `${name}: registered under its own name`)
    t.ok(REFERENCE_PARTNERS.has(name), `${name}: has a reference partner (adapters/reference.ts)`)
  }
})

/** Unwraps the rejection of `p` as the delivery worker classifies it. */
async function failure(p: Promise<void>): Promise<{ code: string; retry: boolean }> {
  try {
    await p
  } catch (err) {
    const e = classifyError(err)
    return { code: e.code, retry: e.retry }
  }
  throw new Error('the delivery did not fail')
}

function conformance(name: string, adapter: PartnerAdapter): void {
  t.test(`${name}: declaration`, async (t) => {
    t.ok(adapter.auth === 'jose' || adapter.auth === 'shared-secret', 'declares how its partners authenticate')
    const known = new Set(validator.types().map((x) => x.type))
    for (const type of adapter.types ?? []) t.ok(known.has(type), `carries a known message type: ${type}`)
    for (const r of adapter.inbound ?? []) t.match(r.path, /^[a-z0-9][a-z0-9/-]*$/, `owns a plain inbound path: ${r.path}`)
    if (adapter.auth === 'shared-secret') t.ok(adapter.types !== undefined, 'a shared-secret adapter names the types it can map')
  })

  const factory = REFERENCE_PARTNERS.get(name)
  if (factory === undefined) {
    t.fail(`${name}: no reference partner in adapters/reference.ts`)
    return
  }
  const type = adapter.types?.[0] ?? 'tax.assessment.request'
  for (const suite of ['national', 'international'] as const) {
    t.test(`${name}: ${suite} suite`, async (t) => {
      const { bench, sender } = await AdapterBench.start(name, suite, factory)
      t.teardown(() => bench.close())
      const partner = bench.partner
      const message = await signedMessage(validFixture(type), sender)
      t.ok(validator.validateEnvelope(message.envelope).ok && validator.validateBody(type, 1, message.envelope.body).ok, 'the message is a valid one')

      t.test('2xx: delivered, and the partner decodes the same message', async (t) => {
        partner.behave(() => ({ outcome: 'accept' }))
        await adapter.deliver(message, bench.ctx)
        const got = partner.received().at(-1)
        t.same(got && { exchangeId: got.exchangeId, type: got.type, caseId: got.caseId, unitCode: got.unitCode }, {
          exchangeId: message.exchangeId, type: message.type, caseId: message.caseId, unitCode: message.unitCode,
        }, 'exchange id (what repeats are dropped by), type, case and unit code')
        if (got?.messageId !== undefined) t.equal(got.messageId, message.messageId, 'the sender\'s message id')
        if (got?.body !== undefined) t.strictSame(got.body, message.envelope.body, 'the body, field by field')
        if (got?.envelope !== undefined) t.strictSame(got.envelope, message.envelope, 'the whole envelope, verified end to end')
      })

      t.test('a second delivery of the same message carries the same exchange id', async (t) => {
        const before = partner.received().length
        await adapter.deliver({ ...message, attempt: 2 }, bench.ctx)
        const [first, again] = partner.received().slice(before - 1)
        t.ok(first?.exchangeId, 'a gateway-given identity')
        t.equal(again?.exchangeId, first?.exchangeId, 'so the partner can drop the repeat')
      })

      // Each failure below is of a message the partner has not had yet (one it has, it may just acknowledge).
      const fresh = () => signedMessage(validFixture(type), sender)

      t.test('partner unavailable (5xx): retryable', async (t) => {
        partner.behave(() => ({ outcome: 'unavailable' }))
        t.same(await failure(adapter.deliver(await fresh(), bench.ctx)), { code: 'PARTNER_5XX', retry: true })
      })

      t.test('partner refuses the message for good: final', async (t) => {
        partner.behave(() => ({ outcome: 'refuse' }))
        t.equal((await failure(adapter.deliver(await fresh(), bench.ctx))).retry, false)
      })

      t.test('partner slower than the timeout: retryable', async (t) => {
        partner.behave(() => ({ outcome: 'accept', delayMs: 5_000 }))
        const message = await fresh()
        const started = Date.now()
        t.same(await failure(adapter.deliver(message, bench.ctx)), { code: 'TIMEOUT', retry: true })
        t.ok(Date.now() - started < 4_500, 'it gave up before the partner answered')
      })

      t.test('connection refused: retryable', async (t) => {
        const down = { ...bench.recipient, endpoint: `http://127.0.0.1:${await closedPort()}/down` }
        t.same(await failure(adapter.deliver(await fresh(), bench.context(down))), { code: 'NETWORK', retry: true })
      })

      t.test('nothing the adapter logs carries the personal data of the message', async (t) => {
        const text = bench.logs.join('')
        t.same(personalData().filter((s) => text.includes(s)), [], 'no names, ID numbers, phones or addresses')
      })
    })
  }
}

for (const [name, adapter] of ADAPTERS) conformance(name, adapter)
