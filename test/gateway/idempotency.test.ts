import t from 'tap'
import { digestHex } from '../../src/crypto/index.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// DESIGN §4: `id` is unique per sender; a repeat with the same bytes returns the original
// receipt (200), a repeat with different bytes is 409.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'idem',
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())
const reg = w.client(REG)
const request = validFixture('tax.assessment.request')

t.test('the same bytes again: 200 with the original receipt, nothing new stored or delivered', async (t) => {
  const env = reg.envelope(request.envelope)
  const body = await reg.encrypt(await reg.sign(env))
  const first = await reg.sendRaw(body, env.id)
  t.equal(first.status, 202)
  const before = await w.counts()
  const again = await reg.sendRaw(body, env.id)
  t.equal(again.status, 200)
  t.equal(again.receiptJws, first.receiptJws, 'byte-for-byte the original receipt')
  t.equal(again.exchangeId, first.exchangeId)
  t.same(await w.counts(), before)
  await w.partner(TAX).server.waitFor(1)
  await new Promise((r) => setTimeout(r, 300))
  t.equal(w.partner(TAX).server.accepted.get(env.id), 1, 'delivered once')
})

t.test('the same id with other bytes: 409 TB_ERR_DUPLICATE_ID', async (t) => {
  const env = reg.envelope({ ...request.envelope, caseId: '231202-2026-000124' })
  const first = await reg.sendRaw(await reg.encrypt(await reg.sign(env)), env.id)
  t.equal(first.status, 202)
  const before = await w.counts()
  const other = { ...reg.envelope({ ...request.envelope, caseId: '231202-2026-000124' }), id: env.id }
  const res = await reg.http('POST', '/v1/messages', await reg.encrypt(await reg.sign(other)))
  t.equal(res.status, 409)
  t.equal((res.json as { code: string }).code, 'TB_ERR_DUPLICATE_ID')
  t.same(await w.counts(), before)
  // Re-encrypting the same JWS changes the request bytes too: also a different message.
  const jws = await reg.sign(env)
  const reenc = await reg.http('POST', '/v1/messages', await reg.encrypt(jws))
  t.equal(reenc.status, 409, 'a fresh encryption is other bytes')
})

t.test('concurrent identical retries: one exchange, every answer carries the same receipt', async (t) => {
  const env = reg.envelope({ ...request.envelope, caseId: '231202-2026-000125' })
  const body = await reg.encrypt(await reg.sign(env))
  const before = await w.counts()
  const results = await Promise.all(Array.from({ length: 6 }, () => reg.sendRaw(body, env.id)))
  t.same(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 202])
  t.equal(new Set(results.map((r) => r.receiptJws)).size, 1)
  const after = await w.counts()
  t.equal(after.exchanges, before.exchanges + 1)
  t.equal(after.deliveries, before.deliveries + 1)
})

t.test('a retry after an attempt that died before committing (gateway crash) is accepted, not a replay', async (t) => {
  const env = reg.envelope({ ...request.envelope, caseId: '231202-2026-000126' })
  const body = await reg.encrypt(await reg.sign(env))
  // What the dead attempt left: its nonce claimed in Redis, nothing in PostgreSQL.
  const digest = digestHex('international', Buffer.from(body, 'latin1'))
  await w.redis.set(`${w.prefix}:nonce:msg:${REG}:${env.nonce}`, `${env.id}:${digest}`, 'PX', 600_000)
  const res = await reg.sendRaw(body, env.id)
  t.equal(res.status, 202)
  // The same nonce under another message id is still a replay.
  const other = { ...reg.envelope({ ...request.envelope, caseId: '231202-2026-000127' }), nonce: env.nonce }
  const r = await reg.http('POST', '/v1/messages', await reg.encrypt(await reg.sign(other)))
  t.equal((r.json as { code: string }).code, 'TB_ERR_REPLAY')
})

t.test('the gateway logged no personal data', async (t) => w.checkLogs(t))
