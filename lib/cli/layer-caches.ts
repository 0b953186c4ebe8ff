/**
 * The caches the inspector reads a namespace through, one per session layer, laid out as each
 * layer lays out its records (their `tagDepth`), so the layers' own code can list and end them.
 */
import type { Cache } from '../cache/cache'
import { RedisCache } from '../cache/redis-cache'
import type { RedisClient } from '../cache/clients/client-types'
import { SESSION_TAG_DEPTH } from '../middleware/records'
import { STORE_TAG_DEPTH } from '../store/session-keys'

export interface LayerCaches {
  /** The express-session store's records, as stored text (its serializer is the app's). */
  store: Cache<string>
  /** The token middleware's records (JSON). */
  token: Cache
}

/** Stored text as it is: the store's sessions are written by the app's serializer, not ours. */
const asText = { stringify: (value: unknown) => String(value), parse: (text: string) => text }

export function layerCaches(client: RedisClient, namespace: string, buckets: number, commandTimeoutMs: number): LayerCaches {
  // Every write here passes its own TTL (a tombstone's); this one only satisfies the cache.
  const common = { client, namespace, buckets, commandTimeoutMs, ttlMs: 60_000, breaker: false } as const
  return {
    store: new RedisCache<string>({ ...common, tagDepth: STORE_TAG_DEPTH, serializer: asText }),
    token: new RedisCache({ ...common, tagDepth: SESSION_TAG_DEPTH }),
  }
}
