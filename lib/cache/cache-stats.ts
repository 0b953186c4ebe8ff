/**
 * What a cache counts (`stats()`) and what it tells the `sessionvault:cache` tracing channel.
 */
import { TracedOperations, type OperationContext } from '../shared/traced-operations'
import type { BreakerState } from './circuit-breaker'
import type { NearCacheStats } from './near-cache'

/** The name of the cache's TracingChannel: subscribe to `tracing:sessionvault:cache:start` and the others. */
export const CACHE_CHANNEL = 'sessionvault:cache'

/** The cache's public operations, as counted and traced (`settled` is neither: it sends nothing). */
export const CACHE_OPERATIONS = [
  'get',
  'getTimed',
  'put',
  'putMany',
  'putIf',
  'batch',
  'touch',
  'touchMany',
  'delete',
  'all',
  'keys',
  'count',
  'countUnder',
] as const

export type CacheOperation = (typeof CACHE_OPERATIONS)[number]

/** The context of a cache call on the `sessionvault:cache` channel. */
export interface CacheOperationContext extends OperationContext<'cache', CacheOperation> {
  /** The cache's namespace. */
  namespace: string
  /**
   * The keys the call names (a get 1, a `putMany` its entries, a `batch` its puts and deletes);
   * for `all`, `keys`, `count` and `countUnder`, the keys found, set once it ends.
   */
  keyCount: number
  /** On a cache with a near-cache, for `get` and `getTimed`: answered from memory (`'hit'`), or from Redis. */
  nearCache?: 'hit' | 'miss'
}

/** The breaker's part of `stats()`. */
export interface BreakerStats {
  /** `'open'` while any circuit is. */
  state: BreakerState
  /** The Redis nodes (`host:port`) whose circuit is open; `''` for the one circuit of a standalone server or Sentinel. */
  openNodes: string[]
}

/** What `stats()` of a cache gives: counters since it was made, and the state of its near-cache and breaker. */
export interface CacheStats {
  /** Calls of each operation. */
  operations: Record<CacheOperation, number>
  /**
   * Calls that failed with a CacheError: Redis unreachable or too slow, the breaker open, an
   * unexpected reply, a value that cannot be decoded. Not usage errors (bad arguments).
   */
  errors: number
  /** Hits, misses and entries of the near-cache; undefined without one. */
  nearCache: NearCacheStats | undefined
  /** Undefined without a breaker (and on a MemoryCache). */
  breaker: BreakerStats | undefined
}

/** The counters and the tracing channel of one cache. */
export function cacheOperations(namespace: string): TracedOperations<CacheOperation, CacheOperationContext> {
  return new TracedOperations<CacheOperation, CacheOperationContext>(CACHE_CHANNEL, CACHE_OPERATIONS, (operation, keyCount) => ({
    layer: 'cache',
    operation,
    namespace,
    keyCount,
  }))
}
