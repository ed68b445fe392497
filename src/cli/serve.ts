import cluster from 'node:cluster'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, sm2ThreadOf, type Config, type DeepPartial } from '../config/index.ts'
import { GatewayKeyring, useSmBackend } from '../crypto/index.ts'
import { buildGateway } from '../gateway/index.ts'
import { migrate, openDb } from '../store/db.ts'
import { createLogger, type Logger } from '../util/log.ts'
import { StartRefused } from './usage.ts'
import { inCluster, runPrimary, shareMetrics } from './cluster.ts'

const OPTIONS = {
  config: { type: 'string' },
  directory: { type: 'string' },
  keys: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'no-workers': { type: 'boolean' },
  'allow-sample-keys': { type: 'boolean' },
  processes: { type: 'string' },
} as const

function configFrom(args: string[], extra: DeepPartial<Config> = {}): Config {
  const { values } = parseArgs({ args, options: OPTIONS, allowPositionals: false, strict: true })
  const overrides: Record<string, unknown> = { ...extra }
  if (values.directory !== undefined) overrides.directoryFile = values.directory
  if (values.keys !== undefined) overrides.keysDir = values.keys
  const listen: Record<string, unknown> = {}
  if (values.host !== undefined) listen.host = values.host
  if (values.port !== undefined) listen.port = /^\d+$/.test(values.port) ? Number(values.port) : values.port
  if (Object.keys(listen).length > 0) overrides.listen = listen
  if (values['no-workers']) overrides.workers = false
  if (values['allow-sample-keys']) overrides.allowSampleKeys = true
  if (values.processes !== undefined) overrides.processes = /^\d+$/.test(values.processes) ? Number(values.processes) : values.processes
  return loadConfig({ env: process.env, ...(values.config !== undefined ? { file: values.config } : {}), overrides: overrides as DeepPartial<Config> })
}

/** `tongban serve` (HTTP + workers) and `tongban worker` (workers only). Runs until SIGTERM/SIGINT; SIGHUP reloads the directory. */
export async function serve(command: 'serve' | 'worker', args: string[]): Promise<number> {
  // Until the gateway is up, a SIGHUP (a reload asked too early) must not end the process.
  const early = (): void => {}
  process.on('SIGHUP', early)
  // One of several processes (`processes`): the primary serves /metrics for them all.
  const config = configFrom(args, { ...(command === 'worker' ? { http: false, workers: true } : {}), ...(inCluster() ? { metrics: { enabled: false } } : {}) })
  const logger = createLogger({ level: config.log.level, file: config.log.file })
  // Refusals come before anything starts (migrations, queues, workers). The gateway chooses
  // the SM2 implementation again at boot; an unavailable one throws ERR_SM_BACKEND here first.
  useSmBackend(config.crypto.smBackend, sm2ThreadOf(config))
  refuseSampleKeys(config, logger)
  if (config.processes > 1 && !inCluster()) {
    return runPrimary(config, logger)
  }
  const app = await buildGateway({ config, logger })
  if (inCluster()) shareMetrics(app.tb.metrics.registry)
  try {
    if (config.http !== false) {
      await app.listen({ host: config.listen.host, port: config.listen.port })
    } else {
      await app.ready()
      app.log.info('delivery workers running (no HTTP)')
    }
  } catch (err) {
    // Its port taken (EADDRINUSE), say: the process ends, rather than living on without it.
    await app.close().catch(() => {})
    throw err
  }
  // SIGHUP reloads the participant directory (and its CRLs): validated first, the old one kept
  // on a fault (the reload logs either way).
  const reload = (): void => { app.tb.reloadDirectory('SIGHUP').catch(() => {}) }
  process.on('SIGHUP', reload)
  process.off('SIGHUP', early)
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      app.log.info({ signal }, 'shutting down')
      resolve()
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  process.off('SIGHUP', reload)
  await app.close()
  // One of several processes: the channel to the primary would keep this one alive.
  if (inCluster()) cluster.worker?.disconnect()
  return 0
}

/**
 * The keys of certs-example/ are public: with them anyone can mint an operator token, read
 * stored bodies or sign as the gateway. Refuse them unless the configuration allows them for a
 * local trial; then say so loudly.
 */
function refuseSampleKeys(config: Config, logger: Logger): void {
  let keyring: GatewayKeyring
  try {
    keyring = GatewayKeyring.load(config.keysDir, config.gatewayId)
  } catch (err) {
    throw new ConfigError([`/keysDir: ${(err as Error).message} (make the gateway's keys with \`tongban keys gateway --out DIR\`)`])
  }
  const samples = keyring.sampleKeys()
  if (samples.length === 0) return
  const list = samples.map((m) => `  - ${m.file} is the sample ${m.sample}`).join('\n')
  if (!config.allowSampleKeys) {
    throw new StartRefused(
      `refusing to start: these gateway keys are the published samples of certs-example/, known to anyone (who could mint an operator token with them):\n${list}\n` +
      'Make the gateway\'s own keys with `tongban keys gateway --out DIR` and pass --keys DIR (TONGBAN_KEYS_DIR, "keysDir"). ' +
      'For a local trial only, allow the samples with --allow-sample-keys (TONGBAN_ALLOW_SAMPLE_KEYS=true, "allowSampleKeys": true).',
    )
  }
  logger.warn({ sampleKeys: samples.map((m) => m.sample) }, 'RUNNING WITH THE PUBLISHED SAMPLE KEYS OF certs-example/ (allowSampleKeys): anyone can mint an operator token; for local trials only, never with real data')
}

/** `tongban migrate`: applies the database migrations and exits. */
export async function migrateOnly(args: string[]): Promise<number> {
  const config = configFrom(args)
  const db = openDb(config.databaseUrl, config.dbSchema, 1)
  try {
    const applied = await migrate(db, config.dbSchema)
    process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`)
  } finally {
    await db.end()
  }
  return 0
}
