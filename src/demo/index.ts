import { verifyEvidence } from '../ledger/evidence.ts'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { Redis } from 'ioredis'
import { redisOptions, redisWhere } from '../gateway/redis-options.ts'
import type { FastifyInstance } from 'fastify'
import { loadConfig, type Config } from '../config/index.ts'
import { GatewayKeyring } from '../crypto/index.ts'
import { buildGateway } from '../gateway/index.ts'
import { createLogger } from '../util/log.ts'
import { SimulatedAgency } from './agency.ts'
import { CAST, keysOf, LEGACY_TAX, type Role } from './cast.ts'
import { LegacyTaxSystem } from '../../adapters/legacy-tax/reference-partner.ts'
import { legacyTaxBureau, wangkuiTransfer } from './scenes/wangkui.ts'
import { formatCase, type CaseDoc } from './print.ts'
import { taxBureau } from './scenes/transfer.ts'
import { addSeizedUnit, seizureAndRelease, seizureDesk } from './scenes/court.ts'
import { addFundSaleUnit, providentFundLoan } from './scenes/fund.ts'
import { BUYER, certificateCheck, morningRegister, preRegistration, registrationCentre, SALE, SALE_UTILITIES, secondHandSale, type DayCast } from './scenes/day.ts'
import { utilityCompany, utilityTransfers } from './scenes/utilities.ts'
import { homeCentre, SUIHUA, suihuaCase } from './scenes/suihua.ts'
import { developerBatch } from './scenes/developer.ts'

/** The demo's hour, in hours: Suihua's one-hour promise for a plain cross-region transfer, shortened so the day shows it missed. */
const DEMO_HOUR = 0.0005

const OPTIONS = {
  schema: { type: 'string', default: 'tongban_demo' },
  prefix: { type: 'string', default: 'tongban-demo' },
  certs: { type: 'string', default: 'certs-example' },
  keep: { type: 'boolean', default: false },
  log: { type: 'string' },
  /** Where to write the transfer case's evidence package (证据包), for checking it later with `tongban evidence verify`. */
  evidence: { type: 'string' },
} as const

/**
 * `tongban demo`: the gateway plus simulated agencies on loopback (real HTTP, the client SDK,
 * the sample keys of certs-example/), real PostgreSQL and Redis. A registration centre pushes a
 * second-hand-house transfer to tax, tax assesses and posts 完税, and the demo prints the case
 * timeline. Uses its own database schema and Redis prefix, cleared at start; ends by itself.
 */
