// What the store tests keep in a session, typed the way apps do it: by augmenting SessionData.
import type { Cookie, SessionData } from 'express-session'

declare module 'express-session' {
  interface SessionData {
    userId?: string | number
    views?: number
  }
}

/** Session data as express-session hands it to a store: a cookie that expires in `maxAgeMs` (none: a browser-session cookie). */
export function sessionData(fields: Partial<Omit<SessionData, 'cookie'>> = {}, maxAgeMs?: number): SessionData {
  const cookie = {
    originalMaxAge: maxAgeMs ?? null,
    expires: maxAgeMs === undefined ? null : new Date(Date.now() + maxAgeMs),
    httpOnly: true,
    path: '/',
  } as Cookie
  return { ...fields, cookie }
}

/** The store's `userOf` for these sessions: whose they are is their `userId`. */
export const userOf = (session: SessionData) => session.userId
