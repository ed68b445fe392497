import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 9: concurrency per recipient is a directory setting per partner (delivery.concurrency),
// and a reload applies it to the running workers. The partner is slow (each delivery takes
// 300 ms): how many it holds at once is what the gateway sends it at once.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'concurrency',
  config: { delivery: { concurrency: 4 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())

let inFlight = 0
let most = 0
w.partner(TAX).server.behave(() => {
  inFlight++
  most = Math.max(most, inFlight)
  setTimeout(() => { inFlight-- }, 300)
  return { status: 200, delayMs: 300 }
})

let n = 0
/** Sends `count` messages at once; how many the partner held at once at most, and the statuses. */
async function burst(count: number): Promise<{ seen: number; statuses: number[] }> {
  most = 0
  const before = w.partner(TAX).server.accepted.size
  const request = validFixture('tax.assessment.request')
  const statuses = await Promise.all(Array.from({ length: count }, async () =>
    (await w.client(REG).send({ ...request.envelope, caseId: `231202-2026-7${String(n++).padStart(6, '0')}` })).status))
  await w.partner(TAX).server.waitFor(before + count, 30_000)
  return { seen: most, statuses }
}

t.test('the gateway\'s default: up to delivery.concurrency (4) at once', async (t) => {
  const { seen, statuses } = await burst(8)
  t.same(statuses, Array(8).fill(202), 'accepted')
  t.ok(seen > 1 && seen <= 4, `at most 4 in flight, more than one (saw ${seen})`)
})

t.test('the directory entry says 1, a reload applies it: one at a time', async (t) => {
  w.writeDirectory((doc) => {
    const tax = doc.participants.find((p) => p.id === TAX)!
    tax.delivery = { concurrency: 1 }
  })
  const ops = w.operatorClient()
  const r = await ops.http('POST', '/v1/admin/directory/reload')
  t.equal(r.status, 200, 'reloaded')
  await ops.close()
  const { seen, statuses } = await burst(6)
  t.same(statuses, Array(6).fill(202), 'accepted')
  t.equal(seen, 1, 'one delivery in flight at a time')
})

t.test('a value outside 1..256 is a directory fault', async (t) => {
  w.writeDirectory((doc) => {
    doc.participants.find((p) => p.id === TAX)!.delivery = { concurrency: 0 }
  })
  const ops = w.operatorClient()
  const r = await ops.http('POST', '/v1/admin/directory/reload')
  t.equal(r.status, 422)
  t.match(r.text, /delivery\/concurrency/)
  await ops.close()
  w.writeDirectory()
})
