import t from 'tap'
import { PartnerInbox } from '../../src/client/index.ts'
import { CTY_JWS, encryptJwe } from '../../src/crypto/index.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Review finding: anyone holding a genuine JWS (e.g. a recipient of a fan-out) could encrypt it
// to another partner and post it there as if the gateway had delivered it. Each native delivery
// now carries the gateway's signed statement (Tongban-Delivery): this exchange, from whom, to
// whom, the digest of exactly this JWS. The SDK's PartnerInbox requires it.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const OTHER = 'TAX:231221'
for (const suite of ['national', 'international'] as const) {
  t.test(`${suite} suite`, async (t) => {
    const w = await World.start({
      label: `stmt${suite.slice(0, 3)}`,
      partners: [
        { id: REG, suite, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
        { id: TAX, suite, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
        { id: OTHER, suite, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
      ],
    })
    t.teardown(() => w.close())
    const sent = await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope })
    await w.partner(TAX).server.waitFor(1)
    const got = w.partner(TAX).server.received[0]
    const statement = String(got?.headers['tongban-delivery'] ?? '')
    t.ok(statement.split('.').length === 3, 'the delivery carried a statement')
    t.equal(got?.delivery.statement.exchangeId, sent.exchangeId, 'signed by the gateway: the exchange id, what repeats are dropped by')
    t.equal(got?.delivery.statement.to, TAX)

    const inboxOf = (id: string): PartnerInbox => new PartnerInbox(w.partner(id).encryptionKey, () => w.client(id).directory(), id)
    const jws = got?.delivery.jws ?? ''
    // The genuine JWS, encrypted by someone else to another partner.
    const forOther = await encryptJwe(Buffer.from(jws, 'latin1'), w.partner(OTHER).encryptionKey.publicKey, { cty: CTY_JWS })
    await t.rejects(inboxOf(OTHER).open(forOther, undefined), { code: 'TB_CLIENT_DELIVERY_INVALID', message: /no gateway statement/ }, 'refused without a statement, with the SDK\'s code')
    await t.rejects(inboxOf(OTHER).open(forOther, statement), /delivered this to someone else/, 'refused with the real recipient\'s statement')
    // The real recipient, but the statement of another message.
    const second = await w.client(REG).send({ ...validFixture('tax.assessment.request').envelope, caseId: '231202-2026-000321' })
    await w.partner(TAX).server.waitFor(2)
    const otherStatement = String(w.partner(TAX).server.received.find((r) => r.delivery.statement.exchangeId === second.exchangeId)?.headers['tongban-delivery'])
    const forTax = await encryptJwe(Buffer.from(jws, 'latin1'), w.partner(TAX).encryptionKey.publicKey, { cty: CTY_JWS })
    await t.rejects(inboxOf(TAX).open(forTax, otherStatement), /for another message/, 'a statement vouches for exactly one JWS')
    // A statement not signed by the gateway.
    const forged = statement.slice(0, -6) + (statement.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA')
    await t.rejects(inboxOf(TAX).open(forTax, forged), /not signed by the gateway/)
    // And the genuine pair opens.
    const ok = await inboxOf(TAX).open(forTax, statement)
    t.equal(ok.envelope.id, sent.receipt.messageId)
  })
}
