import t from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ADAPTERS } from '../../adapters/index.ts'
import type { ReferencePartner } from '../../adapters/reference.ts'
import { signatureHeaders } from '../../adapters/legacy-tax/signature.ts'
import { hmacHex } from '../../src/crypto/index.ts'
import { DeliveryError } from '../../src/outbound/adapter.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { AdapterBench, signedMessage } from './helpers.ts'

// Review finding: a vendor answer was bound to nothing but its MAC and time window, so within
// ±300 s a replayed {"fhm":"0000"} could mark an undelivered 征税信息 delivered. The answer must
// echo the request's 流水号 (the exchange id); an authentic answer to another request is not
// taken as this one's (retried, so nothing is lost).
let answerLsh: (requested: string) => string | undefined = (l) => l
let server: Server | undefined
const vendor = (secret: Buffer): ReferencePartner => {
  let endpoint = ''
  return {
    directoryEntry: {},
    get endpoint() { return endpoint },
    async start() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const lsh = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { lsh: string }).lsh
          const echoed = answerLsh(lsh)
          const body = Buffer.from(JSON.stringify({ fhm: '0000', fhxx: '接收成功', ...(echoed !== undefined ? { lsh: echoed } : {}) }))
          res.writeHead(200, { 'content-type': 'application/json', ...signatureHeaders(body, new Date(), (d) => hmacHex('SM3', secret, d)) }).end(body)
        })
      })
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/zsxx`
    },
    behave() {},
    received: () => [],
    async stop() { await new Promise<void>((r) => server?.close(() => r())) },
  }
}

const adapter = ADAPTERS.get('legacy-tax')!
const { bench, sender } = await AdapterBench.start('legacy-tax', 'national', (o) => vendor(o.secret as Buffer))
t.teardown(() => bench.close())
const message = await signedMessage(validFixture('tax.assessment.request'), sender)

t.test('an answer echoing this request\'s 流水号 (the exchange id) is a delivery', async (t) => {
  answerLsh = (l) => l
  await adapter.deliver(message, bench.ctx)
  t.pass('delivered')
})

t.test('an authentic answer to another request, or one that echoes nothing, is retried', async (t) => {
  for (const [why, lie] of [['another request\'s', () => 'some-other-exchange-id'], ['none', () => undefined]] as const) {
    answerLsh = lie
    const err = await adapter.deliver(message, bench.ctx).then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof DeliveryError, `${why} 流水号: refused`)
    t.equal((err as DeliveryError).code, 'PARTNER_BAD_ANSWER')
    t.equal((err as DeliveryError).retry, true, 'retried: the vendor may not have it')
  }
})
