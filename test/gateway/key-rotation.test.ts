import t from 'tap'
import { renameSync, writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CTY_JWS, encryptJwe, PrivateKey } from '../../src/crypto/index.ts'
import { PartnerInbox } from '../../src/client/index.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// Issue 7, item 8: key rotation without downtime. A partner lists two encryption keys and the
// gateway encrypts to the newest valid one; the gateway keeps its previous decryption key; the
// directory reloads without a restart (operator endpoint, SIGHUP): validated first, swapped at
// once, the old one kept on a fault, nothing in flight lost.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const partners = [
  { id: REG, suite: 'national' as const, send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
  { id: TAX, suite: 'national' as const, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
]
const request = validFixture('tax.assessment.request')
const caseNo = (n: number): string => `231202-2026-${String(n).padStart(6, '0')}`

t.test('a directory reload under load loses nothing and keeps the old directory on a bad file', async (t) => {
  // The flow below sends as fast as the machine lets it: no partner quota in the way.
  const w = await World.start({ label: 'reload', partners, config: { quotas: { messagesPerMinute: 1_000_000, queriesPerMinute: 120, queriesInFlight: 4 } } })
  t.teardown(() => w.close())
  const ops = w.operatorClient()
  t.teardown(() => ops.close())
  const newcomer = PrivateKey.generate('BANK:91230100MA1B2C3D49#sign-1', 'ec-p256').privateKey
  const newcomerEnc = PrivateKey.generate('BANK:91230100MA1B2C3D49#enc-1', 'ec-p256').privateKey
  const withNewcomer = (doc: { participants: Array<Record<string, unknown>> }): void => {
    doc.participants.push({
      id: 'BANK:91230100MA1B2C3D49', name: '新银行', adapter: 'native', endpoint: 'http://127.0.0.1:9/unreachable', send: ['mortgage.query'], receive: [],
      signingKeys: [{ kid: newcomer.kid, publicKey: newcomer.publicKey.toPem() }],
      encryptionKey: { kid: newcomerEnc.kid, publicKey: newcomerEnc.publicKey.toPem() },
    })
  }

  // Messages flow the whole time; reloads happen in between.
  const sent: Array<Promise<number>> = []
  let n = 0
  let flowing = true
  const inFlight = new Set<Promise<number>>()
  const flow = (async () => {
    while (flowing) {
      // At most eight at a time: a slow machine sends fewer, it does not pile them up.
      if (inFlight.size >= 8) await Promise.race(inFlight)
      const one = w.client(REG).send({ ...request.envelope, caseId: caseNo(++n) }).then((r) => r.status, (e: { status?: number }) => e.status ?? 0)
      sent.push(one)
      inFlight.add(one)
      void one.then(() => inFlight.delete(one))
      await new Promise((r) => setTimeout(r, 5))
    }
  })()
  const reload = async () => ops.http('POST', '/v1/admin/directory/reload')

  w.writeDirectory(withNewcomer)
  const ok = await reload()
  t.same([ok.status, (ok.json as { version?: number }).version, (ok.json as { participants?: number }).participants], [200, 2, 3], 'reloaded: version 2, the newcomer is in')

  writeFileSync(join(w.dir, 'directory.json'), '{ "version": 1, "participants": [ { "id": "REG:231202" ')
  const broken = await reload()
  t.same([broken.status, (broken.json as { code?: string }).code], [422, 'TB_ERR_DIRECTORY_INVALID'], 'a broken file is refused')
  w.writeDirectory((doc) => { withNewcomer(doc); (doc.participants[0] as { send: string[] }).send = ['no.such.type'] })
  const invalid = await reload()
  t.equal((invalid.json as { code?: string }).code, 'TB_ERR_DIRECTORY_INVALID', 'an invalid one too')
  t.ok(((invalid.json as { violations?: Array<{ pointer: string }> }).violations ?? []).some((v) => v.pointer === '/participants/0/send/0'), 'with the pointer of the fault')
  // (The first message may still be on its way on a busy machine: its case exists once it is accepted.)
  t.equal(await sent[0], 202, 'the first message sent during the reloads was accepted')
  const still = await w.client(REG).getCase(caseNo(1))
  t.equal(still.status, 200, `the old directory is still in force: ${still.text.slice(0, 300)}`)

  const asBank = await w.client(TAX).http('POST', '/v1/admin/directory/reload')
  t.equal((asBank.json as { code?: string }).code, 'TB_ERR_FORBIDDEN', 'operators only')

  w.writeDirectory(withNewcomer)
  t.equal((await reload()).status, 200)
  await new Promise((r) => setTimeout(r, 200))
  flowing = false
  await flow
  const statuses = await Promise.all(sent)
  t.same(statuses.filter((s) => s !== 202), [], `all ${statuses.length} messages sent during the reloads were accepted`)
  const rows = await w.deliveryStatus(60_000)
  t.same(rows, [{ status: 'delivered', n: statuses.length }], 'and every one delivered')
  t.ok(w.logText().includes('participant directory reload refused'), 'the refused reload is logged')
  t.ok(w.logText().includes('participant directory reloaded'), 'and the reloads')

  // The published directory is signed afresh after a reload.
  const published = await w.client(TAX).directory(true)
  t.ok(published.participant('BANK:91230100MA1B2C3D49'), 'the newcomer is published')
})

t.test('SIGHUP reloads the directory of a running `tongban serve`', async (t) => {
  const w = await World.start({ label: 'sighup', partners, subprocess: true })
  t.teardown(() => w.close())
  const ops = w.operatorClient()
  t.teardown(() => ops.close())
  const before = await ops.http('POST', '/v1/admin/directory/reload')
  t.equal((before.json as { version?: number }).version, 2)
  w.writeDirectory((doc) => { (doc.participants[0] as { name: string }).name = '绥化市不动产登记中心（新）' })
  w.signalGateway('SIGHUP')
  const end = Date.now() + 10_000
  let name = ''
  while (Date.now() < end) {
    name = (await w.client(TAX).directory(true)).participant(REG)?.name ?? ''
    if (name.includes('新')) break
    await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(name, '绥化市不动产登记中心（新）', 'the new directory is served')
  t.ok(w.logText().includes('"by":"SIGHUP"'), 'the reload is logged with what asked for it')
})

t.test('a partner with two encryption keys gets the newest valid one', async (t) => {
  const w = await World.start({ label: 'enckeys', partners })
  t.teardown(() => w.close())
  const tax = w.partner(TAX)
  const next = PrivateKey.generate(`${TAX}#enc-2`, 'sm2').privateKey
  const rotate = (notBefore: Date): void => w.writeDirectory((doc) => {
    const p = doc.participants.find((x) => x.id === TAX) as Record<string, unknown>
    const current = p.encryptionKey
    delete p.encryptionKey
    p.encryptionKeys = [current, { kid: next.kid, publicKey: next.publicKey.toPem(), notBefore: notBefore.toISOString() }]
  })
  const ops = w.operatorClient()
  t.teardown(() => ops.close())

  // The new key is listed but not valid yet: deliveries still use the current one.
  rotate(new Date(Date.now() + 3_600_000))
  t.equal((await ops.http('POST', '/v1/admin/directory/reload')).status, 200)
  await w.client(REG).send({ ...request.envelope, caseId: caseNo(1) })
  await tax.server.waitFor(1)

  // Valid from now: the partner now reads only with the new key.
  rotate(new Date(Date.now() - 1_000))
  t.equal((await ops.http('POST', '/v1/admin/directory/reload')).status, 200)
  tax.server.setInbox(new PartnerInbox(next, () => tax.client.directory(true), TAX), tax.client)
  await w.client(REG).send({ ...request.envelope, caseId: caseNo(2) })
  await tax.server.waitFor(2)
  t.same(await w.deliveryStatus(), [{ status: 'delivered', n: 2 }], 'both delivered, each to the key valid at its time')
  const published = (await tax.client.directory(true)).participant(TAX) as unknown as { encryptionKeys?: Array<{ kid: string }> }
  t.same(published.encryptionKeys?.map((k) => k.kid), [tax.encryptionKey.kid, next.kid], 'both keys are published')
})

t.test('the gateway still decrypts what was encrypted to its previous key', async (t) => {
  const w = await World.start({ label: 'gwprev', partners, gatewaySuites: ['national'] })
  t.teardown(() => w.close())
  const keys = join(w.dir, 'gateway')
  const old = PrivateKey.fromPem(`${w.config.gatewayId}#enc-sm2`, readFileSync(join(keys, 'enc-sm2.key.pem'), 'utf8'))
  const sendToOldKey = async (caseId: string) => {
    const reg = w.client(REG)
    const jws = await reg.sign(reg.envelope({ ...request.envelope, caseId }))
    const body = await encryptJwe(Buffer.from(jws, 'latin1'), old.publicKey, { cty: CTY_JWS })
    return reg.sendRaw(body).then((r) => r.status, (e: { problem?: { code?: string } }) => e.problem?.code)
  }

  // Rotation: the current key becomes the previous one, a new key is current; instances restart.
  await w.stopGateway()
  renameSync(join(keys, 'enc-sm2.key.pem'), join(keys, 'enc-sm2.prev.key.pem'))
  writeFileSync(join(keys, 'enc-sm2.key.pem'), PrivateKey.generate('x', 'sm2').privatePem, { mode: 0o600 })
  await w.boot()
  const published = await w.client(REG).directory(true)
  t.notOk(published.gatewayEncryptionKeys.some((k) => k.fingerprint === old.publicKey.fingerprint), 'only the new key is published')
  t.equal(await sendToOldKey(caseNo(1)), 202, 'a partner with an older copy of the directory still gets through')
  t.equal((await w.client(REG).send({ ...request.envelope, caseId: caseNo(2) })).status, 202, 'and one with the new key')

  // Rotation finished: the previous key is removed; what is encrypted to it is refused.
  await w.stopGateway()
  renameSync(join(keys, 'enc-sm2.prev.key.pem'), join(w.dir, 'retired.key.pem'))
  await w.boot()
  t.equal(await sendToOldKey(caseNo(3)), 'TB_ERR_DECRYPT', 'refused once the previous key is gone')
})

t.test('no encryption key valid now: a query is not forwarded, a delivery is a dead letter', async (t) => {
  const BANK = 'BANK:91230100MA1B2C3D49:suihua'
  const w = await World.start({
    label: 'nokey',
    partners: [
      { id: REG, send: ['tax.assessment.request'], receive: ['mortgage.query'] },
      { id: TAX, send: [], receive: ['tax.assessment.request'] },
      { id: BANK, send: ['mortgage.query'], receive: [] },
    ],
  })
  t.teardown(() => w.close())
  const ops = w.operatorClient()
  t.teardown(() => ops.close())
  // The bank's and the tax bureau's only encryption keys expired yesterday.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString()
  w.writeDirectory((doc) => {
    for (const p of doc.participants) if (p.id === BANK || p.id === TAX) (p.encryptionKey as Record<string, unknown>).notAfter = yesterday
  })
  t.equal((await ops.http('POST', '/v1/admin/directory/reload')).status, 200)

  const before = await w.counts()
  const q = await w.client(BANK).query({ ...validFixture('mortgage.query').envelope }).then(() => ({}), (e: { status?: number; problem?: { code?: string } }) => ({ status: e.status, code: e.problem?.code }))
  t.same(q, { status: 401, code: 'TB_ERR_KEY_EXPIRED' }, 'the answer could not be encrypted to the bank: refused before the register is asked')
  t.equal(w.partner(REG).server.queries.length, 0, 'the registration centre was not asked')
  t.same(await w.counts(), before, 'nothing recorded')

  await w.client(REG).send({ ...request.envelope, caseId: caseNo(1) })
  const rows = await w.deliveryStatus()
  t.same(rows, [{ status: 'dead', n: 1 }], 'the delivery to the tax bureau is dead at once (NO_KEY is final)')
  const d = await w.db.query<{ last_error: string }>('SELECT last_error FROM deliveries')
  t.match(d.rows[0]?.last_error ?? '', /^NO_KEY/)
})
