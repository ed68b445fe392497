import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { Redis } from 'ioredis'
import { loadConfig, type Config, type DeepPartial } from '../../src/config/index.ts'
import { GatewayKeyring, PrivateKey, PublicKey, type KeyKind, type Suite } from '../../src/crypto/index.ts'
import { buildGateway } from '../../src/gateway/index.ts'
import { PartnerInbox, TongbanClient } from '../../src/client/index.ts'
import { createLogger } from '../../src/util/log.ts'
import type { Clock, IdSource } from '../../src/util/ids.ts'
import type { PartnerAdapter } from '../../src/outbound/adapter.ts'
import { DATABASE_URL, REDIS_URL, dropRedisPrefix, dropSchema, isolationName } from './services.ts'
import { freePort } from './redis-server.ts'
import { tongbanCommand } from './subprocess.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import type { WorkingCalendar } from '../../src/core/calendar.ts'
import { PartnerServer } from './partner.ts'
import { adopt } from './children.ts'

/** The assertions a helper needs from a tap test. */
export interface Assert {
  ok(value: unknown, message: string): unknown
  equal(found: unknown, wanted: unknown, message: string): unknown
  same(found: unknown, wanted: unknown, message: string): unknown
  notMatch(found: unknown, pattern: RegExp, message: string): unknown
}

/** A participant of a test world. */
export interface PartnerSpec {
  readonly id: string
  readonly suite?: Suite
  /** Encryption key kind (default: sm2 for national, rsa for international). */
  readonly enc?: KeyKind
  readonly send: readonly string[]
  readonly receive: readonly string[]
  readonly divisions?: readonly string[]
  readonly adapter?: string
  readonly adapterOptions?: Record<string, unknown>
  /**
   * A private-network link: `true` for the loopback sources the world's clients use
   * (127.0.0.1/32 and ::1/128), or the link's source CIDRs.
   */
  readonly privateNetwork?: boolean | readonly string[]
  readonly http?: Record<string, number>
  /** No partner server (e.g. a sender only, or an endpoint that refuses connections). */
  readonly noServer?: boolean
  /**
   * A partner behind a shared-secret adapter (e.g. legacy-tax): no JOSE keys in the directory;
   * the world writes the HMAC secret into the gateway's keys folder (WorldPartner.secret).
   */
  readonly sharedSecret?: boolean
  /** Where deliveries go, when the partner runs its own server (e.g. an adapter's reference partner). */
  readonly endpoint?: string
  /** The participant's own quotas in the directory (overriding the config's). */
  readonly quotas?: Readonly<Record<string, number>>
}

export interface WorldPartner {
  readonly spec: PartnerSpec
  readonly signingKey: PrivateKey
  /** The signing key as PKCS#8 PEM (for tests that must sign bytes the SDK would never build). */
  readonly signingPem: string
  readonly encryptionKey: PrivateKey
  /** The encryption key as PKCS#8 PEM (e.g. to have a certificate issued for it). */
  readonly encryptionPem: string
  readonly client: TongbanClient
  readonly server: PartnerServer
  /** The HMAC secret shared with a shared-secret partner. */
  readonly secret?: Buffer
}

export interface WorldOptions {
  readonly label: string
  readonly partners: readonly PartnerSpec[]
  readonly config?: DeepPartial<Config>
  readonly clock?: Clock
  readonly ids?: IdSource
  readonly gatewaySuites?: readonly Suite[]
  readonly adapters?: ReadonlyMap<string, PartnerAdapter>
  /** Redis URL for the gateway (a test may run its own server). */
  readonly redisUrl?: string
  /** Run the gateway as a child process (`tongban serve`), so a test can SIGKILL it. */
  readonly subprocess?: boolean
  /** Node options for the child-process gateway (e.g. `--cpu-prof` for npm run bench:accept -- --profile). */
  readonly gatewayNodeArgs?: readonly string[]
  readonly calendar?: WorkingCalendar
  /** Use this database schema and Redis prefix (e.g. one the demo filled) instead of a fresh one; it is dropped at close. */
  readonly schema?: string
  /** Copy the gateway's keys from this folder (e.g. certs-example/gateway, the demo's) instead of generating them. */
  readonly gatewayKeysFrom?: string
}

