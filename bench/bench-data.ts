/**
 * What every step of `npm run bench` stores: one shape of user and session, so that throughput,
 * memory and scale figures describe the same session of about 225 bytes of JSON (no I/O).
 */
import { randomBytes } from 'node:crypto'
import type { SessionData } from 'express-session'

export interface BenchUser {
  id: number
  name: string
  role: string
}

// The bench's own fields, prefixed so they cannot clash with the tests' and examples' augmentations.
declare module 'express-session' {
  interface SessionData {
    benchUser?: BenchUser
    benchViews?: number
    benchCsrf?: string
  }
}

/** express-session's cookie lifetime and the token sessions' `ttlMs`: both 30 minutes. */
export const SESSION_MS = 30 * 60_000
/** Seconds: a touch writes at most once a minute per session (the demo's setting). */
export const TOUCH_AFTER_S = 60
export const NEAR_CACHE = { maxEntries: 10_000 }
/** The token middleware's cache: its own namespace, the sessions' TTL, and the tag depth Cluster needs. */
export const TOKEN_CACHE = { namespace: 'bench-tokens', ttlMs: SESSION_MS, tagDepth: 3 }

export function benchUser(n: number): BenchUser {
  return { id: n, name: `user-${n}`, role: 'user' }
}

/** The per-user index key of the store variants that keep one. */
export const userOf = (session: SessionData): number | undefined => session.benchUser?.id

/** An express-session session as a login leaves it: cookie, user, a counter and a CSRF secret. */
export function sessionData(user: BenchUser): SessionData {
  return {
    cookie: { originalMaxAge: SESSION_MS, expires: new Date(Date.now() + SESSION_MS), httpOnly: true, path: '/', sameSite: 'lax' },
    ...sessionFields(user),
  }
}

/** The fields a login writes into `req.session` (express-session adds the cookie). */
export function sessionFields(user: BenchUser): Pick<SessionData, 'benchUser' | 'benchViews' | 'benchCsrf'> {
  return { benchUser: user, benchViews: 1, benchCsrf: randomBytes(18).toString('base64url') }
}

/** What a token login records about the device: about as much as the express-session fields above. */
export function tokenMetadata(): { userAgent: string; ip: string } {
  return { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench/1.0', ip: '127.0.0.1' }
}

/** An express-session-sized session id (uid-safe's 24 bytes). */
export function sessionId(): string {
  return randomBytes(24).toString('base64url')
}

/** The bytes of JSON a typical session takes (a 4-digit user id, as in the memory step), for the report. */
export function sessionJsonBytes(): number {
  return Buffer.byteLength(JSON.stringify(sessionData(benchUser(5_000))))
}
