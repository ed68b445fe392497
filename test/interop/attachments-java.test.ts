// Issue 10 §2: the attachment stream is implementable from docs/protocol.md alone. A Java program
// (Bouncy Castle primitives, test/interop/java/TongbanInterop.java) writes an upload to a running
// gateway's national key — the gateway stores it and a recipient reads it back with the SDK — and
// reads the stream the gateway sends a recipient, checking every record's tag and the file's SM3
// digest. A missing Java or bcprov.jar makes this test fail, not skip (.ci/run installs them).
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { digestHex } from '../../src/crypto/index.ts'
import { Sm2PublicKey } from '../../src/crypto/sm/index.ts'
import { readPrivatePem } from '../../src/crypto/sm/pem.ts'
import { BCPROV_JAR, javaProblem } from '../crypto/helpers/tools.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

const PROGRAM = fileURLToPath(new URL('./java/TongbanInterop.java', import.meta.url))
const REG = 'REG:231202'
const TAX = 'TAX:231202'
const TYPE = 'application/vnd.tongban.attachment'
const hex = (b: Buffer | string): string => Buffer.from(b).toString('hex')

/** One JVM for the requests given; each answer "OK …" or "ERR …". (Not spawnSync: the gateway runs in this process.) */
function java(requests: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-cp', BCPROV_JAR, PROGRAM], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => { err += c.toString() })
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('ascii').trim().split('\n')) : reject(new Error(`java exited ${code}: ${err}`))))
    child.stdin.end(`${requests.join('\n')}\n`)
  })
}

const problem = javaProblem()
if (problem) {
  t.fail(`the Java attachment interop cannot run: ${problem}`)
} else {
  const w = await World.start({
    label: 'attjava',
    partners: [
      { id: REG, suite: 'national', send: ['tax.assessment.request'], receive: [] },
      { id: TAX, suite: 'national', send: [], receive: ['tax.assessment.request'] },
    ],
  })
  t.teardown(() => w.close())
  const reg = w.client(REG)
  const file = randomBytes(600_000) // three records, the last one short
  const gatewayKey = (await reg.directory()).gatewayEncryptionKey('national')
  const point = Sm2PublicKey.fromPem(gatewayKey.toPem()).point

  t.test('a stream written by the Java program is stored by the gateway and read back by a recipient', async (t) => {
    const [answer] = await java([['attwrite', hex(point), hex(gatewayKey.kid), hex(file), hex('application/pdf')].join(' ')])
    t.match(answer, /^OK [0-9a-f]+$/, 'the Java program wrote a stream')
    const stream = Buffer.from((answer as string).slice(3), 'hex')
    const res = await fetch(`${w.url}/v1/attachments`, { method: 'POST', body: stream, headers: { 'content-type': TYPE, authorization: `Bearer ${await reg.token()}` } })
    const ref = (await res.json()) as { id: string; digestAlg: 'SM3'; digest: string; size: number; mediaType: string }
    t.equal(res.status, 201, JSON.stringify(ref))
    t.same([ref.digestAlg, ref.digest, ref.size], ['SM3', digestHex('national', file), file.length], 'the gateway checked it against the Java program\'s declaration')
    await reg.send({ ...validFixture('tax.assessment.request').envelope, attachments: [ref] })
    await w.partner(TAX).server.waitFor(1)
    const parts: Buffer[] = []
    for await (const p of w.client(TAX).downloadAttachment(ref)) parts.push(p)
    t.ok(Buffer.concat(parts).equals(file), 'the recipient has the same bytes')

    t.test('and the stream the gateway sends the recipient is read by the Java program', async (t) => {
      const raw = await fetch(`${w.url}/v1/attachments/${ref.id}`, { headers: { authorization: `Bearer ${await w.client(TAX).token()}` } })
      t.equal(raw.status, 200)
      const body = Buffer.from(await raw.arrayBuffer())
      const d = readPrivatePem(w.partner(TAX).encryptionPem).d
      const tampered = Buffer.from(body)
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
      const [read, refused] = await java([`attread ${hex(d)} ${hex(body)}`, `attread ${hex(d)} ${hex(tampered)}`])
      t.match(read, /^OK [0-9a-f]+,[0-9a-f]+$/, 'every tag and the SM3 digest hold for Bouncy Castle')
      const [header, bytes] = (read as string).slice(3).split(',') as [string, string]
      t.ok(Buffer.from(bytes, 'hex').equals(file), 'the same file')
      t.match(JSON.parse(Buffer.from(header, 'hex').toString('utf8')), { id: ref.id, digestAlg: 'SM3', digest: ref.digest, size: file.length, mediaType: 'application/pdf' }, 'its key header names it')
      t.match(refused, /^ERR /, 'a changed byte: refused by the Java program too')
    })
  })
}