/** Loopback, where the world's clients send from. */
export const LOOPBACK_SOURCES: readonly string[] = ['127.0.0.1/32', '::1/128']

/** The private-network sources of a partner (shared-secret partners on loopback are on one too). */
function privateSources(spec: PartnerSpec): readonly string[] | undefined {
  if (Array.isArray(spec.privateNetwork)) return spec.privateNetwork
  return spec.privateNetwork === true || spec.sharedSecret ? LOOPBACK_SOURCES : undefined
}

/** Fast delivery settings for tests. */
export const TEST_DELIVERY = {
  attempts: 6, backoffMs: 40, maxBackoffMs: 400, maxAgeSeconds: 3600, sweepIntervalMs: 400, sweepGraceMs: 300, concurrency: 4, lockMs: 2_000,
  // A circuit a test opens by the way (five failures in a row) probes again after a second, not ten.
  circuitOpenMs: 1_000,
}

/** A gateway with its partners on loopback, real PostgreSQL and Redis, its own schema and prefix. */
export class World {
  readonly dir: string
  readonly schema: string
  readonly prefix: string
  readonly partners = new Map<string, WorldPartner>()
  readonly logs: string[] = []
  readonly operator: { id: string; key: PrivateKey }
  config!: Config
  app!: FastifyInstance
  url = ''
  db!: pg.Pool
  redis!: Redis
  readonly #o: WorldOptions
  #child: ChildProcess | undefined
  #port = 0

  private constructor(o: WorldOptions) {
    this.#o = o
    this.dir = mkdtempSync(join(tmpdir(), `tongban-${o.label}-`))
    this.schema = o.schema ?? isolationName(o.label)
    this.prefix = this.schema
    this.operator = { id: 'OPS:test-operator', key: PrivateKey.generate('OPS:test-operator#sign', 'ec-p256').privateKey }
  }

