import { TongbanError } from '../errors.ts'
import { checkTotp, hashPassword, newTotpSecret, passwordFault, spendPasswordTime, verifyPassword, type Sealer } from '../crypto/index.ts'
import type { Db } from '../store/db.ts'
import { deleteSessionsOf, getAccount, purgeSessions, insertAccount, listAccounts, recordLoginFailure, recordLoginSuccess, updateAccount, type OperatorAccount, type OperatorRole } from '../store/operators.ts'
import type { Ledger } from '../ledger/index.ts'

export type { OperatorRole } from '../store/operators.ts'
export const OPERATOR_ROLES: readonly OperatorRole[] = ['viewer', 'operator', 'auditor']
export const USERNAME_RE = /^[a-z][a-z0-9._-]{1,31}$/

/**
 * What each role may do in the console (docs/console.md §2):
 * - viewer: counts, cases and deliveries with personal data masked;
 * - operator: as viewer, plus replay a dead delivery, close a stuck step, and unmask a case on request;
 * - auditor: as viewer, plus the query record and the ledger, and unmask on request.
 */
export const ROLE_RIGHTS: Readonly<Record<OperatorRole, ReadonlySet<Right>>> = {
  viewer: new Set(['view']),
  operator: new Set(['view', 'act', 'reveal']),
  auditor: new Set(['view', 'audit', 'reveal']),
}
export type Right = 'view' | 'act' | 'audit' | 'reveal'

export function may(role: OperatorRole, right: Right): boolean {
  return ROLE_RIGHTS[role].has(right)
}

/** The ledger name of a console operator (apart from the directory's token-holding operators). */
export function consoleActor(username: string): string {
  return `console:${username}`
}

/** A signed-in operator, as a request knows it. */
export interface ConsoleOperator {
  readonly username: string
  readonly displayName: string
  readonly role: OperatorRole
}

export interface LoginSettings {
  readonly maxFailures: number
  readonly lockoutMinutes: number
}

/** A new account's second factor, shown once to the person it belongs to. */
export interface NewSecret {
  readonly totpSecret: Buffer
}

const aad = (username: string): string => `operator-totp:${username}`

/**
 * Operator accounts (operator_accounts): added, disabled and given new passwords by
 * `tongban operators`; checked at each console log-in with argon2id and TOTP, with a lock-out
 * after repeated failures. Every change is an operator.action in the ledger.
 */
export class OperatorAccounts {
  readonly #db: Db
  readonly #sealer: Sealer
  readonly #ledger: Ledger | undefined
  readonly #now: () => Date

  constructor(d: { db: Db; sealer: Sealer; ledger?: Ledger; now: () => Date }) {
    this.#db = d.db
    this.#sealer = d.sealer
    this.#ledger = d.ledger
    this.#now = d.now
  }

