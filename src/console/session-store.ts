import { createHash } from 'node:crypto'
import type { Session } from 'fastify'
import type { SessionStore } from '@fastify/session'
import type { Db } from '../store/db.ts'
import { deleteSession, getSession, putSession } from '../store/operators.ts'

/**
 * @fastify/session's store on PostgreSQL (console_sessions), so that every gateway instance sees
 * the same sessions and a restart logs no one out. The table keeps the SHA-256 of each session
 * id, never the id itself.
 */
export function pgSessionStore(db: Db, ttlMs: number, now: () => Date): SessionStore {
  const key = (id: string): string => createHash('sha256').update(id).digest('hex')
  return {
    set(id, session, callback) {
      const expires = session.cookie.expires ? new Date(session.cookie.expires) : new Date(now().getTime() + ttlMs)
      putSession(db, key(id), session, expires).then(() => callback(), callback)
    },
    get(id, callback) {
      getSession(db, key(id), now()).then((data) => callback(null, (data ?? null) as Session | null), (err) => callback(err))
    },
    destroy(id, callback) {
      deleteSession(db, key(id)).then(() => callback(), callback)
    },
  }
}
