import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on a free loopback port in front of a real service (PostgreSQL): a test points the
 * gateway at it and cuts it to see the gateway with its database gone, while the test's own
 * connections (straight to the service) keep working. Cut, every connection through it is
 * closed and new ones are dropped at once; restored, it forwards again.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #cut = false

  private constructor(server: Server) {
    this.#server = server
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer()
    const proxy = new TcpProxy(server)
    server.on('connection', (client) => proxy.#accept(client, targetHost, targetPort))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port
  }

  /** `url` (e.g. postgres://user@127.0.0.1:5432/db) with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const u = new URL(url)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  #accept(client: Socket, host: string, port: number): void {
    if (this.#cut) {
      client.destroy()
      return
    }
    const upstream = connect(port, host)
    for (const s of [client, upstream]) {
      this.#sockets.add(s)
      s.on('close', () => this.#sockets.delete(s))
      s.on('error', () => { client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  }

  /** Closes every connection through the proxy and drops new ones until restore(). */
  cut(): void {
    this.#cut = true
    for (const s of this.#sockets) s.destroy()
  }

  restore(): void {
    this.#cut = false
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
