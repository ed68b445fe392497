// Interop with Bouncy Castle (an implementation independent of OpenSSL and of ours), both
// directions, on every backend: SM2Signer, SM2Engine in C1C3C2 mode (and the legacy C1C2C3),
// SM4-CBC, SM3 and HMAC-SM3; plus the gold standard: a JWE(JWS) of the national suite built and
// opened by a Java program written from docs/national-suite.md. One JVM start for everything.
// A missing Java or bcprov.jar makes this test FAIL, not skip: interop is a requirement.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  Sm2PrivateKey,
  Sm2PublicKey,
  availableSmBackends,
  smBackend,
  smBackendInfo,
  sm2CiphertextFromC1C2C3,
  sm2SignatureToDer,
  useSmBackend,
  type SmBackendName,
} from '../../src/crypto/sm/index.ts'
import { decryptSm2Jwe, encryptSm2Jwe, signSm2Jws, verifySm2Signature } from '../../src/crypto/national/index.ts'
import { PrivateKey, PublicKey, decryptJwe, parseJws, verifyJws } from '../../src/crypto/index.ts'
import { BCPROV_JAR, javaProblem, run } from './helpers/tools.ts'

/** The type of a subtest's `t` (tap's last `test` overload takes just the callback). */
type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const PROGRAM = fileURLToPath(new URL('../interop/java/TongbanInterop.java', import.meta.url))
const ID = Buffer.from('1234567812345678')
const ALICE = Buffer.from('ALICE123@YAHOO.COM')

const h = (b: Buffer | string): string => (typeof b === 'string' ? b : b.length === 0 ? '-' : b.toString('hex'))
const flip = (b: Buffer, i: number): Buffer => {
  const c = Buffer.from(b)
  c[i] = (c[i] as number) ^ 1
  return c
}
/** Changes one base64url character of part `i` of a compact serialisation (decodes to a different byte). */
const tamperPart = (compact: string, i: number): string => {
  const parts = compact.split('.')
  const p = parts[i] as string
  const bytes = Buffer.from(p, 'base64url')
  parts[i] = flip(bytes, Math.min(5, bytes.length - 1)).toString('base64url')
  return parts.join('.')
}