  get #logFile(): string {
    return join(this.dir, 'gateway.log')
  }

  /** Builds keys, partner servers, the directory, and starts the gateway. */
  static async start(o: WorldOptions): Promise<World> {
    const w = new World(o)
    if (o.gatewayKeysFrom !== undefined) cpSync(o.gatewayKeysFrom, join(w.dir, 'gateway'), { recursive: true })
    else GatewayKeyring.generate(join(w.dir, 'gateway'), o.gatewaySuites ?? ['national', 'international'], { rsaBits: 2048 })
    for (const spec of o.partners) {
      const suite = spec.suite ?? 'international'
      const sigKind: KeyKind = suite === 'national' ? 'sm2' : 'ec-p256'
      const encKind: KeyKind = spec.enc ?? (suite === 'national' ? 'sm2' : 'rsa')
      const { privateKey: signingKey, privatePem: signingPem } = PrivateKey.generate(`${spec.id}#sign-1`, sigKind)
      const { privateKey: encryptionKey, privatePem: encryptionPem } = PrivateKey.generate(`${spec.id}#enc-1`, encKind, { rsaBits: 2048 })
      const server = new PartnerServer(spec.id)
      if (!spec.noServer && spec.endpoint === undefined) await server.start()
      let secret: Buffer | undefined
      if (spec.sharedSecret) {
        secret = randomBytes(32)
        mkdirSync(join(w.dir, 'gateway', 'partners'), { recursive: true })
        writeFileSync(join(w.dir, 'gateway', 'partners', `${spec.id.replace(/:/g, '_')}.secret`), `${secret.toString('base64')}\n`, { mode: 0o600 })
      }
      w.partners.set(spec.id, { spec, signingKey, signingPem, encryptionKey, encryptionPem, server, client: undefined as unknown as TongbanClient, ...(secret ? { secret } : {}) })
    }
    w.writeDirectory()
    if (o.subprocess) await w.spawn()
    else await w.boot()
    return w
  }

  /** Writes directory.json for the current partners. */
  writeDirectory(edit?: (doc: { participants: Array<Record<string, unknown>> }) => void): void {
    const doc = {
      version: 1,
      participants: [...this.partners.values()].map((p) => ({
        id: p.spec.id,
        name: `测试机构 ${p.spec.id}`,
        ...(p.spec.divisions ? { divisions: p.spec.divisions } : {}),
        ...(p.spec.sharedSecret ? {} : {
          signingKeys: [{ kid: p.signingKey.kid, publicKey: p.signingKey.publicKey.toPem() }],
          encryptionKey: { kid: p.encryptionKey.kid, publicKey: p.encryptionKey.publicKey.toPem() },
        }),
        endpoint: p.spec.endpoint ?? (p.server.url || 'http://127.0.0.1:9/unreachable'),
        queryEndpoint: p.server.queryUrl || 'http://127.0.0.1:9/unreachable',
        adapter: p.spec.adapter ?? 'native',
        ...(p.spec.adapterOptions ? { adapterOptions: p.spec.adapterOptions } : {}),
        send: p.spec.send,
        receive: p.spec.receive,
        ...(privateSources(p.spec) ? { privateNetwork: { sources: privateSources(p.spec) } } : {}),
        ...(p.spec.http ? { http: p.spec.http } : {}),
        ...(p.spec.quotas ? { quotas: p.spec.quotas } : {}),
      })),
      operators: [{ id: this.operator.id, name: 'Test operator', signingKeys: [{ kid: this.operator.key.kid, publicKey: this.operator.key.publicKey.toPem() }] }],
    }
    edit?.(doc)
    writeFileSync(join(this.dir, 'directory.json'), JSON.stringify(doc, null, 2))
  }

  /** The configuration this world runs the gateway with. */
  configFor(extra: DeepPartial<Config> = {}): Config {
    const o = this.#o
    return loadConfig({
      overrides: {
        listen: { host: '127.0.0.1', port: 0 },
        databaseUrl: DATABASE_URL,
        dbSchema: this.schema,
        redisUrl: o.redisUrl ?? REDIS_URL,
        redisPrefix: this.prefix,
        keysDir: join(this.dir, 'gateway'),
        directoryFile: join(this.dir, 'directory.json'),
        log: { level: 'debug' },
        metrics: { enabled: true, host: '127.0.0.1', port: 0 },
        console: { enabled: true, host: '127.0.0.1', port: 0 },
        ...o.config,
        ...extra,
        delivery: { ...TEST_DELIVERY, ...(o.config?.delivery ?? {}), ...(extra.delivery ?? {}) },
      } as DeepPartial<Config>,
    })
  }

  /** Starts (or restarts) the gateway in this process. */
  async boot(extra: DeepPartial<Config> = {}): Promise<void> {
    const o = this.#o
    this.config = this.configFor(extra)
    const logger = createLogger({ level: this.config.log.level, stream: { write: (s: string) => { this.logs.push(s) } } })
    this.app = await buildGateway({
      config: this.config, logger, validateResponses: true,
      ...(o.clock ? { clock: o.clock } : {}), ...(o.ids ? { ids: o.ids } : {}), ...(o.adapters ? { adapters: o.adapters } : {}),
      ...(o.calendar ? { calendar: o.calendar } : {}),
    })
    await this.app.listen({ host: '127.0.0.1', port: 0 })
    this.url = `http://127.0.0.1:${(this.app.server.address() as AddressInfo).port}`
    this.#connect()
  }

  /**
   * Starts the gateway as a child process (`node bin/tongban.js serve --config …`), on the same
   * port each time; on another if that one was taken meanwhile (by a test file running beside
   * this one: a port found free is not reserved).
   */
  async spawn(extra: DeepPartial<Config> = {}): Promise<void> {
    for (let tries = 1; ; tries++) {
      if (this.#port === 0) this.#port = await freePort()
      try {
        return await this.#spawnOnce(extra)
      } catch (err) {
        if (!(err instanceof Error && err.message.includes('EADDRINUSE')) || tries === 3) throw err
        this.#port = 0
      }
    }
  }

  async #spawnOnce(extra: DeepPartial<Config>): Promise<void> {
    this.config = this.configFor({ ...extra, listen: { host: '127.0.0.1', port: this.#port }, log: { level: this.#o.config?.log?.level ?? 'debug', file: this.#logFile } })
    const configFile = join(this.dir, 'config.json')
    writeFileSync(configFile, JSON.stringify(this.config))
    // A clean environment: the gateway reads TONGBAN_* variables and refuses unknown ones.
    const [cmd, argv] = tongbanCommand(['serve', '--config', configFile], this.#o.gatewayNodeArgs)
    const child = adopt(spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } }))
    let stderr = ''
    child.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
    this.#child = child
    this.url = `http://127.0.0.1:${this.#port}`
    const end = Date.now() + 30_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}): ${stderr}`)
      const ok = await fetch(`${this.url}/readyz`).then((r) => r.status === 200, () => false)
      if (ok) break
      if (Date.now() > end) throw new Error(`the gateway did not become ready: ${stderr}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    this.#connect()
  }

  /** The child-process gateway's pid, while it runs. */
  gatewayPid(): number | undefined {
    return this.#child?.pid
  }

  /** The child-process gateway's peak resident memory so far in MB (VmHWM), while it runs. */
  gatewayPeakRssMb(): number | undefined {
    return treePeakRssMb(this.#child?.pid)
  }

  /** The pids of the child-process gateway's own children (its processes with `processes` > 1). */
  gatewayProcesses(): number[] {
    return childPids(this.#child?.pid)
  }

  /** Sends a signal to the child-process gateway (e.g. SIGHUP: reload the directory). */
  signalGateway(signal: NodeJS.Signals): void {
    if (this.#child === undefined || this.#child.exitCode !== null) throw new Error('no child-process gateway is running')
    this.#child.kill(signal)
  }

  /** Kills the child-process gateway at once (SIGKILL: no shutdown, no flush). */
  async killGateway(): Promise<void> {
    const c = this.#child
    this.#child = undefined
    if (c === undefined || c.exitCode !== null) return
    await new Promise<void>((r) => { c.once('exit', () => r()); c.kill('SIGKILL') })
  }

  #connect(): void {
    const o = this.#o
    this.db ??= new pg.Pool({ connectionString: DATABASE_URL, max: 3, options: `-c search_path=${this.schema}` })
    this.redis ??= new Redis(o.redisUrl ?? REDIS_URL, { maxRetriesPerRequest: 1 })
    this.redis.on('error', () => {})
    const gatewayKeys = this.gatewaySigningKeys()
    for (const [id, p] of this.partners) {
      // A client of an earlier gateway holds connections to it: drop them.
      void p.client?.close().catch(() => {})
      const client = new TongbanClient({ baseUrl: this.url, participantId: id, signingKey: p.signingKey, encryptionKey: p.encryptionKey, gatewayKeys, ...(o.clock ? { clock: o.clock } : {}) })
      ;(p as { client: TongbanClient }).client = client
      p.server.setInbox(new PartnerInbox(p.encryptionKey, () => client.directory(), id), client)
    }
  }

  /** The gateway's public signing keys (pinned by clients). */
  gatewaySigningKeys(): PublicKey[] {
    return GatewayKeyring.load(join(this.dir, 'gateway'), this.config.gatewayId).publicKeys().signing.map((k) => k)
  }

  /** A client for the test operator. */
  operatorClient(): TongbanClient {
    return new TongbanClient({ baseUrl: this.url, participantId: this.operator.id, signingKey: this.operator.key, gatewayKeys: this.gatewaySigningKeys(), ...(this.#o.clock ? { clock: this.#o.clock } : {}) })
  }

  partner(id: string): WorldPartner {
    const p = this.partners.get(id)
    if (p === undefined) throw new Error(`no partner ${id}`)
    return p
  }

  client(id: string): TongbanClient {
    return this.partner(id).client
  }

  /** Stops the gateway (keeps the database, Redis keys and partners). */
  async stopGateway(): Promise<void> {
    for (const p of this.partners.values()) await p.client?.close().catch(() => {})
    if (this.#child !== undefined) {
      const c = this.#child
      this.#child = undefined
      if (c.exitCode === null) await new Promise<void>((r) => { c.once('exit', () => r()); c.kill('SIGTERM') })
    }
    await this.app?.close()
  }

  /** Row counts of the acceptance tables (to show a rejected request left nothing). */
  async counts(): Promise<{ exchanges: number; deliveries: number; cases: number; steps: number; participants: number; queries: number; loanApplications: number; housingContracts: number; strayJobs: number }> {
    const q = async (table: string): Promise<number> => Number((await this.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n)
    // A job is stray when no delivery row stands behind it: what a rejected request must not leave.
    // (Jobs of accepted messages come and go as deliveries complete, so they are not counted.)
    const ids = await this.jobIds()
    const known = ids.length === 0 ? 0 : Number((await this.db.query('SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1::uuid[])', [ids])).rows[0].n)
    return {
      exchanges: await q('exchanges'), deliveries: await q('deliveries'), cases: await q('cases'), steps: await q('case_steps'),
      participants: await q('case_participants'), queries: await q('queries'), loanApplications: await q('loan_applications'),
      housingContracts: await q('housing_contracts'), strayJobs: ids.length - known,
    }
  }

  /** Ids of the delivery jobs BullMQ holds (each job is a hash at <prefix>:<queue>:<job id>; job ids are delivery ids). */
  async jobIds(): Promise<string[]> {
    const keys = await this.redis.keys(`${this.prefix}:deliver.*`).catch(() => [] as string[])
    return keys.map((k) => /:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(k)?.[1]).filter((id): id is string => id !== undefined)
  }

  /**
   * Delivery rows by status, once every delivery has left `pending` (or after `ms`): the
   * gateway records a delivery right after the partner's 2xx, so a partner may have a message
   * a moment before PostgreSQL says so.
   */
  async deliveryStatus(ms = 10_000): Promise<Array<{ status: string; n: number }>> {
    const end = Date.now() + ms
    for (;;) {
      const rows = (await this.db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status ORDER BY status`)).rows
      if (!rows.some((r) => r.status === 'pending') || Date.now() > end) return rows
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** Everything logged (in this process, and by a child-process gateway), as one string. */
  logText(): string {
    return this.logs.join('') + (existsSync(this.#logFile) ? readFileSync(this.#logFile, 'utf8') : '')
  }

  /**
   * Asserts that nothing the gateway logged in this world, and nothing it stored in clear in
   * PostgreSQL, contains a name, ID number, phone number or address from the fixtures.
   */
  async checkLogs(t: Assert): Promise<void> {
    const text = this.logText()
    t.ok(text.includes('message accepted') || text.includes('request rejected'), 'the gateway did log this run (the check is not vacuous)')
    const stored = await this.storedText()
    const leaks = personalData().filter((s) => text.includes(s))
    t.same(leaks, [], 'no personal data in the logs')
    const storedLeaks = personalData().filter((s) => stored.includes(s))
    t.same(storedLeaks, [], 'no personal data in clear in the database (bodies are sealed)')
  }

  /** Every row of every table of this world's schema, as text. */
  async storedText(): Promise<string> {
    const tables = (await this.db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1`, [this.schema])).rows
    let out = ''
    for (const { t } of tables) {
      const rows = (await this.db.query(`SELECT * FROM "${this.schema}"."${t}"`)).rows
      out += JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v))
    }
    return out
  }

  async close(): Promise<void> {
    await this.stopGateway().catch(() => {})
    for (const p of this.partners.values()) await p.server.stop()
    await this.db?.end().catch(() => {})
    this.redis?.disconnect()
    await dropSchema(this.schema).catch(() => {})
    await dropRedisPrefix(this.prefix, this.#o.redisUrl).catch(() => {})
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** The pids of a process's own children. */
export function childPids(pid: number | undefined): number[] {
  if (pid === undefined) return []
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '').map(Number)
  } catch {
    return []
  }
}

/** The peak resident memory in MB of a process and its children together (a `processes` > 1 gateway is a primary and its processes). */
export function treePeakRssMb(pid: number | undefined): number | undefined {
  const own = peakRssMb(pid)
  return own === undefined ? undefined : childPids(pid).reduce((sum, child) => sum + (peakRssMb(child) ?? 0), own)
}

/** A process's peak resident memory so far in MB (VmHWM of /proc/PID/status), if it runs. */
export function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : undefined
  } catch {
    return undefined
  }
}

/** Strings of personal data used by the fixtures (names, ID numbers, phones, addresses). */
export function personalData(): string[] {
  const file = new URL('../fixtures/personal-data.json', import.meta.url)
  if (!existsSync(file)) return []
  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown
  const out: string[] = []
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') Object.values(v).forEach(walk)
  }
  walk(raw)
  return out.filter((s) => s.length >= 2)
}

