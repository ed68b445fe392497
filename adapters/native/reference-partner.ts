import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PartnerInbox, PrivateKey } from '../../src/client/index.ts'
import type { ReceivedMessage, ReferenceBehaviour, ReferenceOptions, ReferencePartner } from '../reference.ts'

/**
 * The native adapter's reference partner: a partner system that opens every delivery with the
 * SDK (PartnerInbox: decrypt with its own key, verify the original sender against the published
 * directory) and reports the envelope it verified. Accept = 200, refuse = 400, unavailable = 503.
 */
export class NativeReferencePartner implements ReferencePartner {
  readonly #id: string
  readonly #signingKey: PrivateKey
  readonly #encryptionKey: PrivateKey
  readonly #inbox: PartnerInbox
  readonly #received: ReceivedMessage[] = []
  #behaviour: (n: number) => ReferenceBehaviour = () => ({})
  #posts = 0
  #server: Server | undefined
  #endpoint = ''

  constructor(o: ReferenceOptions) {
    const national = o.suite === 'national'
    this.#id = o.participantId
    this.#signingKey = PrivateKey.generate(`${o.participantId}#sign-1`, national ? 'sm2' : 'ec-p256').privateKey
    this.#encryptionKey = PrivateKey.generate(`${o.participantId}#enc-1`, national ? 'sm2' : 'rsa', { rsaBits: 2048 }).privateKey
    const directory = o.directory
    if (directory === undefined) throw new Error('the native reference partner needs the published directory to verify senders')
    this.#inbox = new PartnerInbox(this.#encryptionKey, directory, o.participantId)
  }

  get endpoint(): string {
    return this.#endpoint
  }

  /** Its public keys, as directory.json lists them. */
  get directoryEntry(): Readonly<Record<string, unknown>> {
    return {
      signingKeys: [{ kid: this.#signingKey.kid, publicKey: this.#signingKey.publicKey.toPem() }],
      encryptionKey: { kid: this.#encryptionKey.kid, publicKey: this.#encryptionKey.publicKey.toPem() },
    }
  }

  behave(b: (n: number) => ReferenceBehaviour): void {
    this.#behaviour = b
  }

  received(): ReadonlyArray<ReceivedMessage> {
    return this.#received
  }

  async start(port = 0): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        void (async () => {
          const b = this.#behaviour(++this.#posts)
          if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs))
          let status = b.status ?? (b.outcome === 'refuse' ? 400 : b.outcome === 'unavailable' ? 503 : 200)
          if (status >= 200 && status < 300) {
            try {
              const d = await this.#inbox.open(Buffer.concat(chunks), String(req.headers['tongban-delivery'] ?? ''))
              const e = d.envelope
              this.#received.push({
                exchangeId: d.statement.exchangeId ?? '', messageId: e.id, type: e.type, body: e.body, envelope: e,
                ...(e.caseId !== undefined ? { caseId: e.caseId } : {}), ...(e.unitCode !== undefined ? { unitCode: e.unitCode } : {}),
              })
            } catch {
              // Not for this partner, or not signed by its sender: refuse it, for good.
              status = 400
            }
          }
          if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status < 300, partner: this.#id }))
        })()
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve))
    this.#endpoint = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/tongban/inbox`
  }

  async stop(): Promise<void> {
    const s = this.#server
    this.#server = undefined
    if (s) await new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()) })
  }
}