const problem = javaProblem()
if (problem) {
  t.fail(`Bouncy Castle interop cannot run: ${problem}`)
} else {
  const requests: string[] = []
  const ask = (op: string, ...args: Array<Buffer | string>): number => requests.push([op, ...args.map(h)].join(' ')) - 1
  const initial = smBackendInfo().backend

  interface Plan {
    name: SmBackendName
    ours: Sm2PrivateKey
    bcD: Buffer
    bcPub: Sm2PublicKey
    checks: Array<(t: Test, answers: string[]) => void | Promise<void>>
  }
  const plans: Plan[] = []

  for (const name of availableSmBackends()) {
    useSmBackend(name)
    const b = smBackend(name)
    const ours = Sm2PrivateKey.generate()
    const ourPub = ours.publicKey.point
    const bcD = b.sm2GeneratePrivate()
    const bcPub = Sm2PublicKey.fromPoint(b.sm2PublicFromPrivate(bcD))
    const checks: Plan['checks'] = []
    const expect = (i: number, answer: string, what: string): void => {
      checks.push((t, a) => void t.equal(a[i], answer, what))
    }
    const refuse = (i: number, what: string): void => {
      checks.push((t, a) => void t.match(a[i], /^ERR /, what))
    }

    expect(ask('pub', bcD), `OK ${h(bcPub.point)}`, 'Bouncy Castle derives the same public key from d')

    // Our signatures, verified by SM2Signer.
    for (const size of [0, 33, 1000]) {
      const msg = randomBytes(size)
      const sig = ours.sign(msg)
      expect(ask('verify', ourPub, ID, msg, sig), 'OK true', `SM2Signer verifies our ${size}-byte signature (r‖s)`)
      expect(ask('verifyder', ourPub, ID, msg, sm2SignatureToDer(sig)), 'OK true', `SM2Signer verifies our ${size}-byte signature (DER)`)
      expect(ask('verify', ourPub, ID, msg, flip(sig, 3)), 'OK false', 'changed r refused by SM2Signer')
      expect(ask('verify', ourPub, ID, msg, flip(sig, 60)), 'OK false', 'changed s refused by SM2Signer')
      expect(ask('verify', ourPub, ID, Buffer.concat([msg, Buffer.from('x')]), sig), 'OK false', 'changed message refused by SM2Signer')
    }
    const aliceMsg = Buffer.from('explicit user ID')
    expect(ask('verify', ourPub, ALICE, aliceMsg, ours.sign(aliceMsg, { id: ALICE })), 'OK true', 'SM2Signer verifies with an explicit user ID')

    // Bouncy Castle's signatures, verified here.
    for (const size of [0, 33, 1000]) {
      const msg = randomBytes(size)
      const i = ask('sign', bcD, ID, msg)
      checks.push((t, a) => {
        const sig = Buffer.from((a[i] as string).replace(/^OK /, ''), 'hex')
        t.equal(bcPub.verify(msg, sig, { backend: b }), true, `SM2Signer's ${size}-byte signature verifies`)
        t.equal(bcPub.verify(msg, flip(sig, 1), { backend: b }), false, 'changed r refused')
        t.equal(bcPub.verify(msg, flip(sig, 33), { backend: b }), false, 'changed s refused')
        t.equal(bcPub.verify(Buffer.concat([msg, Buffer.from('x')]), sig, { backend: b }), false, 'changed message refused')
      })
    }
    const ia = ask('sign', bcD, ALICE, aliceMsg)
    checks.push((t, a) => {
      const sig = Buffer.from((a[ia] as string).replace(/^OK /, ''), 'hex')
      t.equal(bcPub.verify(aliceMsg, sig, { backend: b, id: ALICE }), true, 'explicit user ID')
      t.equal(bcPub.verify(aliceMsg, sig, { backend: b }), false, 'not under the default ID')
    })

    // Our ciphertexts, decrypted by SM2Engine (C1C3C2).
    for (const size of [1, 32, 500]) {
      const pt = randomBytes(size)
      const ct = bcPub.encrypt(pt, { backend: b })
      expect(ask('dec', bcD, ct), `OK ${h(pt)}`, `SM2Engine decrypts our ${size}-byte ciphertext`)
      refuse(ask('dec', bcD, flip(ct, 10)), 'changed C1 refused by SM2Engine')
      refuse(ask('dec', bcD, flip(ct, 70)), 'changed C3 refused by SM2Engine')
      refuse(ask('dec', bcD, flip(ct, ct.length - 1)), 'changed C2 refused by SM2Engine')
    }

    // Bouncy Castle's ciphertexts, decrypted here.
    for (const size of [1, 32, 500]) {
      const pt = randomBytes(size)
      const i = ask('enc', ourPub, pt)
      const j = ask('enc-c1c2c3', ourPub, pt)
      checks.push((t, a) => {
        const ct = Buffer.from((a[i] as string).replace(/^OK /, ''), 'hex')
        t.same(ours.decrypt(ct, { backend: b }), pt, `SM2Engine's ${size}-byte C1C3C2 ciphertext decrypts`)
        for (const [k, part] of [[10, 'C1'], [70, 'C3'], [ct.length - 1, 'C2']] as const) {
          t.throws(() => ours.decrypt(flip(ct, k), { backend: b }), { code: 'ERR_SM_DECRYPT' }, `changed ${part} refused`)
        }
        const legacy = Buffer.from((a[j] as string).replace(/^OK /, ''), 'hex')
        t.same(ours.decrypt(sm2CiphertextFromC1C2C3(legacy), { backend: b }), pt, 'the legacy C1C2C3 order converts and decrypts')
        t.throws(() => ours.decrypt(legacy, { backend: b }), { code: 'ERR_SM_DECRYPT' }, 'C1C2C3 taken as C1C3C2 is refused')
      })
    }

    // SM4-CBC both ways, SM3 and HMAC-SM3.
    for (const size of [0, 15, 16, 100]) {
      const key = randomBytes(16)
      const iv = randomBytes(16)
      const pt = randomBytes(size)
      const ct = b.sm4CbcEncrypt(key, iv, pt)
      expect(ask('sm4dec', key, iv, ct), `OK ${h(pt)}`, `Bouncy Castle decrypts our ${size}-byte SM4-CBC`)
      // CBC alone has no integrity (the JWE tag supplies it): a changed byte must at least never give the plaintext.
      const tampered = ask('sm4dec', key, iv, flip(ct, ct.length - 1))
      checks.push((t, a) => void t.not(a[tampered], `OK ${h(pt)}`, 'changed SM4-CBC ciphertext does not give the plaintext'))
      const i = ask('sm4enc', key, iv, pt)
      checks.push((t, a) => {
        const theirs = Buffer.from((a[i] as string).replace(/^OK /, ''), 'hex')
        t.same(theirs, ct, 'same SM4-CBC ciphertext for the same key and IV')
        t.same(b.sm4CbcDecrypt(key, iv, theirs), pt, `Bouncy Castle's ${size}-byte SM4-CBC decrypts here`)
      })
      expect(ask('sm3', pt), `OK ${h(b.sm3(pt))}`, 'SM3 agrees')
      expect(ask('hmac', key, pt), `OK ${h(b.hmacSm3(key, pt))}`, 'HMAC-SM3 agrees')
    }

    // Gold standard: our JWE(JWS) opened by Java written from the docs; theirs opened by the gateway's API.
    const payload = Buffer.from(JSON.stringify({ type: 'tax.assessment.request', from: 'REG:231202', caseId: '231202-2026-000123', body: { 价格: '1250000.00' } }))
    const jws = await signSm2Jws({ alg: 'SM2SM3', kid: 'REG:231202#sign-sm2', typ: 'tongban+jws' }, payload, ours)
    const jwe = await encryptSm2Jwe(Buffer.from(jws), { alg: 'SM2', enc: 'SM4-CBC-HMAC-SM3', kid: 'TAX:231202#enc-sm2', cty: 'tongban+jws' }, bcPub)
    expect(ask('open', bcD, ourPub, jwe), `OK ${h(payload)}`, 'the Java program (from the docs) decrypts our JWE and verifies the JWS inside')
    for (let part = 0; part < 5; part++) refuse(ask('open', bcD, ourPub, tamperPart(jwe, part)), `JWE part ${part} changed: refused by the Java program`)
    const forged = await encryptSm2Jwe(Buffer.from(await signSm2Jws({ alg: 'SM2SM3', kid: 'x' }, payload, Sm2PrivateKey.generate())), { alg: 'SM2', enc: 'SM4-CBC-HMAC-SM3' }, bcPub)
    refuse(ask('open', bcD, ourPub, forged), 'a JWS signed by another key is refused by the Java program')

    const jwsHeader = Buffer.from(JSON.stringify({ alg: 'SM2SM3', kid: 'TAX:231202#sign-sm2', typ: 'tongban+jws' }))
    const jweHeader = Buffer.from(JSON.stringify({ alg: 'SM2', enc: 'SM4-CBC-HMAC-SM3', kid: 'REG:231202#enc-sm2', cty: 'tongban+jws' }))
    const sealed = ask('seal', bcD, ourPub, jwsHeader, jweHeader, payload)
    checks.push(async (t, a) => {
      const compact = (a[sealed] as string).replace(/^OK /, '')
      // Through the national functions…
      const opened = await decryptSm2Jwe(compact, ours)
      t.equal(opened.header.cty, 'tongban+jws')
      const inner = parseJws(opened.plaintext.toString('ascii'))
      t.equal(await verifySm2Signature(inner.signingInput, inner.signature, bcPub), true, 'the JWS from Java verifies')
      t.same(inner.payload, payload, 'the payload from Java')
      // …and through the crypto room's public API, as the gateway does it.
      const recipient = PrivateKey.fromPem('REG:231202#enc-sm2', ours.toPem())
      const sender = PublicKey.fromPem('TAX:231202#sign-sm2', bcPub.toPem())
      const { plaintext } = await decryptJwe(compact, recipient)
      const parsed = parseJws(plaintext.toString('ascii'))
      t.equal(await verifyJws(parsed, sender), true, 'decryptJwe + verifyJws accept the Java message')
      for (let part = 0; part < 5; part++) {
        await t.rejects(decryptJwe(tamperPart(compact, part), recipient), { code: part === 0 ? /TB_ERR_(DECRYPT|JOSE_MALFORMED)/ : 'TB_ERR_DECRYPT' }, `Java JWE part ${part} changed: refused`)
      }
    })

    plans.push({ name, ours, bcD, bcPub, checks })
  }
  useSmBackend(initial)

  // The worked example of docs/national-suite.md §7, opened by the Java program written from that page.
  const example = JSON.parse(readFileSync(new URL('../fixtures/national-suite-example.json', import.meta.url), 'utf8')) as {
    senderSigningKey: { publicPoint: string }
    recipientEncryptionKey: { d: string }
    jws: { payloadUtf8: string }
    jwe: { compact: string }
  }
  const exampleAnswer = ask('open', Buffer.from(example.recipientEncryptionKey.d, 'hex'), Buffer.from(example.senderSigningKey.publicPoint, 'hex'), example.jwe.compact)

  const started = Date.now()
  const r = run('java', ['-cp', BCPROV_JAR, PROGRAM], { input: `${requests.join('\n')}\n`, timeout: 120_000 })
  const answers = r.stdout.toString().split('\n').filter((l) => l !== '')
  t.comment(`one JVM, ${requests.length} requests, ${Date.now() - started} ms`)

  t.test('the Java program ran and answered every request', async (t) => {
    t.equal(r.status, 0, `java exited ${r.status}: ${r.stderr.slice(0, 2000)}`)
    t.equal(answers.length, requests.length)
  })

  t.test('the Java program opens the worked example of docs/national-suite.md', async (t) => {
    t.equal(answers[exampleAnswer], `OK ${h(Buffer.from(example.jws.payloadUtf8))}`)
  })

  for (const plan of plans) {
    t.test(`${plan.name} ↔ Bouncy Castle`, async (t) => {
      useSmBackend(plan.name)
      t.teardown(() => void useSmBackend(initial))
      for (const check of plan.checks) await check(t, answers)
    })
  }
}
