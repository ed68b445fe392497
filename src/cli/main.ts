import { ConfigError } from '../config/index.ts'
import { DirectoryError } from '../core/directory.ts'
import { StartRefused, UsageError } from './usage.ts'

const USAGE = `tongban — inter-agency data-exchange gateway (通办)

Usage:
  tongban serve --keys DIR --directory FILE [--config FILE] [--host H] [--port N] [--no-workers]
                [--allow-sample-keys]                               the gateway (the samples of certs-example/ only if allowed)
  tongban worker --keys DIR --directory FILE [--config FILE] [--allow-sample-keys]   delivery workers only, no HTTP
  tongban demo                                                        a transfer case REG → TAX → REG, end to end
  tongban migrate --keys DIR --directory FILE [--config FILE]         apply database migrations and exit
  tongban ledger export --out DIR --keys DIR --directory FILE [--config FILE] [--no-settle]
                                                                      the evidence ledger: entries, checkpoints, proofs
  tongban ledger verify DIR [--vkey VKEY …] [--vkeys FILE] [--tsa-ca PEM]  check an export offline; names the first bad record
  tongban evidence export --case ID --out FILE --keys DIR --directory FILE [--config FILE] [--operator ID]
                                                                      a case's evidence package (证据包)
  tongban evidence verify FILE [--gateway-key PEM …] [--tsa-ca PEM]  check a package offline; names what failed
  tongban directory check FILE [--config FILE | --anchor CERT[,CRL] …] [--require-certificates] [--days N]
                                                                      validate a participant directory; report
                                                                      certificates revoked or expiring within N (30) days
  tongban keys gateway --out DIR [--force]                          a complete set of gateway keys
  tongban keys generate --suite national|international --out DIR [--name NAME] [--participant ID]
                        [--kind sm2|ec-p256|rsa] [--force]          a key pair; prints kid and fingerprint
  tongban keys inspect --key FILE                                   kind, suite and fingerprint of a key
  tongban jws sign --key PRIV.pem --kid KID [--alg SM2SM3|PS256|RS256|ES256] [--typ T] < payload > jws
  tongban jws verify --key PUB.pem < jws                            prints the payload; exit 1 if invalid
  tongban jwe encrypt --key PUB.pem [--alg SM2|RSA-OAEP-256|ECDH-ES+A256KW] [--kid KID] [--cty C] < plaintext
  tongban jwe decrypt --key PRIV.pem < jwe

Configuration: environment variables TONGBAN_* (docs/configuration.md), a JSON file (--config or
TONGBAN_CONFIG), and the flags above, in increasing priority. --keys and --directory (or
TONGBAN_KEYS_DIR / TONGBAN_DIRECTORY, "keysDir" / "directoryFile") have no default. A local trial
with the sample keys and directory of certs-example/: npm start.`


async function main(argv: string[]): Promise<number> {
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
  } else if (err instanceof ConfigError || err instanceof DirectoryError || err instanceof StartRefused || (err as { code?: string }).code === 'ERR_SM_BACKEND') {
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

