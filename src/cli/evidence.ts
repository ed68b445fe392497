import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ADAPTERS } from '../../adapters/index.ts'
import { Directory } from '../core/directory.ts'
import { createMessageValidator } from '../core/schemas.ts'
import { GatewayKeyring, PublicKey, TrustStore, tsaAnchors } from '../crypto/index.ts'
import { buildEvidence, verifyEvidence } from '../ledger/evidence.ts'
import { gatewayConfig, openLedger } from './ledger.ts'
import { UsageError } from './usage.ts'

/** `tongban evidence export|verify`. */
export async function evidenceCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'export') {
    const { values } = parseArgs({ args: rest, options: { case: { type: 'string' }, out: { type: 'string' }, operator: { type: 'string' }, config: { type: 'string' }, keys: { type: 'string' }, directory: { type: 'string' } }, strict: true })
    if (values.case === undefined || values.out === undefined) throw new UsageError('evidence export needs --case ID and --out FILE')
    const config = gatewayConfig(values)
    const now = new Date()
    const validator = createMessageValidator()
    const directory = Directory.load(config.directoryFile, { adapters: ADAPTERS, knownType: (t) => validator.types().some((x) => x.type === t), trust: TrustStore.load(config.pki, now, []) })
    const { ledger, db, close } = await openLedger(config)
    try {
      const keyring = GatewayKeyring.load(config.keysDir, config.gatewayId)
      const operator = values.operator ?? 'cli'
      const pkg = await buildEvidence({ db, ledger, keyring, directory, now }, values.case, undefined, operator)
      if (pkg === undefined) {
        process.stderr.write(`tongban: case ${values.case} has no exchanges\n`)
        return 1
      }
      // An operator's read of a case's messages (personal data): on record before the file is written.
      await ledger.write('operator.action', { operator, action: 'read', target: `evidence/${values.case}` })
      writeFileSync(values.out, `${pkg}\n`)
      process.stdout.write(`evidence package of case ${values.case} written to ${values.out}\n`)
    } finally {
      await close()
    }
    return 0
  }
  if (sub === 'verify') {
    const { values, positionals } = parseArgs({ args: rest, options: { 'gateway-key': { type: 'string', multiple: true }, 'tsa-ca': { type: 'string' } }, allowPositionals: true, strict: true })
    if (positionals.length !== 1) throw new UsageError('evidence verify takes one package file')
    const file = positionals[0] as string
    const keys = (values['gateway-key'] ?? []).map((f, i) => PublicKey.fromPem(`gateway-key-${i + 1}`, readFileSync(f, 'utf8')))
    // Keys given as files carry no kid: the package's kid picks among them by fingerprint.
    const r = await verifyEvidence(readFileSync(file, 'utf8'), {
      ...(keys.length > 0 ? { gatewayKeys: keys } : {}),
      ...(values['tsa-ca'] !== undefined ? { tsaAnchors: tsaAnchors(readFileSync(values['tsa-ca'])) } : {}),
    })
    for (const n of r.notices) process.stderr.write(`notice: ${n}\n`)
    if (!r.ok) {
      process.stdout.write(`FAIL ${r.fault?.record ?? 'package'}: ${r.fault?.message ?? ''}\n`)
      return 1
    }
    process.stdout.write(`OK evidence of case ${r.caseId ?? ''}: ${r.exchanges} exchanges, ${r.entries} ledger entries${r.timestamp !== undefined ? `, checkpoint time-stamped ${r.timestamp}` : ''}\n`)
    return 0
  }
  throw new UsageError(`unknown evidence command "${sub ?? ''}" (export or verify)`)
}
