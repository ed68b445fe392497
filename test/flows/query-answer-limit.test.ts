import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 7 §10: a partner's answer to a synchronous query is read up to queries.maxAnswerBytes
// (1 MiB by default), no further: a 5 MiB answer is 502 TB_ERR_PARTNER_BAD_ANSWER with the reason,
// and the gateway stopped reading it.
const REG = 'REG:231202'
const BANK = 'BANK:91230100MA1B2C3D49:suihua'
const MiB = 1_048_576

const w = await World.start({
  label: 'qlimit',
  partners: [
    { id: REG, suite: 'national', send: [], receive: ['mortgage.query'] },
    { id: BANK, suite: 'national', send: ['mortgage.query'], receive: [] },
  ],
})
t.teardown(() => w.close())

const query = validFixture('mortgage.query')
const problem = async (p: Promise<unknown>): Promise<Record<string, unknown>> =>
  p.then(() => ({ code: 'answered' }), (e: unknown) => (e as { problem?: Record<string, unknown> }).problem ?? {})

t.test('a 5 MiB answer is refused as a bad answer, the read cut at the bound', async (t) => {
  w.partner(REG).server.onQuery(async () => ({ jose: 'A'.repeat(5 * MiB) }))
  const e = await problem(w.client(BANK).query({ ...query.envelope }))
  t.same([e.code, e.status, e.fault], ['TB_ERR_PARTNER_BAD_ANSWER', 502, 'partner'])
  t.equal(e.reason, 'answer too large', 'the problem says why')
  t.equal(e.maxAnswerBytes, MiB, 'and the bound')
  t.ok(w.logs.some((l) => l.includes('query answer too large')), 'the gateway logged it')
})

t.test('an answer within the bound is still read (and judged on its content)', async (t) => {
  // Not a JWE: refused for what it is, not for its size.
  w.partner(REG).server.onQuery(async () => ({ jose: 'A'.repeat(MiB - 1024) }))
  const e = await problem(w.client(BANK).query({ ...query.envelope }))
  t.equal(e.code, 'TB_ERR_PARTNER_BAD_ANSWER')
  t.not(e.reason, 'answer too large')
})

t.test('queries.maxAnswerBytes sets the bound', async (t) => {
  await w.stopGateway()
  await w.boot({ queries: { maxAnswerBytes: 4096 } })
  w.partner(REG).server.onQuery(async () => ({ jose: 'A'.repeat(8192) }))
  const e = await problem(w.client(BANK).query({ ...query.envelope }))
  t.same([e.code, e.reason, e.maxAnswerBytes], ['TB_ERR_PARTNER_BAD_ANSWER', 'answer too large', 4096])
})
