import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PartnerInbox, TongbanClient, type InboundDelivery, type PrivateKey, type PublicKey } from '../client/index.ts'

/** A simulated agency's reaction to a delivery of one type. */
export type DeliveryHandler = (delivery: InboundDelivery, agency: SimulatedAgency) => Promise<void>
/** A simulated agency's answer body to a query of one type. */
export type QueryHandler = (query: InboundDelivery, agency: SimulatedAgency) => Promise<{ type: string; body: Record<string, unknown> }>

export interface AgencyOptions {
  readonly id: string
  readonly name: string
  readonly signingKey: PrivateKey
  readonly encryptionKey: PrivateKey
  readonly gatewayKeys: readonly PublicKey[]
  /** Where the agency tells what it does (the demo prints it). */
  readonly say: (agency: string, text: string) => void
}

/**
 * A partner system on loopback, built only on the client SDK — what an integrator writes:
 * an HTTP endpoint that opens deliveries (decrypt, verify the original sender), answers 200
 * once it has them, drops repeats by Tongban-Message-Id, and reacts; and a query endpoint.
 */
export class SimulatedAgency {
  readonly id: string
  readonly name: string
  readonly options: AgencyOptions
  readonly received: InboundDelivery[] = []
  #client: TongbanClient | undefined
  #inbox: PartnerInbox | undefined
  #server: Server | undefined
  readonly #seen = new Set<string>()
  readonly #handlers = new Map<string, DeliveryHandler>()
  readonly #queryHandlers = new Map<string, QueryHandler>()
  readonly #pending = new Set<Promise<void>>()
  #port = 0

  constructor(options: AgencyOptions) {
    this.options = options
    this.id = options.id
    this.name = options.name
  }

  /** Reacts to deliveries of `type`. */
  on(type: string, handler: DeliveryHandler): this {
    this.#handlers.set(type, handler)
    return this
  }

  /** Answers queries of `type`. */
  onQuery(type: string, handler: QueryHandler): this {
    this.#queryHandlers.set(type, handler)
    return this
  }

  /** Starts the HTTP server; returns its base URL (deliveries at /inbox, queries at /query). */
  async listen(): Promise<string> {
    this.#server = createServer((req, res) => { void this.#handle(req, res) })
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r))
    this.#port = (this.#server.address() as AddressInfo).port
    return `http://127.0.0.1:${this.#port}`
  }

  /** Connects the SDK client to the gateway. */
  connect(gatewayUrl: string): void {
    const o = this.options
    this.#client = new TongbanClient({ baseUrl: gatewayUrl, participantId: o.id, signingKey: o.signingKey, encryptionKey: o.encryptionKey, gatewayKeys: o.gatewayKeys })
    this.#inbox = new PartnerInbox(o.encryptionKey, () => this.client.directory(), o.id)
  }

  get client(): TongbanClient {
    if (this.#client === undefined) throw new Error(`${this.id} is not connected`)
    return this.#client
  }

  say(text: string): void {
    this.options.say(this.name, text)
  }

  /** Resolves when every reaction started so far has finished. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks).toString('latin1')
    let delivery: InboundDelivery
    try {
      delivery = await this.#inbox!.open(body, String(req.headers['tongban-delivery'] ?? ''))
    } catch {
      res.writeHead(400).end()
      return
    }
    if (req.url === '/query') {
      const handler = this.#queryHandlers.get(delivery.envelope.type)
      if (handler === undefined) {
        res.writeHead(422).end()
        return
      }
      const answer = await handler(delivery, this)
      const jose = await this.client.answer(delivery.envelope, answer.type, answer.body)
      res.writeHead(200, { 'content-type': 'application/jose' }).end(jose)
      return
    }
    // Exactly once in effect: a repeat of a delivery already taken is acknowledged and dropped,
    // by the exchange id the gateway signed (message ids are unique only per sender).
    const exchangeId = delivery.statement.exchangeId ?? delivery.envelope.id
    res.writeHead(200).end()
    if (this.#seen.has(exchangeId)) return
    this.#seen.add(exchangeId)
    this.received.push(delivery)
    const handler = this.#handlers.get(delivery.envelope.type)
    if (handler === undefined) return
    const p = handler(delivery, this).catch((err: unknown) => this.say(`could not process ${delivery.envelope.type}: ${(err as Error).message}`))
    this.#pending.add(p)
    void p.finally(() => this.#pending.delete(p))
  }

  async close(): Promise<void> {
    await this.settle()
    await this.#client?.close()
    const s = this.#server
    if (s) await new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()) })
  }
}
