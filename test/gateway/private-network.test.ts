import t from 'tap'
import { ADAPTERS } from '../../adapters/index.ts'
import { Directory, DirectoryError } from '../../src/core/directory.ts'
import { createMessageValidator } from '../../src/core/schemas.ts'
import { PrivateKey } from '../../src/crypto/index.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

// DESIGN §4: encryption may be waived per participant only on a link the configuration marks as
// a private network (e.g. 金土工程网), and only for requests from that link's source addresses
// (issue 7 item 9: the mark alone was enough, from anywhere); a signature never is.
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const w = await World.start({
  label: 'privnet',
  partners: [
    // The world's clients send from 127.0.0.1: a link whose sources are 10.0.0.0/8 is not theirs.
    { id: REG, privateNetwork: ['10.0.0.0/8'], send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
    { id: TAX, send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
  ],
})
t.teardown(() => w.close())

const request = validFixture('tax.assessment.request')
const code = (r: { json: unknown }): string | undefined => (r.json as { code?: string } | undefined)?.code

/** Rewrites REG's private-network sources and restarts the gateway with them. */
async function regSources(sources: readonly string[]): Promise<void> {
  w.writeDirectory((doc) => {
    const reg = doc.participants.find((p) => p.id === REG) as Record<string, unknown>
    reg.privateNetwork = { sources }
  })
  await w.stopGateway()
  await w.boot()
}

t.test('attack: a bare JWS from outside the link\'s sources is refused, nothing stored', async (t) => {
  const reg = w.client(REG)
  const before = await w.counts()
  const res = await reg.http('POST', '/v1/messages', await reg.sign(reg.envelope({ ...request.envelope, caseId: '231202-2026-000601' })))
  t.equal(res.status, 400)
  t.equal(code(res), 'TB_ERR_ENCRYPTION_REQUIRED', 'the private-network mark alone does not waive encryption')
  t.same(await w.counts(), before, 'no exchange, delivery, case or job')
  // The same participant, encrypting, is served as any other.
  const ok = await reg.http('POST', '/v1/messages', await reg.encrypt(await reg.sign(reg.envelope({ ...request.envelope, caseId: '231202-2026-000602' }))))
  t.equal(ok.status, 202, 'an encrypted message from anywhere is accepted')
  // Delivered before the next test restarts the gateway (the partner reads the directory from it).
  await w.partner(TAX).server.waitFor(1)
})

t.test('from one of the link\'s sources a bare signed JWS is accepted, and delivered encrypted', async (t) => {
  await regSources(['127.0.0.1/32'])
  const reg = w.client(REG)
  const env = reg.envelope({ ...request.envelope, caseId: '231202-2026-000603' })
  const res = await reg.http('POST', '/v1/messages', await reg.sign(env))
  t.equal(res.status, 202)
  await w.partner(TAX).server.waitFor(2)
  t.ok(w.partner(TAX).server.received.some((r) => r.delivery.envelope.id === env.id), 'the partner got it (its link is encrypted)')
})

t.test('the signature is never waived', async (t) => {
  const reg = w.client(REG)
  const env = reg.envelope({ ...request.envelope, caseId: '231202-2026-000600' })
  const jws = await reg.sign(env)
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'tongban+jws', kid: `${REG}#sign-1` })).toString('base64url')}.${jws.split('.')[1]}.`
  const r1 = await reg.http('POST', '/v1/messages', unsigned)
  t.ok(['TB_ERR_JOSE_MALFORMED', 'TB_ERR_ALG_UNSUPPORTED', 'TB_ERR_SIGNATURE_INVALID'].includes(code(r1) ?? ''), `alg none refused (${code(r1)})`)
  const [h, p, s] = jws.split('.') as [string, string, string]
  const sig = Buffer.from(s, 'base64url')
  sig[0] = (sig[0] ?? 0) ^ 1
  const r2 = await reg.http('POST', '/v1/messages', `${h}.${p}.${sig.toString('base64url')}`)
  t.equal(code(r2), 'TB_ERR_SIGNATURE_INVALID')
})

t.test('a participant not on a private network must encrypt', async (t) => {
  const tax = w.client(TAX)
  const res = await tax.http('POST', '/v1/messages', await tax.sign(tax.envelope({ ...validFixture('tax.payment.completed').envelope })))
  t.equal(code(res), 'TB_ERR_ENCRYPTION_REQUIRED')
})

t.test('the directory refuses a private-network mark without sources, or with bad ones', async (t) => {
  const validator = createMessageValidator()
  const checks = { adapters: ADAPTERS, knownType: (type: string) => validator.types().some((x) => x.type === type) }
  const key = PrivateKey.generate('x', 'ec-p256').privateKey.publicKey.toPem()
  const load = (privateNetwork: unknown): readonly string[] => {
    const doc = {
      version: 1,
      participants: [{
        id: REG, name: 'agency', signingKeys: [{ kid: `${REG}#s1`, publicKey: key }], encryptionKey: { kid: `${REG}#e1`, publicKey: key },
        endpoint: 'http://127.0.0.1:1/inbox', adapter: 'native', send: [], receive: ['tax.payment.completed'], privateNetwork,
      }],
    }
    try {
      Directory.fromJson(doc, checks, { file: 'test.json', baseDir: '.' })
      return []
    } catch (err) {
      if (err instanceof DirectoryError) return err.problems
      throw err
    }
  }
  const expect = (a: typeof t, privateNetwork: unknown, want: RegExp | null, why: string): void => {
    const problems = load(privateNetwork).join('\n')
    if (want === null) a.equal(problems, '', why)
    else a.match(problems, want, why)
  }
  expect(t, { sources: ['10.1.0.0/16', 'fd00:1::/64', '127.0.0.1'] }, null, 'IPv4 and IPv6 CIDRs, and a bare address')
  expect(t, false, null, 'false is the same as absent')
  expect(t, true, /^\/participants\/0\/privateNetwork: true is no longer enough: give the link's source addresses/, 'true alone: a load error with a hint')
  expect(t, { sources: [] }, /^\/participants\/0\/privateNetwork\/sources: must NOT have fewer than 1 items/, 'no sources')
  expect(t, { sources: ['10.1.0.0/33'] }, /^\/participants\/0\/privateNetwork\/sources\/0: the prefix length of an IPv4 CIDR is 0 to 32/, 'a prefix too long')
  expect(t, { sources: ['127.0.0.1/32', 'intranet.local'] }, /^\/participants\/0\/privateNetwork\/sources\/1: not an IPv4 or IPv6 address/, 'a name, not an address')
  expect(t, { cidrs: ['10.0.0.0/8'] }, /^\/participants\/0\/privateNetwork: must have required property 'sources'/, 'a misspelt key')
})
