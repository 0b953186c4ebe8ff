/**
 * The options only RedisCache takes (beside those every cache takes), checked and resolved once.
 */
import {
  DEFAULT_BREAKER_PROBE_INTERVAL_MS,
  DEFAULT_BUCKETS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_SCAN_PAGE_SIZE,
  DEFAULT_TAG_DEPTH,
} from '../defaults'
import { OptionError } from '../errors'
import type { CacheOptions } from './cache-options'
import type { BreakerOptions } from './circuit-breaker'
import { identifyClient } from './clients/adapt-client'
import type { RedisClient } from './clients/client-types'

export interface RedisCacheOptions extends Omit<CacheOptions, 'now'> {
  /**
   * A connected client: node-redis 5 or 6 (`createClient()`, `createCluster()`,
   * `createSentinel()`) or ioredis 5 (`new Redis()`, Sentinel included, or `new Cluster()`,
   * without `keyPrefix`). Anything else fails here with an OptionError.
   */
  client: RedisClient
  /**
   * How many leading parts of a key choose its Redis Cluster slot (see README, "Redis layout").
   * Records that share these parts share a slot, and so are written together atomically; a
   * listing must fix all of them but the last, and so must `countUnder`'s prefix. @default 1
   */
  tagDepth?: number
  /**
   * How many buckets (sorted sets, each its own cluster slot) the records under one prefix are
   * spread over. Part of the layout: every server of a namespace must use the same number.
   * @default 1024
   */
  buckets?: number
  /** Milliseconds one Redis command may wait before it fails with `REDIS_UNAVAILABLE`; `0` waits forever. @default 2000 */
  commandTimeoutMs?: number
  /** Index members read per `ZSCAN` page, and values per `MGET`, in listings. @default 1000 */
  scanPageSize?: number
  /**
   * Keep recently read records in this process, kept correct by Redis (RESP3 client tracking on
   * a connection of the cache's own): a change on any server evicts them everywhere at once.
   * `get` of a hot record then costs no round trip: it resolves on the next turn of the event loop,
   * from memory unless the copy was evicted meanwhile. Call `close()` when done: on a single Redis
   * and on Cluster the connection does not keep the process alive, on Sentinel it does until
   * `close()`. Needs a node-redis client (an OptionError on ioredis). @default off
   */
  nearCache?: NearCacheOptions
  /**
   * Fail fast while Redis is out of reach. At the first command that gets no reply within
   * `commandTimeoutMs`, loses its connection, or is told the node is loading or failing over,
   * that node's circuit opens (one per master on Cluster, one in all otherwise): calls to it then
   * fail at once with `REDIS_UNAVAILABLE` instead of each waiting `commandTimeoutMs`, and a probe
   * (at once, then every `probeIntervalMs`) closes it once answered. `false`: no breaker.
   * @default { probeIntervalMs: 500 }
   */
  breaker?: BreakerOptions | false
}

export interface NearCacheOptions {
  /** Most records kept; the least recently used go first. */
  maxEntries: number
}

export interface ResolvedRedisCacheOptions {
  client: RedisClient
  tagDepth: number
  buckets: number
  commandTimeoutMs: number
  scanPageSize: number
  nearCache: NearCacheOptions | undefined
  /** Milliseconds between probes of an open circuit; undefined: no breaker. */
  breakerProbeIntervalMs: number | undefined
}

export function resolveRedisCacheOptions(options: RedisCacheOptions): ResolvedRedisCacheOptions {
  const {
    client,
    tagDepth = DEFAULT_TAG_DEPTH,
    buckets = DEFAULT_BUCKETS,
    commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
    scanPageSize = DEFAULT_SCAN_PAGE_SIZE,
    nearCache,
    breaker = {},
  } = options
  const { library } = identifyClient(client)
  requireWhole(tagDepth, 'tagDepth', 1)
  requireWhole(buckets, 'buckets', 1)
  requireWhole(commandTimeoutMs, 'commandTimeoutMs', 0)
  requireWhole(scanPageSize, 'scanPageSize', 1)
  if (nearCache !== undefined) requireWhole(nearCache?.maxEntries, 'nearCache.maxEntries', 1)
  // Tracking rides on node-redis's RESP3 client-side-cache hooks; ioredis speaks RESP2 only.
  if (nearCache !== undefined && library !== 'node-redis')
    throw new OptionError('nearCache', 'needs a node-redis client, cluster or sentinel (not ioredis)')
  if (breaker !== false && (typeof breaker !== 'object' || breaker === null))
    throw new OptionError('breaker', 'must be an object ({ probeIntervalMs }) or false')
  const breakerProbeIntervalMs = breaker === false ? undefined : (breaker.probeIntervalMs ?? DEFAULT_BREAKER_PROBE_INTERVAL_MS)
  if (breakerProbeIntervalMs !== undefined) requireWhole(breakerProbeIntervalMs, 'breaker.probeIntervalMs', 1)
  return { client, tagDepth, buckets, commandTimeoutMs, scanPageSize, nearCache, breakerProbeIntervalMs }
}

function requireWhole(value: unknown, option: string, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OptionError(option, `must be a whole number of at least ${min}`)
  }
}
