import { helpFor, StartRefused, USAGE, UsageError } from './usage.ts'

// The configuration and the directory (ajv and the crypto room) are imported only by the commands
// that use them, and by the error handler below once something failed: `--help` loads neither.

async function main(argv: string[]): Promise<number> {
  const help = helpFor(argv)
  if (help !== undefined) {
    process.stdout.write(help)
    return 0
  }
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
    case 'worker':
      return (await import('./serve.ts')).serve(command, rest)
    case 'migrate':
      return (await import('./serve.ts')).migrateOnly(rest)
    case 'ledger':
      return (await import('./ledger.ts')).ledgerCommand(rest)
    case 'evidence':
      return (await import('./evidence.ts')).evidenceCommand(rest)
    case 'partner':
      return (await import('./partner.ts')).partnerCommand(rest)
    case 'operators':
      return (await import('./operators.ts')).operatorsCommand(rest)
    case 'demo':
      return (await import('../demo/index.ts')).runDemo(rest)
    case 'directory':
      return (await import('./directory.ts')).directoryCommand(rest)
    case 'keys':
      return (await import('./keys.ts')).keysCommand(rest)
    case 'jws':
    case 'jwe':
      return (await import('./jose.ts')).joseCommand(command, rest)
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`)
      return command === undefined ? 2 : 0
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`tongban: ${err.message}\n\n${USAGE}\n`)
    process.exitCode = 2
  } else if (await isConfigError(err) || err instanceof StartRefused || (err as { code?: string }).code === 'ERR_SM_BACKEND') {
    // ERR_SM_BACKEND: the configured SM2 implementation cannot run here (crypto.smBackend).
    process.stderr.write(`tongban: ${(err as Error).message}\n`)
    process.exitCode = 78 // EX_CONFIG
  } else if ((err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    process.stderr.write(`tongban: ${(err as Error).message}\n`)
    process.exitCode = 2
  } else {
    process.stderr.write(`tongban: ${(err as Error).message}\n`)
    process.exitCode = 1
  }
}

/** A refusal of the configuration or the directory (EX_CONFIG); their modules are loaded by now if they threw. */
async function isConfigError(err: unknown): Promise<boolean> {
  const [{ ConfigError }, { DirectoryError }] = await Promise.all([import('../config/index.ts'), import('../core/directory.ts')])
  return err instanceof ConfigError || err instanceof DirectoryError
}

