import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadConfig, sm2ThreadOf, type Config, type DeepPartial } from '../config/index.ts'
import { GatewayKeyring, tsaAnchors, useSmBackend } from '../crypto/index.ts'
import { defaultOrigin, Ledger } from '../ledger/index.ts'
import { exportLedger } from '../ledger/export.ts'
import { tsaClient } from '../ledger/tsa.ts'
import { verifyExport, type LedgerReport } from '../ledger/verify.ts'
import { openDb } from '../store/db.ts'
import { createLogger } from '../util/log.ts'
import { systemClock, systemIds } from '../util/ids.ts'
import { UsageError } from './usage.ts'

/** The gateway's configuration for a command that reads its database and keys (flags as `serve`). */
export function gatewayConfig(values: { config?: string; keys?: string; directory?: string }): Config {
  const overrides: Record<string, unknown> = {}
  if (values.directory !== undefined) overrides.directoryFile = values.directory
  if (values.keys !== undefined) overrides.keysDir = values.keys
  return loadConfig({ env: process.env, ...(values.config !== undefined ? { file: values.config } : {}), overrides: overrides as DeepPartial<Config> })
}

/** Opens the gateway's ledger from its configuration (database and signing keys), for offline commands. */
export async function openLedger(config: Config): Promise<{ ledger: Ledger; close: () => Promise<void>; db: ReturnType<typeof openDb> }> {
  useSmBackend(config.crypto.smBackend, sm2ThreadOf(config))
  const db = openDb(config.databaseUrl, config.dbSchema, 2)
  const keyring = GatewayKeyring.load(config.keysDir, config.gatewayId)
  const ledger = new Ledger({
    db, keyring, clock: systemClock, ids: systemIds(), logger: createLogger({ level: 'warn' }),
    settings: { ...config.ledger, enabled: true, origin: config.ledger.origin ?? defaultOrigin(config.gatewayId) },
    ...(config.ledger.tsaUrl !== undefined ? { timestamp: tsaClient(config.ledger.tsaUrl, config.ledger.tsaCaFile) } : {}),
  })
  try {
    await ledger.open()
  } catch (err) {
    await db.end()
    throw err
  }
  return { ledger, db, close: () => db.end() }
}

/** Prints a verification report; exit 0 when it holds, 1 on a fault (named). */
export function printReport(what: string, r: LedgerReport): number {
  for (const n of r.notices) process.stderr.write(`notice: ${n}\n`)
  if (!r.ok) {
    process.stdout.write(`FAIL ${r.fault?.record ?? what}: ${r.fault?.message ?? ''}\n`)
    return 1
  }
  const kinds = Object.entries(r.kinds).sort().map(([k, n]) => `${k} ${n}`).join(', ')
  process.stdout.write(`OK ${what}: ${r.treeSize} entries, ${r.checkpoints} checkpoints${r.timestamps > 0 ? ` (${r.timestamps} time-stamped)` : ''}${r.rootHash ? `, root ${r.rootHash}` : ''}${kinds ? ` (${kinds})` : ''}\n`)
  return 0
}

/** `tongban ledger export|verify`. */
export async function ledgerCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'export') {
    const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, config: { type: 'string' }, keys: { type: 'string' }, directory: { type: 'string' }, 'no-settle': { type: 'boolean' } }, strict: true })
    if (values.out === undefined) throw new UsageError('ledger export needs --out DIR')
    const { ledger, db, close } = await openLedger(gatewayConfig(values))
    try {
      // Everything written so far, in the tree and under a checkpoint (unless --no-settle).
      if (!values['no-settle']) await ledger.settle()
      const r = await exportLedger(db, ledger, values.out, new Date())
      process.stdout.write(`exported ${r.treeSize} entries and ${r.checkpoints} checkpoints to ${values.out}\n`)
    } finally {
      await close()
    }
    return 0
  }
  if (sub === 'verify') {
    const { values, positionals } = parseArgs({ args: rest, options: { vkey: { type: 'string', multiple: true }, vkeys: { type: 'string' }, 'tsa-ca': { type: 'string' } }, allowPositionals: true, strict: true })
    if (positionals.length !== 1) throw new UsageError('ledger verify takes one export folder')
    const vkeys = [...(values.vkey ?? []), ...(values.vkeys !== undefined ? readFileSync(values.vkeys, 'utf8').split('\n').filter((l) => l.trim() !== '') : [])]
    const tsa = values['tsa-ca'] !== undefined ? { tsaAnchors: tsaAnchors(readFileSync(values['tsa-ca'])) } : {}
    return printReport(positionals[0] as string, await verifyExport(positionals[0] as string, { vkeys, ...tsa }))
  }
  throw new UsageError(`unknown ledger command "${sub ?? ''}" (export or verify)`)
}
