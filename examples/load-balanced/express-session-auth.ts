/**
 * The demo on express-session with sessionvault's RedisSessionStore: the same pages, the
 * store's per-user index (`userOf`) for the device list.
 */
import type { Request, Response } from 'express'
import session, { type SessionData } from 'express-session'
import { RedisSessionStore, type Cache, type RedisClient, type SessionReplicaWait } from 'sessionvault/store'
import type { DemoAuth, Device, DeviceInfo } from './auth'

declare module 'express-session' {
  interface SessionData {
    /** The demo's signed-in user. */
    demoUser?: string
    /** The demo's device entry, recorded at login. */
    demoDevice?: DeviceInfo & { createdAt: number }
  }
}

export interface ExpressSessionAuthOptions {
  /** Redis, with a prefix that separates the demo's sessions from anything else there; or a cache (tests use a MemoryCache). */
  backend: { client: RedisClient; prefix: string } | { cache: Cache }
  /** Shared by every instance: a cookie signed by one must verify on the others. */
  secret: string
  /** Milliseconds one store call may wait for Redis. */
  timeoutMs: number
  /** Milliseconds a session lives without a request (the cookie's `maxAge`, rolling). @default 30 minutes */
  sessionTtlMs?: number
  /** Endings (and with `logins: true` logins) wait for replicas: durable logouts. @default no wait */
  waitForReplicas?: SessionReplicaWait | undefined
}

const COOKIE_NAME = 'sessionvault.sid'

export function expressSessionAuth({
  backend,
  secret,
  timeoutMs,
  sessionTtlMs = 30 * 60_000,
  waitForReplicas,
}: ExpressSessionAuthOptions): DemoAuth {
  const store = new RedisSessionStore({
    ...backend,
    timeoutMs,
    ...(waitForReplicas === undefined ? {} : { waitForReplicas }),
    userOf: (data: SessionData) => data.demoUser,
    // touchAfterMs's default: a request writes its session's new expiry once a tenth of the TTL
    // has passed (at most once a minute), so most requests write nothing.
  })
  const middleware = session({
    store,
    secret,
    name: COOKIE_NAME,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    // Plain HTTP on 127.0.0.1: a Secure cookie would never come back.
    cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: sessionTtlMs },
  })

  async function devices(req: Request): Promise<Device[]> {
    const user = req.session?.demoUser
    if (user === undefined) return []
    const sessions = await store.listUserSessions(user)
    return sessions
      .map(({ id, session: data }) => ({
        id,
        userAgent: data.demoDevice?.userAgent ?? 'unknown',
        ip: data.demoDevice?.ip ?? 'unknown',
        createdAt: data.demoDevice?.createdAt ?? 0,
        current: id === store.storedId(req.sessionID),
      }))
      .sort((a, b) => a.createdAt - b.createdAt)
  }

  async function logout(req: Request, res: Response): Promise<void> {
    if (req.session) await call((done) => req.session.destroy(done))
    res.clearCookie(COOKIE_NAME, { path: '/' })
  }

  return {
    mode: 'express-session',
    cache: store.cache,
    middleware,
    errorHandler: undefined,
    userOf: (req) => req.session?.demoUser,
    async login(req, _res, name, device) {
      // A new session id at login: no session fixation.
      await call((done) => req.session.regenerate(done))
      req.session.demoUser = name
      req.session.demoDevice = { ...device, createdAt: Date.now() }
      // Saved before the redirect, so the next request (on any instance) finds it.
      await call((done) => req.session.save(done))
    },
    logout,
    devices,
    async revoke(req, res, id) {
      const user = req.session?.demoUser
      if (user === undefined) return false
      if (id === store.storedId(req.sessionID)) {
        await logout(req, res)
        return true
      }
      // Only the user's own sessions: the store checks that the id from the form is theirs.
      return store.destroyUserSession(user, id)
    },
    async revokeOthers(req) {
      const user = req.session?.demoUser
      const others = (await devices(req)).filter((device) => !device.current)
      if (user !== undefined) await Promise.all(others.map((device) => store.destroyUserSession(user, device.id)))
      return others.length
    },
    onEvent(listener) {
      const session = (id: string) => id.slice(0, 8)
      store.on('created', (event) =>
        listener({ what: 'created', user: event.userId ?? '?', session: session(event.sessionId), at: event.at }),
      )
      // An `ended` listener also starts the sweep that reports expired sessions, once across the instances.
      store.on('ended', (event) =>
        listener({ what: `ended: ${event.reason}`, user: event.userId ?? '?', session: session(event.sessionId), at: event.at }),
      )
    },
  }
}

/** express-session's callback methods as a promise. */
function call(method: (done: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => method((error) => (error ? reject(error) : resolve())))
}
