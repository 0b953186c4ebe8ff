/**
 * What the token middleware counts (`stats()`) and what it tells the `sessionvault:middleware`
 * tracing channel.
 */
import type { CacheStats } from '../cache/cache-stats'
import { TracedOperations, type OperationContext } from '../shared/traced-operations'

/** The name of the middleware's TracingChannel: subscribe to `tracing:sessionvault:middleware:start` and the others. */
export const MIDDLEWARE_CHANNEL = 'sessionvault:middleware'

/**
 * The middleware's operations, as counted and traced: `authenticate` is a request's session read
 * (only for a correctly signed token: any other costs no cache access), `renew` a renewal inside
 * it; the others are `req.auth`'s calls and the middleware's own.
 */
export const MIDDLEWARE_OPERATIONS = [
  'authenticate',
  'renew',
  'login',
  'logout',
  'listSessions',
  'revokeSession',
  'revokeOtherSessions',
  'revokeAllSessions',
  'updateUser',
] as const

export type MiddlewareOperation = (typeof MIDDLEWARE_OPERATIONS)[number]

/** The context of a middleware call on the `sessionvault:middleware` channel: no token, no user, no session id. */
export interface MiddlewareOperationContext extends OperationContext<'middleware', MiddlewareOperation> {
  /** `authenticate`: whether the token opened a session, set once it ends. */
  found?: boolean
  /** `authenticate`: whether this request renewed the session (a new token went out), set once it ends. */
  renewed?: boolean
}

/** What `stats()` of the middleware gives. */
export interface MiddlewareStats {
  /** Calls of each operation. */
  operations: Record<MiddlewareOperation, number>
  /** The stats of the middleware's cache; undefined for a cache of the app's own without `stats()`. */
  cache: CacheStats | undefined
}

// Mirrors lib/store/store-stats.ts on purpose: store and middleware may not import each other.
/** The counters and the tracing channel of one middleware. */
export function middlewareOperations(): TracedOperations<MiddlewareOperation, MiddlewareOperationContext> {
  return new TracedOperations<MiddlewareOperation, MiddlewareOperationContext>(MIDDLEWARE_CHANNEL, MIDDLEWARE_OPERATIONS, (operation) => ({
    layer: 'middleware',
    operation,
  }))
}
