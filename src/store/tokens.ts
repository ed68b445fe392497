import type { Db } from './db.ts'

/**
 * Claims a token request id (jti) for `subject` until `expiresAt`; false when it was already
 * used. Durable (PostgreSQL), so a Redis loss does not reopen a window for replays.
 */
export async function claimTokenRequest(db: Db, subject: string, jti: string, expiresAt: Date): Promise<boolean> {
  const r = await db.query('INSERT INTO token_requests (subject, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [subject, jti, expiresAt])
  return (r.rowCount ?? 0) === 1
}

/** Deletes the token request ids whose window has passed; returns how many. */
export async function purgeTokenRequests(db: Db, now: Date, limit = 10_000): Promise<number> {
  const r = await db.query(
    'DELETE FROM token_requests WHERE ctid IN (SELECT ctid FROM token_requests WHERE expires_at < $1 LIMIT $2)',
    [now, limit],
  )
  return r.rowCount ?? 0
}
