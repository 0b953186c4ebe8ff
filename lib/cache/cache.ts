import type { CacheRecord, Key, KeyPart, Match } from './key'

export interface PutOptions {
  /** Time to live of these records in milliseconds. @default the cache's `ttlMs` */
  ttlMs?: number
}

export interface CacheEntry<V> {
  key: Key
  value: V
}

/**
 * The contract `RedisCache` and `MemoryCache` both keep; one conformance suite checks both.
 *
 * Expired records are never returned: expiry is checked on every read.
 */
export interface Cache<V = unknown> {
  readonly namespace: string
  put(key: Key, value: V, options?: PutOptions): Promise<void>
  /** Writes several records; on a standalone Redis, atomically and in one round trip. */
  putMany(entries: Iterable<CacheEntry<V>>, options?: PutOptions): Promise<void>
  get(key: Key): Promise<V | undefined>
  delete(key: Key): Promise<void>
  /** The records whose keys match, sorted by key. `ANY` matches exactly one part; a match finds only keys of its own length. */
  all(match: Match): Promise<CacheRecord<V>[]>
  keys(match: Match): Promise<KeyPart[][]>
  /** Resolves once every write issued so far (including `writes: 'async'` ones) has finished. */
  flush(): Promise<void>
  /** Errors of `writes: 'async'` writes, which have no caller left to reject. */
  on(event: 'error', listener: (error: Error) => void): this
  off(event: 'error', listener: (error: Error) => void): this
}
