import t from 'tap'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// ledger.enabled false (only to measure the ledger's cost): acceptance works as before, receipts
// name no entry, nothing is written to the ledger, and its endpoints answer 503 TB_ERR_UNAVAILABLE.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'noledger',
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
  config: { ledger: { enabled: false } },
})
t.teardown(() => w.close())
const request = validFixture('tax.assessment.request')

t.test('a gateway without its ledger: receipts without an entry, ledger endpoints 503, nothing written', async (t) => {
  const sent = await w.client(REG).send({ ...request.envelope })
  t.equal(sent.status, 202)
  t.equal(sent.receipt.ledgerEntry, undefined, 'the receipt names no entry')
  await w.partner(TAX).server.waitFor(1)
  t.equal((await w.client(REG).getCase(request.envelope.caseId as string)).status, 200, 'reads are answered')
  for (const path of ['/v1/ledger/checkpoint', '/v1/ledger/proof/inclusion?index=0', '/v1/ledger/proof/consistency?from=0&to=0', '/v1/ledger/entries/0', `/v1/cases/${request.envelope.caseId as string}/evidence`]) {
    const r = await w.client(REG).http('GET', path)
    t.same([r.status, (r.json as { code?: string }).code], [503, 'TB_ERR_UNAVAILABLE'], path)
  }
  await t.rejects(w.client(REG).ledger.prove(sent.receiptJws), { code: 'TB_CLIENT_LEDGER_INVALID' }, 'the SDK says the receipt names no entry')
  t.equal(Number((await w.db.query('SELECT count(*) AS n FROM ledger_entries')).rows[0].n), 0, 'no entry written')
})
