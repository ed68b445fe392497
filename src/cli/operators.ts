import { parseArgs } from 'node:util'
import { base32, GatewayKeyring, otpauthUri } from '../crypto/index.ts'
import { OperatorAccounts } from '../core/operators.ts'
import { TongbanError } from '../errors.ts'
import { migrate } from '../store/db.ts'
import { gatewayConfig, openLedger } from './ledger.ts'
import { UsageError } from './usage.ts'

const OPTIONS = {
  username: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, 'new-totp': { type: 'boolean' },
  by: { type: 'string' }, config: { type: 'string' }, keys: { type: 'string' }, directory: { type: 'string' },
} as const

/** The first line of standard input: a password is never a flag (it would stay in the shell's history and `ps`). */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password (at least 12 characters), then Enter: ')
  let text = ''
  for await (const chunk of process.stdin) {
    text += String(chunk)
    if (text.includes('\n')) break
  }
  return text.split(/\r?\n/)[0] ?? ''
}

/**
 * `tongban operators add|disable|enable|passwd|list`: the console's operator accounts, in the
 * gateway's database (docs/console.md §2). Passwords come on standard input; a new TOTP secret is
 * printed once, with its otpauth:// URI for an authenticator app.
 */
export async function operatorsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (!['add', 'disable', 'enable', 'passwd', 'list'].includes(sub ?? '')) throw new UsageError(`unknown operators command "${sub ?? ''}" (add, disable, enable, passwd or list)`)
  const { values } = parseArgs({ args: rest, options: OPTIONS, strict: true })
  const config = gatewayConfig(values)
  const by = `cli:${values.by ?? 'admin'}`
  const need = (v: string | undefined, flag: string): string => {
    if (v === undefined || v === '') throw new UsageError(`operators ${sub} needs --${flag}`)
    return v
  }
  const username = sub === 'list' ? '' : need(values.username, 'username')
  if (sub === 'add') need(values.role, 'role')
  const { ledger, db, close } = await openLedger(config)
  try {
    await migrate(db, config.dbSchema)
    const keyring = GatewayKeyring.load(config.keysDir, config.gatewayId)
    const accounts = new OperatorAccounts({ db, sealer: keyring.sealer(), ledger, now: () => new Date() })
    const showSecret = (secret: Buffer): void => {
      process.stdout.write(`TOTP secret (enter it in an authenticator app, shown once): ${base32(secret)}\n`)
      process.stdout.write(`otpauth URI: ${otpauthUri(secret, `Tongban ${config.gatewayId}`, username)}\n`)
    }
    switch (sub) {
      case 'add': {
        const r = await accounts.add({ username, displayName: values.name ?? '', role: values.role as string, password: await readPassword(), by })
        process.stdout.write(`operator ${username} added (${values.role})\n`)
        showSecret(r.totpSecret)
        break
      }
      case 'disable':
        await accounts.disable(username, by)
        process.stdout.write(`operator ${username} disabled; their sessions are ended\n`)
        break
      case 'enable':
        await accounts.enable(username, by)
        process.stdout.write(`operator ${username} enabled\n`)
        break
      case 'passwd': {
        const r = await accounts.passwd({ username, password: await readPassword(), newTotp: values['new-totp'] === true, by })
        process.stdout.write(`operator ${username}: new password set; their sessions are ended and any lock-out cleared\n`)
        if (r !== undefined) showSecret(r.totpSecret)
        break
      }
      default:
        for (const a of await accounts.list()) {
          process.stdout.write(`${a.username}\t${a.role}\t${a.disabledAt !== null ? 'disabled' : a.lockedUntil !== null && a.lockedUntil > new Date() ? 'locked' : 'active'}\t${a.displayName}\n`)
        }
    }
  } catch (err) {
    if (err instanceof TongbanError) {
      process.stderr.write(`tongban: ${err.message} (${err.code})\n`)
      return 1
    }
    throw err
  } finally {
    await close()
  }
  return 0
}
