import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileCheckpointStore, LedgerClient, MemoryCheckpointStore, PrivateKey, TongbanClient } from '../../src/client/index.ts'
import { parseTlogProof } from '../../src/ledger/note.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 8, "a rewritten log is caught by a partner": the SDK proves a receipt's entry is in the
// signed tree and that each checkpoint extends the last one it saw. The gateway's log is then
// rebuilt with one entry changed (and re-signed with the gateway's own key): a client that saw
// the earlier checkpoint refuses it.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'ledgersdk',
  partners: [
    { id: REG, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
  // The integrator is driven by the test (settle), so an entry can be caught before it is placed.
  config: { ledger: { integrateMs: 60_000, checkpointMs: 10_000 } },
})
t.teardown(() => w.close())
const dir = mkdtempSync(join(tmpdir(), 'tongban-ledgersdk-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const seenFile = join(dir, 'seen-checkpoint.json')

/** A client of REG that keeps the checkpoints it saw in `file`. */
function regClient(file: string, gatewayKeys = w.gatewaySigningKeys()): TongbanClient {
  const p = w.partner(REG)
  return new TongbanClient({ baseUrl: w.url, participantId: REG, signingKey: p.signingKey, encryptionKey: p.encryptionKey, gatewayKeys, checkpointStore: new FileCheckpointStore(file) })
}
const reg = regClient(seenFile)
t.teardown(() => reg.close())
const request = validFixture('tax.assessment.request')
const paid = validFixture('tax.payment.completed')

t.test('a receipt is proved in the signed log; a later one too, consistent with the first checkpoint seen', async (t) => {
  const first = await reg.send({ ...request.envelope })
  await t.rejects(reg.ledger.prove(first.receiptJws), { code: 'TB_CLIENT_LEDGER_PENDING' }, 'not yet placed: ask again later')
  await w.app.tb.ledger.settle()
  const proof = await reg.ledger.prove(first.receiptJws)
  t.equal(proof.entryId, first.receipt.ledgerEntry)
  t.equal(JSON.parse(proof.entry).exchangeId, first.exchangeId)
  t.equal(parseTlogProof(proof.tlogProof).index, proof.leafIndex, 'a C2SP tlog-proof to keep with the receipt')
  const size1 = proof.checkpoint.treeSize

  await w.partner(TAX).server.waitFor(1)
  const second = await w.client(TAX).send({ ...paid.envelope })
  await w.partner(REG).server.waitFor(1)
  await w.app.tb.ledger.settle()
  const again = await reg.ledger.prove(first.receiptJws)
  t.ok(again.checkpoint.treeSize > size1, 'the first receipt, proved again to a larger tree, consistent with the first')
  t.equal((await w.client(TAX).ledger.prove(second.receipt)).entryId, second.receipt.ledgerEntry, 'a receipt object works as well as its JWS')
  const restarted = regClient(seenFile)
  t.equal((await restarted.ledger.checkpoint()).treeSize, again.checkpoint.treeSize, 'the seen checkpoint survives a restart (file)')
  await restarted.close()
})

t.test('the SDK refuses evidence that is not this receipt\'s, or not signed by the pinned gateway keys', async (t) => {
  const { id: _id, nonce: _nonce, ...rest } = request.envelope as Record<string, unknown>
  const sent = await reg.send({ ...(rest as typeof request.envelope) })
  await w.app.tb.ledger.settle()
  await t.rejects(reg.ledger.prove({ ...sent.receipt, digest: '0'.repeat(64) }), { code: 'TB_CLIENT_LEDGER_INVALID' }, 'the entry records other bytes')
  await t.rejects(reg.ledger.prove({ ...sent.receipt, ledgerEntry: undefined }), { code: 'TB_CLIENT_LEDGER_INVALID' }, 'no entry named')
  // The gateway as seen by a client that pinned other keys (an impostor's log, from its point of view).
  const stranger = new LedgerClient((method, path) => reg.http(method, path), [PrivateKey.generate('x', 'sm2').privateKey.publicKey, PrivateKey.generate('y', 'ec-p256').privateKey.publicKey], new MemoryCheckpointStore())
  await t.rejects(stranger.checkpoint(), { code: 'TB_CLIENT_LEDGER_INVALID', message: /pinned gateway key/ }, 'a checkpoint the pinned keys did not sign')
})

t.test('a gateway whose log is rebuilt with one entry changed is caught by a client that saw an earlier checkpoint', async (t) => {
  const before = await reg.ledger.checkpoint()
  // The operator with database rights rewrites history: one entry changed, the tree rebuilt from
  // scratch by the integrator and signed again with the gateway's own keys.
  const c = await w.db.connect()
  try {
    await c.query('BEGIN')
    await c.query('SET LOCAL session_replication_role = replica')
    await c.query(`UPDATE ledger_entries SET entry = replace(entry, '"what":"cases"', '"what":"queries"') WHERE kind = 'case.read'`)
    await c.query(`UPDATE ledger_entries SET entry = replace(entry, '"kind":"keys.loaded"', '"kind":"keys.loaded","rewritten":true') WHERE leaf_index = 0`)
    await c.query('UPDATE ledger_entries SET leaf_index = NULL')
    await c.query('DELETE FROM ledger_nodes')
    await c.query('DELETE FROM ledger_checkpoints')
    await c.query(`UPDATE ledger_state SET tree_size = 0, root_hash = '\\x00'`)
    await c.query('COMMIT')
  } finally {
    c.release()
  }
  await w.app.tb.ledger.write('case.read', { reader: REG, what: 'cases', count: 1 })
  await w.app.tb.ledger.settle()
  const fresh = regClient(join(dir, 'fresh.json'))
  const rebuilt = await fresh.ledger.checkpoint()
  t.ok(rebuilt.treeSize > before.treeSize, 'a client that never saw the old log accepts the rebuilt one (it is properly signed)')
  await fresh.close()
  await t.rejects(reg.ledger.checkpoint(), { code: 'TB_CLIENT_LEDGER_INCONSISTENT' }, 'the client that saw the earlier checkpoint catches the rewrite')
  const restarted = regClient(seenFile)
  await t.rejects(restarted.ledger.checkpoint(), { code: 'TB_CLIENT_LEDGER_INCONSISTENT' }, 'and so does it after a restart, from its file')
  await restarted.close()
})
