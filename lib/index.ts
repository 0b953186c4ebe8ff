// The public API of sessionvault: everything a user may import, listed by hand.

export { ANY } from './cache/key'
export type { Key, KeyPart, Match, MatchPart, CacheRecord, Wildcard } from './cache/key'
export type { Cache, CacheEntry, PutOptions, PutIfOptions, DeleteOptions, Batch, BatchOptions, TimedValue, ReplicaWait, ReplicatedWriteOptions } from './cache/cache'
export type { CacheOptions, WriteMode } from './cache/cache-options'
export { jsonSerializer } from './cache/serializer'
export type { Serializer } from './cache/serializer'
export { MemoryCache } from './cache/memory-cache'
export type { MemoryCacheOptions } from './cache/memory-cache'
export { RedisCache } from './cache/redis-cache'
export type { RedisCacheOptions, NearCacheOptions, RedisCacheEvents } from './cache/redis-cache'
export type { BreakerOptions, BreakerState, BreakerChange } from './cache/circuit-breaker'
export type { NearCacheStats } from './cache/near-cache'
export type { RedisClient, RedisStandaloneClient, RedisClusterClient, RedisSentinelClient } from './cache/redis-connection'

export { RedisSessionStore } from './store/redis-session-store'
export type { SessionWithId, UserSession } from './store/redis-session-store'
export type {
  RedisSessionStoreOptions,
  ClientStoreOptions,
  CacheStoreOptions,
  CommonStoreOptions,
  SessionSerializer,
  UserOf,
  WhenUnavailable,
} from './store/store-options'
export type { TtlOption } from './store/session-ttl'
export type { StoreCallback } from './store/callback'
export { STORE_TAG_DEPTH } from './store/session-keys'
export { SESSION_TAG_DEPTH } from './middleware/records'

export { sessions } from './middleware/sessions'
export type { SessionsMiddleware } from './middleware/sessions'
export type { SessionsOptions, SessionCookieOptions, UnavailableHandler } from './middleware/options'
export type { SessionContext, SessionInfo, DeviceSession, LoginOptions, LoginResult, SessionMetadata } from './middleware/context'

export {
  SessionVaultError,
  OptionError,
  UsageError,
  CacheError,
  isSessionVaultError,
  isCacheError,
  isOptionError,
  isUsageError,
  isUnavailableError,
  isFullError,
} from './errors'
export type { ErrorCode, CacheErrorCode } from './errors'
