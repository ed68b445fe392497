import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADAPTERS } from '../../adapters/index.ts'
import type { ReferencePartner, ReferencePartnerFactory } from '../../adapters/reference.ts'
import type { ThxxMessage, WsxxMessage, ZsxxMessage } from '../../adapters/legacy-tax/vendor.ts'
import { PublishedDirectory } from '../../src/client/index.ts'
import { Directory, type Participant } from '../../src/core/directory.ts'
import type { Envelope } from '../../src/core/envelope.ts'
import { createMessageValidator } from '../../src/core/schemas.ts'
import { JWS_TYP } from '../../src/core/verify.ts'
import { GatewayKeyring, PrivateKey, signJws, type Suite } from '../../src/crypto/index.ts'
import type { AdapterContext, OutboundMessage } from '../../src/outbound/adapter.ts'
import { adapterContext } from '../../src/outbound/context.ts'
import { PartnerHttp } from '../../src/outbound/http.ts'
import { systemClock, uuid7At } from '../../src/util/ids.ts'
import { createLogger } from '../../src/util/log.ts'
import type { Fixture } from '../helpers/fixtures.ts'

/** A fixture of test/fixtures/legacy/ (each holds one of these). */
export interface LegacyFixture {
  readonly description: string
  readonly envelope: { readonly type: string; readonly v: number; readonly caseId: string; readonly unitCode: string; readonly body: Record<string, unknown> }
  readonly zsxx: ZsxxMessage
  readonly wsxx: WsxxMessage
  readonly thxx: ThxxMessage
}

/** Reads test/fixtures/legacy/<file>. */
export function legacyFixture(file: string): LegacyFixture {
  return JSON.parse(readFileSync(new URL(`../fixtures/legacy/${file}`, import.meta.url), 'utf8')) as LegacyFixture
}

export const SENDER = 'REG:231202'
export const RECIPIENT = 'TAX:231202'

/**
 * One adapter on a bench: a real gateway keyring (with the secret shared with the recipient),
 * a real directory with the recipient behind the adapter and its reference partner at the
 * endpoint, real HTTP pools with short timeouts, a real signed message, and a log catcher.
 */
export class AdapterBench {
  readonly logs: string[] = []
  readonly partner: ReferencePartner
  readonly recipient: Participant
  readonly ctx: AdapterContext
  readonly #dir: string
  readonly #http: PartnerHttp
  readonly #keyring: GatewayKeyring
  readonly #directory: Directory
  readonly #logger = createLogger({ level: 'debug', stream: { write: (s: string) => { this.logs.push(s) } } })

  private constructor(dir: string, partner: ReferencePartner, recipient: Participant, keyring: GatewayKeyring, http: PartnerHttp, directory: Directory) {
    this.#dir = dir
    this.#directory = directory
    this.partner = partner
    this.recipient = recipient
    this.#keyring = keyring
    this.#http = http
    this.ctx = this.context(recipient)
  }

