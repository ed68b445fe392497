import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'
import { until } from '../helpers/wait.ts'

// Deliveries that can never succeed become dead letters the operators see, with the reason,
// instead of staying pending for ever or looping past their attempts (review findings).
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'deadends',
  // A second between attempts: the test acts between the first and the next, even on a slow machine.
  config: { delivery: { attempts: 5, backoffMs: 1_000, maxBackoffMs: 1_000, maxAgeSeconds: 3600, sweepIntervalMs: 300, sweepGraceMs: 300, concurrency: 2, lockMs: 2_000 } },
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())
const status = async (exchangeId: string): Promise<{ status: string; lastError: string | null; attempts: number }> =>
  (await w.db.query<{ status: string; lastError: string | null; attempts: number }>(`SELECT status, last_error AS "lastError", attempts FROM deliveries WHERE exchange_id = $1`, [exchangeId])).rows[0] as { status: string; lastError: string | null; attempts: number }

t.test('a stored message that cannot be read is final at once', async (t) => {
  w.partner(TAX).server.behave(() => 503)
  const sent = await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope })
  await until('a first failed attempt', async () => (await status(sent.exchangeId)).attempts >= 1)
  // Someone tampers with the sealed message at rest: it no longer opens (AES-GCM, bound to its exchange).
  await w.db.query(`UPDATE exchanges SET message_sealed = set_byte(message_sealed, 40, get_byte(message_sealed, 40) # 1) WHERE id = $1`, [sent.exchangeId])
  await until('dead', async () => (await status(sent.exchangeId)).status === 'dead')
  const s = await status(sent.exchangeId)
  t.match(s.lastError, /^STORE: /)
  t.ok(s.attempts < 5, `not retried to the end (${s.attempts} attempts)`)
  t.notMatch(w.logText(), /"lastError"|message_sealed/, 'nothing of the message in the log')
})

t.test('a recipient removed from the directory: its pending deliveries become dead letters', async (t) => {
  w.partner(TAX).server.behave(() => 503)
  const sent = await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope, caseId: '231202-2026-000777' })
  await until('pending, tried', async () => (await status(sent.exchangeId)).attempts >= 1)
  await w.stopGateway()
  // The tax bureau leaves the directory (REG's receive list no longer mentions it either).
  w.writeDirectory((doc) => { doc.participants = doc.participants.filter((p) => p.id !== TAX) })
  await w.boot()
  await until('dead', async () => (await status(sent.exchangeId)).status === 'dead')
  t.match((await status(sent.exchangeId)).lastError, /^NO_ROUTE: /)
  const ops = w.operatorClient()
  const dead = (await ops.http('GET', '/v1/admin/deliveries?status=dead')).json as { deliveries: Array<{ exchangeId: string }> }
  t.ok(dead.deliveries.some((d) => d.exchangeId === sent.exchangeId), 'listed for the operators')
  await ops.close()
})
