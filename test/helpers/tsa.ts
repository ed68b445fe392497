import { execFile, execFileSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { AddressInfo } from 'node:net'

const run = promisify(execFile)

/**
 * An RFC 3161 time-stamping authority for tests: its own CA and TSA certificate (EC P-256, made
 * here with the openssl CLI), answering POSTs of time-stamp queries with `openssl ts -reply`.
 */
export class TestTsa {
  readonly dir: string
  readonly caFile: string
  url = ''
  requests = 0
  /** When set, the TSA answers 503 (an outage). */
  down = false
  #server: Server | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'tongban-tsa-'))
    this.caFile = join(this.dir, 'ca.crt')
    const o = (args: string[]): void => { execFileSync('openssl', args, { cwd: this.dir, stdio: 'ignore' }) }
    o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Tongban Test TSA CA', '-days', '30',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
    o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tsa.key', '-out', 'tsa.csr', '-subj', '/CN=Tongban Test TSA'])
    writeFileSync(join(this.dir, 'ext.cnf'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n')
    o(['x509', '-req', '-in', 'tsa.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tsa.crt', '-days', '30', '-extfile', 'ext.cnf'])
    writeFileSync(join(this.dir, 'serial'), '01\n')
    writeFileSync(join(this.dir, 'tsa.cnf'), [
      '[ tsa ]', 'default_tsa = tsa1', '[ tsa1 ]', `serial = ${join(this.dir, 'serial')}`, 'crypto_device = builtin',
      `signer_cert = ${join(this.dir, 'tsa.crt')}`, `signer_key = ${join(this.dir, 'tsa.key')}`, 'signer_digest = sha256',
      'default_policy = 1.2.3.4.1', 'other_policies = 1.2.3.4.5', `certs = ${join(this.dir, 'tsa.crt')}`, 'digests = sha256, sha384, sha512', 'accuracy = secs:1', 'ordering = yes', 'tsa_name = yes',
      'ess_cert_id_chain = no', 'ess_cert_id_alg = sha256', '',
    ].join('\n'))
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (this.down) {
          res.writeHead(503).end()
          return
        }
        // One at a time: openssl keeps the serial number in a file.
        this.#queue = this.#queue.then(async () => {
          this.requests++
          const n = this.requests
          const q = join(this.dir, `q${n}.tsq`)
          const r = join(this.dir, `r${n}.tsr`)
          writeFileSync(q, Buffer.concat(chunks))
          try {
            await run('openssl', ['ts', '-reply', '-config', join(this.dir, 'tsa.cnf'), '-queryfile', q, '-out', r])
            res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(readFileSync(r))
          } catch {
            res.writeHead(500).end()
          }
        })
      })
    })
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/tsa`
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
    rmSync(this.dir, { recursive: true, force: true })
  }
}
