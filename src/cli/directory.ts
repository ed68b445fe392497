import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config/index.ts'
import { Directory } from '../core/directory.ts'
import { createMessageValidator } from '../core/schemas.ts'
import { PkiError, TrustStore, type PkiSettings } from '../crypto/index.ts'
import { ADAPTERS } from '../../adapters/index.ts'
import { UsageError } from './usage.ts'

const USAGE = 'usage: tongban directory check FILE [--config FILE | --anchor CERT[,CRL] …] [--require-certificates] [--days N]'
const DAY_MS = 86_400_000

/**
 * `tongban directory check FILE`: validates a directory as the gateway would at boot, with the
 * trust anchors of a gateway configuration (--config) or given one by one (--anchor), and
 * reports every certificate that is revoked (an error: exit 1) or expires within --days (30).
 */
export async function directoryCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string' }, anchor: { type: 'string', multiple: true }, 'require-certificates': { type: 'boolean' }, days: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  })
  const [sub, file, ...extra] = positionals
  if (sub !== 'check' || file === undefined || extra.length > 0) throw new UsageError(USAGE)
  if (values.days !== undefined && !/^\d+$/.test(values.days)) throw new UsageError(`--days must be a number of days\n${USAGE}`)
  const days = values.days === undefined ? 30 : Number(values.days)
  const now = new Date()

  const notices: string[] = []
  let trust: TrustStore
  try {
    trust = TrustStore.load(pkiSettings(values, file), now, notices)
  } catch (err) {
    throw err instanceof PkiError ? new ConfigError(err.problems) : err
  }
  const validator = createMessageValidator()
  const dir = Directory.load(file, { adapters: ADAPTERS, knownType: (t) => validator.types().some((x) => x.type === t), trust })

  const errors: string[] = []
  const warnings = [...new Set([...notices, ...dir.notices])]
  const keys = dir.certifiedKeys()
  for (const k of keys) {
    const name = `${k.owner} ${k.kid} (${k.use}, certificate ${k.certificate.serial})`
    const state = dir.keyState(k.key, now)
    const left = Math.floor((k.certificate.notAfter.getTime() - now.getTime()) / DAY_MS)
    if (state === 'revoked') errors.push(`${name}: revoked by the CRL of ${k.certificate.issuer}`)
    else if (state === 'expired') errors.push(`${name}: expired on ${k.certificate.notAfter.toISOString()}`)
    else if (left < days) warnings.push(`${name}: expires on ${k.certificate.notAfter.toISOString()} (in ${left} days)`)
  }
  process.stdout.write(`${file}: ${dir.participants().length} participants, ${keys.length} keys given as certificates, ${trust.anchors().length} trust anchors\n`)
  for (const w of warnings) process.stdout.write(`  warning: ${w}\n`)
  for (const e of errors) process.stdout.write(`  error: ${e}\n`)
  process.stdout.write(errors.length === 0 ? `${file}: valid\n` : `${file}: ${errors.length} error(s)\n`)
  return errors.length === 0 ? 0 : 1
}

/** The trust anchors from --config (the gateway's `pki`) or from --anchor CERT[,CRL] flags. */
function pkiSettings(values: { config?: string; anchor?: string[]; 'require-certificates'?: boolean }, directoryFile: string): PkiSettings {
  const require = values['require-certificates']
  if (values.config !== undefined) {
    if (values.anchor !== undefined) throw new UsageError(`give --config or --anchor, not both\n${USAGE}`)
    // keysDir is required by the schema but not used here.
    const config = loadConfig({ env: process.env, file: values.config, overrides: { directoryFile, keysDir: '.' } })
    return require ? { ...config.pki, requireCertificates: true } : config.pki
  }
  const anchors = (values.anchor ?? []).map((a) => {
    const [cert, crl, ...rest] = a.split(',')
    if (cert === undefined || cert === '' || rest.length > 0 || crl === '') throw new UsageError(`--anchor takes CERT or CERT,CRL\n${USAGE}`)
    return crl === undefined ? { file: cert } : { file: cert, crl }
  })
  return { anchors, requireCertificates: require ?? false }
}
