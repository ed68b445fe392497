import type { Db } from './db.ts'

export type OperatorRole = 'viewer' | 'operator' | 'auditor'

/** An operator's account (operator_accounts), as stored. */
export interface OperatorAccount {
  readonly username: string
  readonly displayName: string
  readonly role: OperatorRole
  readonly passwordHash: string
  readonly totpSealed: Buffer
  readonly totpLastStep: number
  readonly failedLogins: number
  readonly lockedUntil: Date | null
  readonly disabledAt: Date | null
  readonly createdAt: Date
}

const COLUMNS = `username, display_name AS "displayName", role, password_hash AS "passwordHash", totp_sealed AS "totpSealed",
  totp_last_step::float8 AS "totpLastStep", failed_logins AS "failedLogins", locked_until AS "lockedUntil", disabled_at AS "disabledAt", created_at AS "createdAt"`

export async function getAccount(db: Db, username: string): Promise<OperatorAccount | undefined> {
  return (await db.query<OperatorAccount>(`SELECT ${COLUMNS} FROM operator_accounts WHERE username = $1`, [username])).rows[0]
}

export async function listAccounts(db: Db): Promise<OperatorAccount[]> {
  return (await db.query<OperatorAccount>(`SELECT ${COLUMNS} FROM operator_accounts ORDER BY username`)).rows
}

/** Adds an account; false if the username is taken. */
export async function insertAccount(db: Db, a: { username: string; displayName: string; role: OperatorRole; passwordHash: string; totpSealed: Buffer; at: Date }): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO operator_accounts (username, display_name, role, password_hash, totp_sealed, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (username) DO NOTHING`,
    [a.username, a.displayName, a.role, a.passwordHash, a.totpSealed, a.at],
  )
  return r.rowCount === 1
}

/** Changes what an operator changes about an account (password, TOTP secret, role, disabled), clearing a lock-out. */
export async function updateAccount(db: Db, username: string, at: Date, set: { passwordHash?: string; totpSealed?: Buffer; role?: OperatorRole; disabled?: boolean }): Promise<boolean> {
  const r = await db.query(
    `UPDATE operator_accounts SET
       password_hash = COALESCE($3, password_hash),
       totp_sealed = COALESCE($4, totp_sealed),
       totp_last_step = CASE WHEN $4::bytea IS NULL THEN totp_last_step ELSE 0 END,
       role = COALESCE($5, role),
       disabled_at = CASE WHEN $6::boolean IS NULL THEN disabled_at WHEN $6 THEN COALESCE(disabled_at, $2) ELSE NULL END,
       failed_logins = 0, locked_until = NULL, updated_at = $2
     WHERE username = $1`,
    [username, at, set.passwordHash ?? null, set.totpSealed ?? null, set.role ?? null, set.disabled ?? null],
  )
  return r.rowCount === 1
}

/**
 * A failed log-in: counts it, and locks the account once `max` failures come in a row. Atomic,
 * so concurrent guesses on several instances all count.
 */
export async function recordLoginFailure(db: Db, username: string, at: Date, max: number, lockUntil: Date): Promise<void> {
  await db.query(
    `UPDATE operator_accounts SET
       failed_logins = failed_logins + 1,
       locked_until = CASE WHEN failed_logins + 1 >= $3 THEN $4 ELSE locked_until END,
       updated_at = $2
     WHERE username = $1`,
    [username, at, max, lockUntil],
  )
}

/**
 * A successful log-in: the failures start again, and the TOTP step is used up. False if another
 * log-in already used this step or a later one (the code was replayed).
 */
export async function recordLoginSuccess(db: Db, username: string, at: Date, step: number): Promise<boolean> {
  const r = await db.query(
    `UPDATE operator_accounts SET failed_logins = 0, locked_until = NULL, totp_last_step = $3, updated_at = $2
     WHERE username = $1 AND totp_last_step < $3`,
    [username, at, step],
  )
  return r.rowCount === 1
}

/** Console sessions (console_sessions), keyed by the SHA-256 of the session id. */
export async function getSession(db: Db, idHash: string, now: Date): Promise<Record<string, unknown> | undefined> {
  return (await db.query<{ data: Record<string, unknown> }>('SELECT data FROM console_sessions WHERE id_hash = $1 AND expires_at > $2', [idHash, now])).rows[0]?.data
}

export async function putSession(db: Db, idHash: string, data: unknown, expiresAt: Date): Promise<void> {
  await db.query(
    `INSERT INTO console_sessions (id_hash, data, expires_at) VALUES ($1, $2::jsonb, $3)
     ON CONFLICT (id_hash) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
    [idHash, JSON.stringify(data), expiresAt],
  )
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.query('DELETE FROM console_sessions WHERE id_hash = $1', [idHash])
}

/** Ends every session of one operator (disabled, password changed). */
export async function deleteSessionsOf(db: Db, username: string): Promise<number> {
  return (await db.query(`DELETE FROM console_sessions WHERE data->>'operator' = $1`, [username])).rowCount ?? 0
}

export async function purgeSessions(db: Db, now: Date): Promise<number> {
  return (await db.query('DELETE FROM console_sessions WHERE expires_at <= $1', [now])).rowCount ?? 0
}