  /** Sets up `adapter` in `suite` with the reference partner `factory` makes. */
  static async start(adapter: string, suite: Suite, factory: ReferencePartnerFactory): Promise<{ bench: AdapterBench; sender: PrivateKey }> {
    const dir = mkdtempSync(join(tmpdir(), `tongban-conformance-${adapter}-`))
    const keysDir = join(dir, 'gateway')
    GatewayKeyring.generate(keysDir, ['national', 'international'], { rsaBits: 2048 })
    const secret = randomBytes(32)
    mkdirSync(join(keysDir, 'partners'))
    writeFileSync(join(keysDir, 'partners', `${RECIPIENT.replace(/:/g, '_')}.secret`), `${secret.toString('base64')}\n`, { mode: 0o600 })
    const keyring = GatewayKeyring.load(keysDir, 'TONGBAN')

    let published: PublishedDirectory | undefined
    const partner = factory({ participantId: RECIPIENT, suite, secret, directory: async () => published as PublishedDirectory })
    await partner.start()

    const national = suite === 'national'
    const sender = PrivateKey.generate(`${SENDER}#sign-1`, national ? 'sm2' : 'ec-p256').privateKey
    const senderEnc = PrivateKey.generate(`${SENDER}#enc-1`, national ? 'sm2' : 'ec-p256').privateKey
    const raw = {
      version: 1,
      participants: [
        {
          id: SENDER, name: '绥化市北林区不动产登记中心', adapter: 'native', endpoint: 'http://127.0.0.1:9/unused',
          signingKeys: [{ kid: sender.kid, publicKey: sender.publicKey.toPem() }], encryptionKey: { kid: senderEnc.kid, publicKey: senderEnc.publicKey.toPem() },
          send: ['tax.assessment.request'], receive: ['tax.payment.completed'],
        },
        {
          id: RECIPIENT, name: '国家税务总局绥化市北林区税务局', adapter, endpoint: partner.endpoint,
          // A shared-secret partner on plain HTTP must be on a private network (here: loopback).
          ...(ADAPTERS.get(adapter)?.auth === 'shared-secret' ? { privateNetwork: { sources: ['127.0.0.1/32', '::1/128'] } } : {}),
          send: ['tax.payment.completed'], receive: ['tax.assessment.request'],
          // undici's timers tick about once a second: 1,000 ms times out within ~2 s. Not shorter: a
          // partner's every answer has to come within it, on a loaded machine too.
          http: { connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000 },
          ...partner.directoryEntry,
        },
      ],
    }
    const validator = createMessageValidator()
    const directory = Directory.fromJson(raw, {
      adapters: ADAPTERS, knownType: (t) => validator.types().some((x) => x.type === t), hasPartnerSecret: (id) => keyring.hasPartnerSecret(id),
    }, { file: 'conformance-directory.json', baseDir: dir })
    published = await publish(keyring, directory, suite)
    const bench = new AdapterBench(dir, partner, directory.participant(RECIPIENT) as Participant, keyring, new PartnerHttp(), directory)
    return { bench, sender }
  }

  /** The context the gateway lends the adapter for `recipient`. */
  context(recipient: Participant): AdapterContext {
    return adapterContext(recipient, { keyring: this.#keyring, directory: this.#directory, clock: systemClock, logger: this.#logger, http: this.#http })
  }

  async close(): Promise<void> {
    await this.partner.stop()
    await this.#http.close()
    rmSync(this.#dir, { recursive: true, force: true })
  }
}

/** The directory as GET /v1/directory publishes it, verified as a partner does. */
async function publish(keyring: GatewayKeyring, directory: Directory, suite: Suite): Promise<PublishedDirectory> {
  const keys = keyring.publicKeys()
  const doc = {
    gateway: {
      id: keyring.gatewayId,
      signingKeys: keys.signing.map((k) => ({ kid: k.kid, publicKey: k.toPem(), fingerprint: k.fingerprint })),
      encryptionKeys: keys.encryption.map((k) => ({ kid: k.kid, alg: k.jweAlg, publicKey: k.toPem(), fingerprint: k.fingerprint })),
    },
    ...directory.publicView(),
    issuedAt: new Date().toISOString(),
  }
  const jws = await signJws(Buffer.from(JSON.stringify(doc), 'utf8'), keyring.signer(suite) as PrivateKey, { typ: 'tongban+directory' })
  return PublishedDirectory.verify(jws, keys.signing)
}

/** A real signed message from a fixture, as the delivery worker hands it to an adapter. */
export async function signedMessage(f: Fixture, sender: PrivateKey): Promise<OutboundMessage> {
  const now = Date.now()
  const envelope: Envelope = {
    id: uuid7At(now), type: f.envelope.type, v: f.envelope.v, from: SENDER,
    ...(f.envelope.caseId !== undefined ? { caseId: f.envelope.caseId } : {}), ...(f.envelope.unitCode !== undefined ? { unitCode: f.envelope.unitCode } : {}),
    iat: Math.floor(now / 1000), nonce: randomBytes(16).toString('base64url'), body: structuredClone(f.envelope.body),
  }
  const jws = await signJws(Buffer.from(JSON.stringify(envelope), 'utf8'), sender, { typ: JWS_TYP })
  return {
    exchangeId: uuid7At(now), deliveryId: uuid7At(now), messageId: envelope.id, type: envelope.type, v: envelope.v, sender: SENDER,
    caseId: envelope.caseId ?? null, unitCode: envelope.unitCode ?? null, jws, envelope, attempt: 1,
  }
}

/** A loopback port nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}
