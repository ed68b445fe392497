import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { TestClock } from '../helpers/clock.ts'
import { World } from '../helpers/world.ts'

// Issue 9: a new message costs one PostgreSQL round trip: whether its id is already stored is
// asked only when it can matter. The answers must stay as if it were asked first: a message
// already stored under its id gets the original receipt for the same bytes (200) and
// TB_ERR_DUPLICATE_ID for other bytes, whatever else is now wrong with it — its iat past the
// replay window, its nonce in use, a directory that no longer lets the sender send it.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const clock = new TestClock()
const w = await World.start({
  label: 'repeatfirst',
  clock,
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())
const request = validFixture('tax.assessment.request')
const window = w.config.limits.replayWindowSeconds * 1000

let n = 0
/** A refusal's status and code (sendRaw throws on one). */
const post = async (body: string): Promise<{ status: number; code: string | undefined }> => {
  const r = await w.client(REG).http('POST', '/v1/messages', body)
  return { status: r.status, code: (r.json as { code?: string } | undefined)?.code }
}
const caseId = (): string => `231202-2026-4${String(n++).padStart(6, '0')}`

t.test('the same bytes after the replay window: the original receipt, not a stale iat', async (t) => {
  const reg = w.client(REG)
  const env = reg.envelope({ ...request.envelope, caseId: caseId() })
  const body = await reg.encrypt(await reg.sign(env))
  const first = await reg.sendRaw(body, env.id)
  t.equal(first.status, 202)
  clock.advance(window + 60_000)
  const again = await reg.sendRaw(body, env.id)
  t.equal(again.status, 200, 'an identical repeat, answered')
  t.equal(again.receiptJws, first.receiptJws, 'with the original receipt')
  // Other bytes under the same id, stale too: the id's conflict is what the sender needs to know.
  const other = reg.envelope({ ...request.envelope, caseId: caseId(), id: env.id, iat: env.iat })
  const r = await post(await reg.encrypt(await reg.sign(other)))
  t.equal(r.status, 409)
  t.equal(r.code, 'TB_ERR_DUPLICATE_ID', 'not TB_ERR_IAT')
  // A stale message with an id never used: refused for its iat.
  const stale = reg.envelope({ ...request.envelope, caseId: caseId(), iat: env.iat })
  const s = await post(await reg.encrypt(await reg.sign(stale)))
  t.equal(s.status, 400)
  t.match(s.code, /^TB_ERR_IAT/)
})

t.test('other bytes with the same id and nonce: TB_ERR_DUPLICATE_ID, not a replay', async (t) => {
  const reg = w.client(REG)
  const env = reg.envelope({ ...request.envelope, caseId: caseId() })
  t.equal((await reg.sendRaw(await reg.encrypt(await reg.sign(env)), env.id)).status, 202)
  const other = reg.envelope({ ...request.envelope, caseId: caseId(), id: env.id, nonce: env.nonce })
  const r = await post(await reg.encrypt(await reg.sign(other)))
  t.equal(r.code, 'TB_ERR_DUPLICATE_ID')
  // A new id with that nonce: a replay.
  const replay = reg.envelope({ ...request.envelope, caseId: caseId(), nonce: env.nonce })
  const p = await post(await reg.encrypt(await reg.sign(replay)))
  t.equal(p.status, 409)
  t.equal(p.code, 'TB_ERR_REPLAY')
})

t.test('the sender may no longer send the type: an identical repeat still gets its receipt', async (t) => {
  const reg = w.client(REG)
  const env = reg.envelope({ ...request.envelope, caseId: caseId() })
  const body = await reg.encrypt(await reg.sign(env))
  const first = await reg.sendRaw(body, env.id)
  t.equal(first.status, 202)
  w.writeDirectory((doc) => { doc.participants.find((p) => p.id === REG)!.send = ['tax.payment.completed'] })
  const ops = w.operatorClient()
  t.equal((await ops.http('POST', '/v1/admin/directory/reload')).status, 200)
  const again = await reg.sendRaw(body, env.id)
  t.equal(again.status, 200)
  t.equal(again.exchangeId, first.exchangeId)
  const fresh = reg.envelope({ ...request.envelope, caseId: caseId() })
  const f = await post(await reg.encrypt(await reg.sign(fresh)))
  t.equal(f.status, 403, 'a new one is refused')
  w.writeDirectory()
  t.equal((await ops.http('POST', '/v1/admin/directory/reload')).status, 200)
  await ops.close()
})

t.test('one exchange per message id after all of it', async (t) => {
  const rows = (await w.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM exchanges GROUP BY sender, message_id HAVING count(*) > 1) d`)).rows
  t.equal(rows[0]!.n, 0)
})
