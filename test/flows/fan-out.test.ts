import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'
import { preLoanQuery } from '../helpers/flows.ts'
import { until } from '../helpers/wait.ts'

// Issue 4 §4: a fan-out with one recipient down delivers to the others at once, and to the
// down one after it recovers; the case shows each recipient's status.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const HOUSING = 'HOUSING:231200'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'

const w = await World.start({
  label: 'fanout',
  config: { delivery: { attempts: 40, backoffMs: 100, maxBackoffMs: 300, maxAgeSeconds: 3600, sweepIntervalMs: 60_000, sweepGraceMs: 60_000, concurrency: 2, lockMs: 2_000 } },
  partners: [
    { id: REG, send: ['tax.assessment.request', 'registration.completed', 'preregistration.completed', 'mortgage.registration.completed'], receive: ['tax.payment.completed', 'housing.contract.filed', 'mortgage.registration.request', 'mortgage.query'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request', 'registration.completed', 'preregistration.completed'] },
    { id: HOUSING, divisions: ['231200'], send: ['housing.contract.filed'], receive: ['registration.completed'] },
    { id: BANK, send: ['mortgage.registration.request', 'mortgage.query'], receive: ['registration.completed', 'preregistration.completed', 'mortgage.registration.completed'] },
  ],
})
t.teardown(() => w.close())
const caseId = '231202-2026-000123'

type CaseDoc = { exchanges: Array<{ type: string; exchangeId: string; deliveries: Array<{ recipient: string; status: string; attempts: number }> }>; timeline: Array<{ event: string; recipient?: string }> }
const caseDoc = async (): Promise<CaseDoc> => (await w.client(REG).getCase(caseId)).json as CaseDoc
const statusOf = async (type: string): Promise<Record<string, string>> => {
  const ex = (await caseDoc()).exchanges.find((e) => e.type === type)
  return Object.fromEntries((ex?.deliveries ?? []).map((d) => [d.recipient, d.status]))
}

t.test('the case gathers its participants: REG, TAX, HOUSING (contract), BANK (mortgage, once answered)', async (t) => {
  await w.client(HOUSING).send({ ...validFixture('housing.contract.filed').envelope })
  await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope })
  await preLoanQuery(w, BANK, REG)
  await w.client(BANK).send({ ...validFixture('mortgage.registration.request').envelope })
  await w.client(REG).send({ ...validFixture('mortgage.registration.completed').envelope })
  await w.partner(TAX).server.waitFor(1)
  await w.partner(BANK).server.waitFor(1)
  const c = await w.client(REG).getCase(caseId)
  t.same((c.json as { participants: string[] }).participants, [BANK, HOUSING, REG, TAX])
})

t.test('registration.completed with the bank down: TAX and HOUSING at once, BANK after it recovers', async (t) => {
  const bank = w.partner(BANK).server
  bank.behave(() => 503)
  await w.client(REG).send({ ...validFixture('registration.completed').envelope })
  await until('TAX and HOUSING delivered', async () => {
    const s = await statusOf('registration.completed')
    return s[TAX] === 'delivered' && s[HOUSING] === 'delivered'
  })
  t.equal(w.partner(TAX).server.ofType('registration.completed').length, 1)
  t.equal(w.partner(HOUSING).server.ofType('registration.completed').length, 1)
  t.same(await statusOf('registration.completed'), { [BANK]: 'pending', [HOUSING]: 'delivered', [TAX]: 'delivered' }, 'per-recipient status on the case')
  // The partner sees an attempt a moment before the gateway records its failure: wait for both.
  const failuresOnTimeline = async (): Promise<number> => (await caseDoc()).timeline.filter((e) => e.event === 'delivery.failed' && e.recipient === BANK).length
  await until('the bank has failed a few times, each on the timeline', async () => bank.posts >= 3 && (await failuresOnTimeline()) >= 2)
  const failures = await failuresOnTimeline()
  t.ok(failures >= 2 && failures <= bank.posts, `the bank's failed attempts are on the timeline (${failures} of ${bank.posts} posts)`)

  bank.behave(() => 200)
  await until('BANK delivered', async () => (await statusOf('registration.completed'))[BANK] === 'delivered')
  t.equal(bank.ofType('registration.completed').length, 1, 'the bank got it once')
  t.equal(w.partner(TAX).server.ofType('registration.completed').length, 1, 'the others were not sent it again')
  t.equal(w.partner(HOUSING).server.ofType('registration.completed').length, 1)
})

t.test('preregistration.completed goes to the bank and the tax bureau only; a dead one is replayed alone', async (t) => {
  const tax = w.partner(TAX).server
  tax.behave(() => 422)
  await w.client(REG).send({ ...validFixture('preregistration.completed').envelope })
  await until('settled', async () => {
    const s = await statusOf('preregistration.completed')
    return s[BANK] === 'delivered' && s[TAX] === 'dead'
  })
  t.same(Object.keys(await statusOf('preregistration.completed')).sort(), [BANK, TAX], 'not the housing bureau')
  const ex = (await caseDoc()).exchanges.find((e) => e.type === 'preregistration.completed')
  const dead = ex?.deliveries.find((d) => d.recipient === TAX)
  t.equal(dead?.attempts, 1, 'a 4xx is final')
  tax.behave(() => 200)
  const ops = w.operatorClient()
  const id = (await w.db.query<{ id: string }>(`SELECT id FROM deliveries WHERE exchange_id = $1 AND recipient = $2`, [ex?.exchangeId, TAX])).rows[0]?.id
  t.equal((await ops.http('POST', `/v1/admin/deliveries/${id}/replay`)).status, 202)
  await until('replayed', async () => (await statusOf('preregistration.completed'))[TAX] === 'delivered')
  t.equal(w.partner(BANK).server.ofType('preregistration.completed').length, 1, 'the bank was not sent it again')
  await ops.close()
})

t.test('the timeline is in time order, however many events it has', async (t) => {
  const events = ((await w.client(REG).getCase(caseId)).json as { timeline: Array<{ at: string }> }).timeline
  t.ok(events.length > 10, `${events.length} events`)
  t.ok(events.every((e, i) => i === 0 || Date.parse(e.at) >= Date.parse(events[i - 1]?.at ?? '')), 'never earlier than the one before')
})

t.test('no personal data in logs or in clear in the database', async (t) => w.checkLogs(t))
