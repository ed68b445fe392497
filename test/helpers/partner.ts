import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PartnerInbox, InboundDelivery, TongbanClient } from '../../src/client/index.ts'

/** How a partner answers a query: an answer body (type and body), or an HTTP status after a delay. */
export type QueryAnswerer = (query: InboundDelivery, n: number) => Promise<{ type: string; body: Record<string, unknown> } | { status: number; delayMs?: number } | { jose: string }>

/** What a simulated partner answers to the n-th POST it receives (n from 1). */
export type Behaviour = (n: number, req: IncomingMessage) => number | { status: number; delayMs?: number; body?: string }

export interface Received {
  readonly delivery: InboundDelivery
  readonly headers: Record<string, string | string[] | undefined>
  readonly status: number
}

/**
 * A partner system on loopback: opens every delivery with the SDK (decrypt with its key, verify
 * the original sender), answers per its behaviour, and counts what it accepted per message id.
 */
export class PartnerServer {
  readonly id: string
  readonly received: Received[] = []
  /** Message ids answered with a 2xx, with how many times. */
  readonly accepted = new Map<string, number>()
  readonly rejectedBodies: string[] = []
  #behaviour: Behaviour = () => 200
  #posts = 0
  #server: Server | undefined
  #inbox: PartnerInbox | undefined
  #waiters: Array<() => void> = []
  #answerer: QueryAnswerer | undefined
  #client: TongbanClient | undefined
  /** Queries received, in order. */
  readonly queries: InboundDelivery[] = []
  url = ''
  queryUrl = ''

  constructor(id: string) {
    this.id = id
  }

  /** Changes what the partner answers from now on. */
  behave(b: Behaviour): void {
    this.#behaviour = b
  }

  setInbox(inbox: PartnerInbox, client?: TongbanClient): void {
    this.#inbox = inbox
    this.#client = client
  }

  /** Answers the queries the gateway forwards (POST …/query). */
  onQuery(answerer: QueryAnswerer): void {
    this.#answerer = answerer
  }

  get posts(): number {
    return this.#posts
  }

  async start(port = 0): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        void (async () => {
          if (req.url?.endsWith('/query')) {
            await this.#answerQuery(Buffer.concat(chunks).toString('latin1'), req, res)
            return
          }
          const n = ++this.#posts
          const body = Buffer.concat(chunks).toString('latin1')
          let answer = this.#behaviour(n, req)
          if (typeof answer === 'number') answer = { status: answer }
          if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs))
          let status = answer.status
          let delivery: InboundDelivery | undefined
          if (status >= 200 && status < 300) {
            try {
              delivery = await this.#inbox!.open(body, String(req.headers['tongban-delivery'] ?? ''))
            } catch {
              status = 400
              this.rejectedBodies.push(body)
            }
          }
          if (delivery) {
            const id = String(req.headers['tongban-message-id'] ?? delivery.envelope.id)
            this.accepted.set(id, (this.accepted.get(id) ?? 0) + 1)
            this.received.push({ delivery, headers: req.headers, status })
            for (const w of this.#waiters.splice(0)) w()
          }
          res.writeHead(status, { 'content-type': 'application/json' })
          res.end(answer.body ?? JSON.stringify({ ok: status < 300 }))
        })()
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve))
    const addr = this.#server.address() as AddressInfo
    this.url = `http://127.0.0.1:${addr.port}/tongban/inbox`
    this.queryUrl = `http://127.0.0.1:${addr.port}/tongban/query`
  }

  async #answerQuery(body: string, req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    let query: InboundDelivery
    try {
      query = await this.#inbox!.open(body, String(req.headers['tongban-delivery'] ?? ''))
    } catch {
      res.writeHead(400).end()
      return
    }
    this.queries.push(query)
    const answer = this.#answerer ? await this.#answerer(query, this.queries.length) : { status: 501 }
    if ('status' in answer) {
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs))
      if (!res.destroyed) res.writeHead(answer.status).end()
      return
    }
    const jose = 'jose' in answer ? answer.jose : await this.#client!.answer(query.envelope, answer.type, answer.body)
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/jose' }).end(jose)
  }

  /** Resolves when `count` distinct messages have been accepted (or rejects after `ms`). */
  async waitFor(count: number, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms
    while (this.accepted.size < count) {
      if (Date.now() > deadline) throw new Error(`${this.id}: ${this.accepted.size}/${count} messages after ${ms} ms`)
      await new Promise<void>((r) => { this.#waiters.push(r); setTimeout(r, 100) })
    }
  }

  /** Messages received of a type, in order. */
  ofType(type: string): InboundDelivery[] {
    return this.received.map((r) => r.delivery).filter((d) => d.envelope.type === type)
  }

  async stop(): Promise<void> {
    const s = this.#server
    this.#server = undefined
    if (s) await new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()) })
  }
}
