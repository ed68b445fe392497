/**
 * `tongban keys …`: key files for participants and for the gateway itself.
 *   keys generate --suite national|international --out DIR [--name NAME] [--participant ID] [--kind sm2|ec-p256|rsa] [--force]
 *   keys gateway --out DIR [--force]
 *   keys inspect --key FILE
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { GATEWAY_KEY_FILES, GatewayKeyring, PrivateKey, PublicKey, type KeyKind, type Suite } from '../crypto/index.ts'
import { UsageError } from './usage.ts'

const KINDS: Record<Suite, readonly KeyKind[]> = { national: ['sm2'], international: ['ec-p256', 'rsa'] }
const DEFAULT_NAME: Record<KeyKind, string> = { sm2: 'sign-sm2', 'ec-p256': 'sign-es256', rsa: 'enc-rsa' }
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Dispatches `tongban keys <sub>`. */
export async function keysCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  switch (sub) {
    case 'generate':
      return generate(rest)
    case 'gateway':
      return gateway(rest)
    case 'inspect':
      return inspectKey(rest)
    default:
      throw new UsageError(sub === undefined ? 'keys: generate, gateway or inspect?' : `keys: unknown subcommand "${sub}"`)
  }
}

function refuseOverwrite(files: string[], force: boolean | undefined): void {
  const existing = files.filter((f) => existsSync(f))
  if (existing.length > 0 && !force) throw new UsageError(`refusing to overwrite ${existing.join(', ')} (use --force)`)
}

function generate(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      suite: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      participant: { type: 'string' },
      kind: { type: 'string' },
      force: { type: 'boolean' },
    },
    strict: true,
  })
  const suite = values.suite
  if (suite !== 'national' && suite !== 'international') throw new UsageError('keys generate: --suite national|international is required')
  if (values.out === undefined) throw new UsageError('keys generate: --out DIR is required')
  const kind = (values.kind ?? KINDS[suite][0]) as KeyKind
  if (!KINDS[suite].includes(kind)) throw new UsageError(`keys generate: --kind for the ${suite} suite is ${KINDS[suite].join(' or ')}`)
  const name = values.name ?? DEFAULT_NAME[kind]
  if (!NAME.test(name)) throw new UsageError('keys generate: --name is 1–64 letters, digits, ".", "_" or "-"')
  const kid = values.participant === undefined ? name : `${values.participant}#${name}`
  const privFile = join(values.out, `${name}.key.pem`)
  const pubFile = join(values.out, `${name}.pub.pem`)
  refuseOverwrite([privFile, pubFile], values.force)

  const { privateKey, privatePem } = PrivateKey.generate(kid, kind, kind === 'rsa' ? { rsaBits: 2048 } : {})
  mkdirSync(values.out, { recursive: true })
  writeFileSync(privFile, privatePem, { mode: 0o600 })
  writeFileSync(pubFile, privateKey.publicKey.toPem(), { mode: 0o644 })
  process.stdout.write(
    [`kid: ${kid}`, `suite: ${suite}`, `kind: ${kind}`, `fingerprint: ${privateKey.publicKey.fingerprint}`, `private: ${privFile}`, `public: ${pubFile}`, ''].join('\n'),
  )
  return 0
}

function gateway(args: string[]): number {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, force: { type: 'boolean' } }, strict: true })
  if (values.out === undefined) throw new UsageError('keys gateway: --out DIR is required')
  const dir = values.out
  refuseOverwrite(Object.values(GATEWAY_KEY_FILES).map((f) => join(dir, f)), values.force)
  GatewayKeyring.generate(dir)
  for (const file of Object.values(GATEWAY_KEY_FILES)) {
    if (!file.endsWith('.pem')) {
      process.stdout.write(`${file}: secret (32 bytes)\n`)
      continue
    }
    const key = PrivateKey.fromPem(file.replace(/\.key\.pem$/, ''), readFileSync(join(dir, file), 'utf8'))
    process.stdout.write(`${file}: ${key.kind} ${key.publicKey.fingerprint}\n`)
  }
  return 0
}

function inspectKey(args: string[]): number {
  const { values } = parseArgs({ args, options: { key: { type: 'string' }, kid: { type: 'string' } }, strict: true })
  if (values.key === undefined) throw new UsageError('keys inspect: --key FILE is required')
  const pem = readFileSync(values.key, 'utf8')
  const kid = values.kid ?? ''
  const pub = /PRIVATE KEY-----/.test(pem) ? PrivateKey.fromPem(kid, pem).publicKey : PublicKey.fromPem(kid, pem)
  process.stdout.write([`kind: ${pub.kind}`, `suite: ${pub.suite}`, `jws: ${pub.jwsAlgs.join(', ')}`, `jwe: ${pub.jweAlg}`, `fingerprint: ${pub.fingerprint}`, ''].join('\n'))
  return 0
}
