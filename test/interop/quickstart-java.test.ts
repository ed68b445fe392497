// Issue 11 §5: docs/quickstart-java.md holds a complete Bouncy Castle client (national suite). This
// test takes the program out of the document as it is published, runs it with Java 17 as a
// single-file program against a gateway with real PostgreSQL and Redis, and checks that it got a
// token, sent a message the recipient received, and verified the receipt. A missing Java or
// bcprov.jar makes it fail, not skip (.ci/run installs them).
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BCPROV_JAR, javaProblem } from '../crypto/helpers/tools.ts'
import { validFixture } from '../helpers/fixtures.ts'
import { World } from '../helpers/world.ts'

const problem = javaProblem()
if (problem) {
  t.fail(`the Java quickstart cannot run: ${problem}`)
} else {
  const doc = readFileSync(new URL('../../docs/quickstart-java.md', import.meta.url), 'utf8')
  const blocks = [...doc.matchAll(/```java\n([\s\S]*?)```/g)].map((m) => m[1] as string)
  const dir = mkdtempSync(join(tmpdir(), 'tongban-quickstart-java-'))
  const REG = 'REG:231202'
  const TAX = 'TAX:231202'
  const w = await World.start({
    label: 'quickstart-java',
    partners: [
      { id: REG, suite: 'national', send: ['tax.assessment.request'], receive: ['tax.payment.completed'] },
      { id: TAX, suite: 'national', send: ['tax.payment.completed'], receive: ['tax.assessment.request'] },
    ],
  })
  t.teardown(async () => {
    await w.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The program as published, run with `java -cp bcprov.jar TongbanQuickstart.java …` (not spawnSync: the gateway runs in this process). */
  const java = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((done) => {
    execFile('java', ['-cp', BCPROV_JAR, join(dir, 'TongbanQuickstart.java'), ...args], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })

  t.test('the document holds one complete program', async (t) => {
    t.equal(blocks.length, 1)
    t.match(blocks[0], /public class TongbanQuickstart/)
    writeFileSync(join(dir, 'TongbanQuickstart.java'), blocks[0] as string)
  })

  t.test('it gets a token, sends a message, and verifies the receipt', async (t) => {
    writeFileSync(join(dir, 'sign.key.pem'), w.partner(REG).signingPem)
    const gatewayKey = w.gatewaySigningKeys().find((k) => k.suite === 'national')
    if (gatewayKey === undefined) throw new Error('no national gateway key')
    writeFileSync(join(dir, 'gateway.pub.pem'), gatewayKey.toPem())
    const fixture = validFixture('tax.assessment.request').envelope
    writeFileSync(join(dir, 'message.json'), JSON.stringify({ type: fixture.type, ...(fixture.to ? { to: fixture.to } : {}), caseId: fixture.caseId, unitCode: fixture.unitCode, body: fixture.body }))
    const r = await java([w.url, REG, join(dir, 'sign.key.pem'), `${REG}#sign-1`, join(dir, 'gateway.pub.pem'), gatewayKey.kid, join(dir, 'message.json')])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /directory: gateway TONGBAN, encrypt to TONGBAN#enc-sm2/)
    t.match(r.stdout, /token: ok/)
    const m = /receipt verified: message ([0-9a-f-]{36}), exchange ([0-9a-f-]{36}), ledger entry ([0-9a-f-]{36})/.exec(r.stdout)
    t.ok(m, r.stdout)
    await w.partner(TAX).server.waitFor(1)
    t.equal(w.partner(TAX).server.accepted.get(m?.[1] as string), 1, 'the tax bureau received the Java client\'s message')
  })

  t.test('a receipt not signed by the pinned key is refused', async (t) => {
    // Pin the REG's own public key as if it were the gateway's: the directory's signature fails first.
    writeFileSync(join(dir, 'wrong.pub.pem'), w.partner(REG).signingKey.publicKey.toPem())
    const gatewayKid = w.gatewaySigningKeys().find((k) => k.suite === 'national')?.kid as string
    const r = await java([w.url, REG, join(dir, 'sign.key.pem'), `${REG}#sign-1`, join(dir, 'wrong.pub.pem'), gatewayKid, join(dir, 'message.json')])
    t.not(r.code, 0)
    t.match(r.stderr, /signature does not verify with the pinned gateway key/)
  })
}
