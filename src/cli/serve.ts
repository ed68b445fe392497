import { parseArgs } from 'node:util'
import { loadConfig, type Config, type DeepPartial } from '../config/index.ts'
import { buildGateway } from '../gateway/index.ts'
import { migrate, openDb } from '../store/db.ts'

const OPTIONS = {
  config: { type: 'string' },
  directory: { type: 'string' },
  keys: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'no-workers': { type: 'boolean' },
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
  return loadConfig({ env: process.env, ...(values.config !== undefined ? { file: values.config } : {}), overrides: overrides as DeepPartial<Config> })
}

/** `tongban serve` (HTTP + workers) and `tongban worker` (workers only). Runs until SIGTERM/SIGINT. */
export async function serve(command: 'serve' | 'worker', args: string[]): Promise<number> {
  const config = configFrom(args, command === 'worker' ? { http: false, workers: true } : {})
  const app = await buildGateway({ config })
  if (config.http !== false) {
    await app.listen({ host: config.listen.host, port: config.listen.port })
  } else {
    await app.ready()
    app.log.info('delivery workers running (no HTTP)')
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      app.log.info({ signal }, 'shutting down')
      resolve()
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  await app.close()
  return 0
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
