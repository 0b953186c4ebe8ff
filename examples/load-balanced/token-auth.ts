/**
 * The demo on the token-session middleware: `sessions()` with a RedisCache shared by every
 * instance.
 */
import type { Cache, SessionReplicaWait } from '../../lib/cache/cache'
import { sessions } from '../../lib/middleware/sessions'
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
  /** Endings (and with `logins: true` logins) wait for replicas: durable logouts. @default no wait */
  waitForReplicas?: SessionReplicaWait | undefined
}

export function tokenAuth({ cache, secret, timeoutMs, sessionTtlMs = 30 * 60_000, waitForReplicas }: TokenAuthOptions): DemoAuth {
  const auth = sessions<User, DeviceInfo>({
    cache,
    secret,
    // The demo serves plain HTTP on 127.0.0.1: a Secure cookie would never come back.
    cookie: { name: 'sessionvault', secure: false },
    userId: (user) => user.name,
    serializeUser: (user) => ({ name: user.name }),
    timeoutMs,
    ttlMs: sessionTtlMs,
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
  }
}
