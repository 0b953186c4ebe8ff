// `sessionvault/store`: the express-session store. Loads express-session (its Store class) but
// not the token middleware, so `req.auth` stays out of the app's types.

export { RedisSessionStore } from './redis-session-store'
export type { SessionWithId, UserSession } from './redis-session-store'
export type {
  RedisSessionStoreOptions,
  ClientStoreOptions,
  CacheStoreOptions,
  CommonStoreOptions,
  SessionSerializer,
  UserOf,
  WhenUnavailable,
} from './store-options'
export type { TtlOption } from './session-ttl'
export type { StoreCallback } from './callback'
export type { RedisSessionStoreEvents, StoreSessionCreated, StoreSessionEnded, StoreEndReason } from './store-events'
export { STORE_CHANNEL } from './store-stats'
export type { StoreStats, StoreOperation, StoreOperationContext } from './store-stats'
export { STORE_TAG_DEPTH } from './session-keys'
export type { Cache, SessionReplicaWait } from '../cache/cache'
export type { RedisClient } from '../cache/clients/client-types'

export * from '../public-errors'
