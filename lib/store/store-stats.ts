/**
 * What the store counts (`stats()`) and what it tells the `sessionvault:store` tracing channel.
 */
import type { CacheStats } from '../cache/cache-stats'
import { TracedOperations, type OperationContext } from '../shared/traced-operations'

/** The name of the store's TracingChannel: subscribe to `tracing:sessionvault:store:start` and the others. */
export const STORE_CHANNEL = 'sessionvault:store'

/** The store's public operations, as counted and traced. */
export const STORE_OPERATIONS = [
  'get',
  'set',
  'touch',
  'destroy',
  'all',
  'length',
  'ids',
  'clear',
  'listUserSessions',
  'destroyUserSession',
  'destroyUserSessions',
] as const

export type StoreOperation = (typeof STORE_OPERATIONS)[number]

/** The context of a store call on the `sessionvault:store` channel: no session id, no session data, no user id. */
export type StoreOperationContext = OperationContext<'store', StoreOperation>

/** What `store.stats()` gives. */
export interface StoreStats {
  /** Calls of each store method (a `touch` counts even when `touchAfterMs` leaves nothing to write). */
  operations: Record<StoreOperation, number>
  /** The stats of the store's cache; undefined for a cache of the app's own without `stats()`. */
  cache: CacheStats | undefined
}

/** The counters and the tracing channel of one store. */
export function storeOperations(): TracedOperations<StoreOperation, StoreOperationContext> {
  return new TracedOperations<StoreOperation, StoreOperationContext>(STORE_CHANNEL, STORE_OPERATIONS, (operation) => ({
    layer: 'store',
    operation,
  }))
}