  async add(a: { username: string; displayName: string; role: string; password: string; by: string }): Promise<NewSecret> {
    const username = checkUsername(a.username)
    const role = checkRole(a.role)
    checkPassword(a.password)
    const secret = newTotpSecret()
    const ok = await insertAccount(this.#db, {
      username, displayName: a.displayName.trim() === '' ? username : a.displayName.trim(), role,
      passwordHash: await hashPassword(a.password), totpSealed: this.#sealer.seal(secret, aad(username)), at: this.#now(),
    })
    if (!ok) throw new TongbanError('TB_ERR_INVALID_STATE', `an operator named ${username} exists already`)
    await this.#record(a.by, 'operator.add', username, role)
    return { totpSecret: secret }
  }

  /** Disables an account and ends its sessions. */
  async disable(username: string, by: string): Promise<void> {
    if (!(await updateAccount(this.#db, username, this.#now(), { disabled: true }))) throw new TongbanError('TB_ERR_NOT_FOUND', `no operator named ${username}`)
    await deleteSessionsOf(this.#db, username)
    await this.#record(by, 'operator.disable', username, 'disabled')
  }

  async enable(username: string, by: string): Promise<void> {
    if (!(await updateAccount(this.#db, username, this.#now(), { disabled: false }))) throw new TongbanError('TB_ERR_NOT_FOUND', `no operator named ${username}`)
    await this.#record(by, 'operator.enable', username, 'enabled')
  }

  /** A new password (and, if asked, a new TOTP secret); ends the account's sessions and clears a lock-out. */
  async passwd(a: { username: string; password: string; newTotp: boolean; by: string }): Promise<NewSecret | undefined> {
    checkPassword(a.password)
    const secret = a.newTotp ? newTotpSecret() : undefined
    const ok = await updateAccount(this.#db, a.username, this.#now(), {
      passwordHash: await hashPassword(a.password), ...(secret ? { totpSealed: this.#sealer.seal(secret, aad(a.username)) } : {}),
    })
    if (!ok) throw new TongbanError('TB_ERR_NOT_FOUND', `no operator named ${a.username}`)
    await deleteSessionsOf(this.#db, a.username)
    await this.#record(a.by, 'operator.passwd', a.username, secret ? 'password+totp' : 'password')
    return secret ? { totpSecret: secret } : undefined
  }

  async list(): Promise<OperatorAccount[]> {
    return listAccounts(this.#db)
  }

  /** The account behind a session, while it may still sign in (not disabled). */
  async current(username: string): Promise<ConsoleOperator | undefined> {
    const a = await getAccount(this.#db, username)
    if (a === undefined || a.disabledAt !== null) return undefined
    return { username: a.username, displayName: a.displayName, role: a.role }
  }

  /**
   * A log-in: the password (argon2id) and the TOTP code, both checked every time. One refusal for
   * every wrong part (TB_ERR_LOGIN_FAILED), so a guess learns nothing about which was wrong; a
   * locked account says so (TB_ERR_ACCOUNT_LOCKED) until the lock ends.
   */
  async login(username: string, password: string, code: string, s: LoginSettings): Promise<ConsoleOperator> {
    const now = this.#now()
    const a = USERNAME_RE.test(username) ? await getAccount(this.#db, username) : undefined
    if (a === undefined) {
      await spendPasswordTime(password)
      throw loginFailed()
    }
    if (a.lockedUntil !== null && a.lockedUntil > now) {
      await this.#record(consoleActor(a.username), 'console.login', a.username, 'locked')
      throw new TongbanError('TB_ERR_ACCOUNT_LOCKED', 'this account is locked after repeated failed log-ins; try again later or ask an administrator (tongban operators passwd)', { detail: { retryAfterSeconds: Math.ceil((a.lockedUntil.getTime() - now.getTime()) / 1000) } })
    }
    const passwordOk = await verifyPassword(a.passwordHash, password)
    let step: number | undefined
    try {
      step = checkTotp(this.#sealer.open(a.totpSealed, aad(a.username)), code.trim(), now, a.totpLastStep)
    } catch {
      step = undefined
    }
    if (!passwordOk || step === undefined || a.disabledAt !== null || !(await recordLoginSuccess(this.#db, a.username, now, step))) {
      if (a.disabledAt === null) await recordLoginFailure(this.#db, a.username, now, s.maxFailures, new Date(now.getTime() + s.lockoutMinutes * 60_000))
      await this.#record(consoleActor(a.username), 'console.login', a.username, 'refused')
      throw loginFailed()
    }
    await this.#record(consoleActor(a.username), 'console.login', a.username, 'signed-in')
    // Expired sessions go at each log-in (an index on expires_at keeps it cheap): the table holds live ones only.
    await purgeSessions(this.#db, now)
    return { username: a.username, displayName: a.displayName, role: a.role }
  }

  async #record(by: string, action: 'operator.add' | 'operator.disable' | 'operator.enable' | 'operator.passwd' | 'console.login', target: string, outcome: string): Promise<void> {
    await this.#ledger?.write('operator.action', { operator: by, action, target, outcome })
  }
}

function loginFailed(): TongbanError {
  return new TongbanError('TB_ERR_LOGIN_FAILED', 'the username, password or code is wrong')
}

function checkUsername(u: string): string {
  if (!USERNAME_RE.test(u)) throw new TongbanError('TB_ERR_BAD_REQUEST', 'a username is 2 to 32 characters: a lower-case letter, then lower-case letters, digits, ".", "_" or "-"')
  return u
}

function checkRole(r: string): OperatorRole {
  if (!(OPERATOR_ROLES as readonly string[]).includes(r)) throw new TongbanError('TB_ERR_BAD_REQUEST', `a role is one of ${OPERATOR_ROLES.join(', ')}`)
  return r as OperatorRole
}

function checkPassword(p: string): void {
  const fault = passwordFault(p)
  if (fault !== undefined) throw new TongbanError('TB_ERR_BAD_REQUEST', fault)
}
