/**
 * The demo on the token-session middleware: `sessions()` with a RedisCache shared by every
 * instance.
 */
import { sessions, type Cache, type SessionReplicaWait } from 'sessionvault/middleware'
import type { DemoAuth, DeviceInfo } from './auth'

interface User {
  name: string
}

export interface TokenAuthOptions {
  cache: Cache
  /** Shared by every instance: a cookie signed by one must verify on the others. */
  secret: string
  /** Milliseconds a request may wait for Redis before it is answered 503. */
  timeoutMs: number
  /** Milliseconds a session lives without a request; it renews (a new token) after half of it. @default 30 minutes */
  sessionTtlMs?: number
  /** Milliseconds after which a request renews its session. @default half of `sessionTtlMs` */
  renewAfterMs?: number | undefined
  /** Endings (and with `logins: true` logins) wait for replicas: durable logouts. @default no wait */
  waitForReplicas?: SessionReplicaWait | undefined
}

export function tokenAuth({
  cache,
  secret,
  timeoutMs,
  sessionTtlMs = 30 * 60_000,
  renewAfterMs,
  waitForReplicas,
}: TokenAuthOptions): DemoAuth {
  const auth = sessions<User, DeviceInfo>({
    cache,
    secret,
    // The demo serves plain HTTP on 127.0.0.1: a Secure cookie would never come back.
    cookie: { name: 'sessionvault', secure: false },
    userId: (user) => user.name,
    serializeUser: (user) => ({ name: user.name }),
    timeoutMs,
    ttlMs: sessionTtlMs,
    ...(renewAfterMs === undefined ? {} : { renewAfterMs }),
    ...(waitForReplicas === undefined ? {} : { waitForReplicas }),
  })

  return {
    mode: 'token',
    cache,
    middleware: auth,
    errorHandler: auth.errorHandler,
    userOf: (req) => auth.of(req).user?.name,
    async login(req, _res, name, device) {
      await auth.of(req).login({ name }, { metadata: device })
    },
    logout: (req) => auth.of(req).logout(),
    async devices(req) {
      const devices = await auth.of(req).listSessions()
      // Metadata is whatever was stored at login: read it defensively.
      return devices.map(({ id, createdAt, current, metadata }) => ({
        id,
        createdAt,
        current,
        userAgent: String(metadata?.userAgent ?? 'unknown'),
        ip: String(metadata?.ip ?? 'unknown'),
      }))
    },
    revoke: (req, _res, id) => auth.of(req).revokeSession(id),
    revokeOthers: (req) => auth.of(req).revokeOtherSessions(),
    onEvent(listener) {
      const session = (id: string) => id.slice(0, 8)
      auth.on('created', (event) =>
        listener({ what: 'created', user: String(event.userId), session: session(event.sessionId), at: event.at }),
      )
      auth.on('renewed', (event) =>
        listener({ what: 'renewed', user: String(event.userId), session: session(event.sessionId), at: event.at }),
      )
      auth.on('ended', (event) =>
        listener({ what: `ended: ${event.reason}`, user: String(event.userId), session: session(event.sessionId), at: event.at }),
      )
    },
  }
}