export async function runDemo(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: OPTIONS, strict: true })
  const certs = resolve(values.certs)
  if (!existsSync(join(certs, 'gateway'))) throw new Error(`no sample keys in ${certs} (run certs-example/make.sh)`)
  const say = (who: string, text: string): void => { process.stdout.write(`[${who}] ${text}\n`) }
  const tmp = mkdtempSync(join(tmpdir(), 'tongban-demo-'))
  const logFile = values.log !== undefined ? resolve(values.log) : join(tmp, 'gateway.log')

  const roles: Role[] = [CAST.reg, CAST.tax, CAST.housing, CAST.bank, CAST.regWangkui, CAST.fund, CAST.court, CAST.water, CAST.power, CAST.developer]
  const gatewayKeys = GatewayKeyring.load(join(certs, 'gateway'), 'TONGBAN').publicKeys().signing
  const agencies = new Map<string, SimulatedAgency>()
  const directory: Array<Record<string, unknown>> = []
  for (const role of roles) {
    const keys = keysOf(certs, role)
    const agency = new SimulatedAgency({ id: role.id, name: role.name, ...keys, gatewayKeys, say })
    const base = await agency.listen()
    agencies.set(role.id, agency)
    directory.push({
      id: role.id, name: role.name, ...(role.divisions ? { divisions: role.divisions } : {}),
      signingKeys: [{ kid: keys.signingKey.kid, publicKey: keys.signingKey.publicKey.toPem() }],
      encryptionKey: { kid: keys.encryptionKey.kid, publicKey: keys.encryptionKey.publicKey.toPem() },
      endpoint: `${base}/inbox`, queryEndpoint: `${base}/query`, adapter: role.adapter ?? 'native',
      ...(role.adapterOptions ? { adapterOptions: role.adapterOptions } : {}),
      send: role.send, receive: role.receive,
    })
  }
  // The legacy tax bureau is a vendor system of its own: an HMAC secret instead of keys.
  let gatewayUrl = ''
  const legacy = new LegacyTaxSystem({
    participantId: LEGACY_TAX.id, gatewayUrl: () => gatewayUrl,
    secret: Buffer.from(readFileSync(join(certs, 'gateway', 'partners', `${LEGACY_TAX.id.replace(/:/g, '_')}.secret`), 'utf8').trim(), 'base64'),
  })
  await legacy.start()
  // On loopback here; a real legacy link is TLS or the land-resources private network.
  directory.push({ ...LEGACY_TAX, adapter: 'legacy-tax', endpoint: legacy.endpoint, privateNetwork: { sources: ['127.0.0.1/32', '::1/128'] } })
  writeFileSync(join(tmp, 'directory.json'), JSON.stringify({ version: 1, participants: directory }, null, 2))

  const config = loadConfig({
    env: process.env,
    overrides: {
      dbSchema: values.schema, redisPrefix: values.prefix, keysDir: join(certs, 'gateway'), directoryFile: join(tmp, 'directory.json'),
      // The demo is the one place the published sample keys belong (on loopback, with made-up people).
      allowSampleKeys: true,
      listen: { host: '127.0.0.1', port: 0 }, log: { level: 'info', file: logFile }, metrics: { enabled: true, host: '127.0.0.1', port: 0 }, console: { enabled: false },
      delivery: { attempts: 8, backoffMs: 200, maxBackoffMs: 2_000, maxAgeSeconds: 3_600, sweepIntervalMs: 2_000, sweepGraceMs: 2_000, concurrency: 4, lockMs: 10_000 },
      // The demo's day is short: its "hour" for a plain cross-region transfer lasts 1.8 s, and
      // overdue steps are looked for every half second.
      deadlines: { checkIntervalMs: 500, workingDays: { tax: 5, registration: 5, mortgage: 1, preregistration: 5, housing: 5, seizure: 1, release: 1, utility: 3, 'cross-region': 5, print: 1 }, hours: { 'cross-region.plain': DEMO_HOUR } },
    },
  })
  await resetDemoState(config)

  let app: FastifyInstance | undefined
  try {
    app = await buildGateway({ config, logger: createLogger({ level: 'info', file: logFile }) })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    gatewayUrl = url
    say('gateway', `listening on ${url}; PostgreSQL schema "${config.dbSchema}", Redis prefix "${config.redisPrefix}"; JSON log: ${logFile}`)
    for (const a of agencies.values()) a.connect(url)

    const agency = (id: string): SimulatedAgency => agencies.get(id) as SimulatedAgency
    const cast: DayCast = { reg: agency(CAST.reg.id), tax: agency(CAST.tax.id), housing: agency(CAST.housing.id), bank: agency(CAST.bank.id) }
    const register = morningRegister()
    registrationCentre(cast.reg, register)
    addSeizedUnit(register)
    addFundSaleUnit(register)
    seizureDesk(cast.reg, register)
    taxBureau(cast.tax)
    homeCentre(agency(CAST.regWangkui.id), { clerkMs: 2_500 })
    utilityCompany(agency(CAST.water.id))
    utilityCompany(agency(CAST.power.id))

    const started = Date.now()
    process.stdout.write('\n— Morning: a second-hand house sale with a mortgage loan (网签备案 → 抵押查询 → 征税/完税 → 抵押登记 → 登簿) —\n')
    const held = await secondHandSale(cast, register)
    process.stdout.write('\n— The buyer asked for the water and power accounts to move with the title (水电气热同步过户) —\n')
    await utilityTransfers(cast.reg, { caseId: SALE.caseId, unitCode: SALE.unitCode, buyer: BUYER, registeredAt: register.unit(SALE.unitCode).registeredAt, accounts: SALE_UTILITIES })
    await certificateCheck(cast.bank, CAST.reg.id, held)
    process.stdout.write('\n— Afternoon: a new-build sale, pre-registration pushed to the bank and the tax bureau (预告登记) —\n')
    const preCase = await preRegistration(cast)
    process.stdout.write('\n— Later: a sale in 望奎县, whose tax bureau runs a legacy system (flat JSON, 万元, HMAC-SM3) —\n')
    legacyTaxBureau(legacy, (text) => say(LEGACY_TAX.name, text))
    const wkCase = await wangkuiTransfer(agency(CAST.regWangkui.id))
    process.stdout.write(`\n— Suihua's platform: applied in 北林区 for a flat in 望奎县, examined and registered in 望奎, printed in 北林 (异地申请·属地审核·远程打印; the promise for a plain transfer is one hour, ${DEMO_HOUR * 3600} s in the demo) —\n`)
    const suihua = await suihuaCase(cast.reg)
    process.stdout.write('\n— A provident-fund loan: the fund centre lends like a bank (公积金贷款: 贷前查询 → 抵押登记 → 登簿) —\n')
    const fundCase = await providentFundLoan(cast.reg, agency(CAST.fund.id), register)
    process.stdout.write('\n— A court seizes a unit online, a bank\'s query shows it, the court releases it (在线查封 → 抵押查询 → 解封) —\n')
    const courtCase = await seizureAndRelease(agency(CAST.court.id), cast.bank)

    process.stdout.write('\n— A developer files the pre-sale pre-registrations of a whole building in one batch (批量办理: 200 flats, one request) —\n')
    await developerBatch(agency(CAST.developer.id), cast.reg)

    await Promise.all([...agencies.values()].map((a) => a.settle()))
    await settleDeliveries(config)
    process.stdout.write('\n— The cases as the registration centre sees them (GET /v1/cases/:caseId) —\n')
    for (const [caseId, viewer] of [[SALE.caseId, cast.reg], [preCase, cast.reg], [wkCase, agency(CAST.regWangkui.id)], [suihua, cast.reg], [SUIHUA.homeCaseId, cast.reg], [fundCase, cast.reg], [courtCase, cast.reg]] as const) {
      const c = await viewer.client.getCase(caseId)
      process.stdout.write(`\n${formatCase(c.json as CaseDoc)}\n`)
    }
    const queries = (await cast.bank.client.http('GET', '/v1/queries')).json as { queries: Array<{ queryId: string; type: string; purpose: string; applicationNo: string | null; certificateNo: string | null; outcome: string; askedAt: string }> }
    process.stdout.write(`\n— The bank's query record (GET /v1/queries) —\n${queries.queries.map((q) => `  ${q.askedAt}  ${q.type}  ${q.purpose}  ${q.applicationNo !== null ? `loan ${q.applicationNo}` : `certificate ${q.certificateNo ?? ''}`}  ${q.outcome}`).join('\n')}\n`)
    process.stdout.write('\n— The evidence (存证): the transfer case\'s evidence package, checked offline with the pinned gateway keys —\n')
    const pkg = await cast.reg.client.http('GET', `/v1/cases/${SALE.caseId}/evidence`)
    const report = await verifyEvidence(pkg.text, { gatewayKeys })
    say(CAST.reg.name, report.ok
      ? `evidence package of case ${SALE.caseId}: ${report.exchanges} messages with their receipts and delivery statements, ${report.entries} ledger entries proved in one signed checkpoint — verified offline`
      : `evidence package of case ${SALE.caseId} FAILED: ${report.fault?.record ?? ''}: ${report.fault?.message ?? ''}`)
    if (values.evidence !== undefined) writeFileSync(resolve(values.evidence), `${pkg.text}\n`)
    const seen = await cast.reg.client.ledger.checkpoint()
    say(CAST.reg.name, `ledger checkpoint ${seen.origin}: ${seen.treeSize} entries, root ${seen.rootHash} (signed SM2 + ES256)`)
    say('demo', `the day's work took ${Date.now() - started} ms`)
    return 0
  } finally {
    for (const a of agencies.values()) await a.close().catch(() => {})
    await legacy.stop().catch(() => {})
    await app?.close()
    if (!values.keep) rmSync(tmp, { recursive: true, force: true })
  }
}

