/** Thrown for a wrong command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** A refusal to start that the operator fixes in the configuration: printed alone, exit code 78 (EX_CONFIG). */
export class StartRefused extends Error {}

/** The command line's usage (tongban --help). */
export const USAGE = `tongban — inter-agency data-exchange gateway (通办)

Usage:
  tongban serve --keys DIR --directory FILE [--config FILE] [--host H] [--port N] [--no-workers]
                [--processes N] [--allow-sample-keys]               the gateway (the samples of certs-example/ only if allowed);
                                                                      N processes on one port (node:cluster), one per core
  tongban worker --keys DIR --directory FILE [--config FILE] [--processes N] [--allow-sample-keys]
                                                                      delivery workers only, no HTTP
  tongban demo [--evidence FILE] [--schema S] [--prefix P] [--certs DIR] [--keep] [--log FILE]
                                                                      a day at the one-window, end to end; --evidence writes
                                                                      the transfer case's evidence package
  tongban migrate --keys DIR --directory FILE [--config FILE]         apply database migrations and exit
  tongban ledger export --out DIR --keys DIR --directory FILE [--config FILE] [--no-settle]
                                                                      the evidence ledger: entries, checkpoints, proofs
  tongban ledger verify DIR [--vkey VKEY …] [--vkeys FILE] [--tsa-ca PEM]  check an export offline; names the first bad record
  tongban evidence export --case ID --out FILE --keys DIR --directory FILE [--config FILE] [--operator ID]
                                                                      a case's evidence package (证据包)
  tongban evidence verify FILE [--gateway-key PEM …] [--tsa-ca PEM]  check a package offline; names what failed
  tongban partner init --role REG|TAX|HOUSING|BANK|FUND|COURT|UTILITY|ENTERPRISE --code CODE [--subsystem S] [--name NAME] [--suite national|international]
                       --out DIR [--division D …] [--endpoint URL] [--gateway URL] [--gateway-key PEM …] [--gateway-id ID] [--force]
                                                                      a new partner's keys, CSRs for its CA, directory entry
                                                                      and a runnable sample client
  tongban operators add --username U --role viewer|operator|auditor [--name NAME] --keys DIR --directory FILE [--config FILE] < password
                                                                      a console operator (argon2id password from stdin; prints
                                                                      the TOTP secret once)
  tongban operators passwd --username U [--new-totp] --keys DIR --directory FILE [--config FILE] < password
                                                                      a new password (and TOTP secret); ends their sessions
  tongban operators disable --username U --keys DIR --directory FILE [--config FILE]   stop an operator's log-ins, end their sessions
  tongban operators enable --username U --keys DIR --directory FILE [--config FILE]    allow a disabled operator again
  tongban operators list --keys DIR --directory FILE [--config FILE]  the console's operators, role and state
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

/**
 * `tongban <command> [<subcommand>] --help` (or -h): the usage of that command, from USAGE, exit 0.
 * The words before the option pick the entries (`keys` → every keys command; `keys generate` → one).
 */
export function helpFor(argv: readonly string[]): string | undefined {
  const at = argv.findIndex((a) => a === '--help' || a === '-h')
  if (at <= 0) return undefined
  const words = argv.slice(0, at).filter((a) => !a.startsWith('-'))
  const entries: string[][] = []
  for (const line of USAGE.split('\n')) {
    if (line.startsWith('  tongban ')) entries.push([line])
    else if (/^ {3,}\S/.test(line) && entries.length > 0) entries.at(-1)?.push(line)
    else if (line.trim() === '' || !line.startsWith(' ')) entries.push([])
  }
  const matching = entries.filter((e) => {
    const head = e[0]?.trim().split(/\s+/).slice(1) ?? []
    return words.length > 0 && words.every((w, i) => head[i] === w)
  })
  if (matching.length === 0) throw new UsageError(`unknown command "${words.join(' ')}"`)
  return `Usage:\n${matching.map((e) => e.join('\n')).join('\n')}\n\nConfiguration and every command: tongban --help\n`
}

