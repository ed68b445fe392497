import t from 'tap'
import { parseJws } from '../../src/crypto/index.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 3 §3: the registration → tax → registration loop in the national suite (SM2SM3
// signatures, SM2 + SM4-CBC-HMAC-SM3 encryption), and with one partner in each suite; the
// gateway answers each sender in its own suite.
const request = validFixture('tax.assessment.request')
const paid = validFixture('tax.payment.completed')

for (const [label, regSuite, taxSuite] of [
  ['both national', 'national', 'national'],
  ['REG national, TAX international', 'national', 'international'],
  ['REG international, TAX national', 'international', 'national'],
] as const) {
  t.test(label, async (t) => {
    const REG = 'REG:231202'
    const TAX = 'TAX:231202'
    const w = await World.start({
      label: `nat${regSuite[0]}${taxSuite[0]}`,
      partners: [
        { id: REG, suite: regSuite, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
        { id: TAX, suite: taxSuite, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
      ],
    })
    t.teardown(() => w.close())

    const sent = await w.client(REG).send({ ...request.envelope })
    t.equal(parseJws(sent.receiptJws).header.alg, regSuite === 'national' ? 'SM2SM3' : 'ES256', 'the receipt is signed in the sender\'s suite')
    t.equal(sent.receipt.digest.length, 64, 'digest: SM3 or SHA-256, hex')
    await w.partner(TAX).server.waitFor(1)
    const d = w.partner(TAX).server.received[0]
    t.equal(d?.delivery.envelope.from, REG)
    t.equal(parseJws(d?.delivery.jws ?? '').header.alg, regSuite === 'national' ? 'SM2SM3' : 'ES256', 'the tax bureau verified the original SM2/ES256 signature')

    const back = await w.client(TAX).send({ ...paid.envelope })
    t.equal(parseJws(back.receiptJws).header.alg, taxSuite === 'national' ? 'SM2SM3' : 'ES256')
    await w.partner(REG).server.waitFor(1)
    t.equal(w.partner(REG).server.ofType('tax.payment.completed').length, 1)
    const c = await w.client(REG).getCase(request.envelope.caseId as string)
    t.same((c.json as { steps: Array<{ status: string }> }).steps.map((s) => s.status), ['completed'])
    const { rows } = await w.db.query<{ suite: string }>('SELECT suite FROM exchanges ORDER BY received_at')
    t.same(rows.map((r) => r.suite), [regSuite, taxSuite])
    await w.checkLogs(t)
  })
}