/** The demo starts from nothing each time: its own schema and Redis keys only. */
async function resetDemoState(config: Config): Promise<void> {
  const db = new pg.Client({ connectionString: config.databaseUrl })
  try {
    await db.connect()
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${config.databaseUrl} (${(err as Error).message}): start it, or set TONGBAN_DATABASE_URL`)
  }
  try {
    await db.query(`DROP SCHEMA IF EXISTS "${config.dbSchema}" CASCADE`)
  } finally {
    await db.end()
  }
  const redis = new Redis({ ...redisOptions(config), lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, sentinelRetryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
  } catch (err) {
    throw new Error(`Redis is not reachable at ${redisWhere(config)} (${(err as Error).message}): start it, or set TONGBAN_REDIS_URL`)
  }
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redisPrefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** Waits until no delivery is pending (the last events reach the timeline). */
async function settleDeliveries(config: Config): Promise<void> {
  const db = new pg.Client({ connectionString: config.databaseUrl, options: `-c search_path=${config.dbSchema}` })
  await db.connect()
  try {
    const end = Date.now() + 20_000
    while (Date.now() < end) {
      const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'`)
      if ((r.rows[0]?.n ?? 0) === 0) return
      await new Promise((res) => setTimeout(res, 50))
    }
  } finally {
    await db.end()
  }
}
