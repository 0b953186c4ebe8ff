// `sessionvault/cache`: the cache alone. Loads neither express nor express-session, and its
// declarations name neither, so a cache-only app installs and type-checks without them.

export { ANY } from './key'
export type { Key, KeyPart, Match, MatchPart, CacheRecord, Wildcard } from './key'
export type {
  Cache,
  CacheEntry,
  PutOptions,
  PutIfOptions,
  DeleteOptions,
  Batch,
  BatchOptions,
  TimedValue,
  ReplicaWait,
  ReplicatedWriteOptions,
  SessionReplicaWait,
} from './cache'
export type { CacheOptions, WriteMode } from './cache-options'
export { jsonSerializer } from './serializer'
export type { Serializer } from './serializer'
export { MemoryCache } from './memory-cache'
export type { MemoryCacheOptions } from './memory-cache'
export { RedisCache } from './redis-cache'
export type { RedisCacheOptions, NearCacheOptions, RedisCacheEvents } from './redis-cache'
export type { BreakerOptions, BreakerState, BreakerChange } from './circuit-breaker'
export type { NearCacheStats } from './near-cache'
export type { ExpiryQueue, ExpiredClaims, ExpiredKeyClaims, ExpiredRecord, ClaimOptions } from './expiry-queue'
export { CACHE_CHANNEL } from './cache-stats'
export type { CacheStats, CacheOperation, CacheOperationContext, BreakerStats } from './cache-stats'
export type { OperationContext } from '../shared/traced-operations'
export type { RedisClient, RedisStandaloneClient, RedisClusterClient, RedisSentinelClient, IoRedisClient } from './clients/client-types'

export * from '../public-errors'
