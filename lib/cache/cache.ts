import type { CacheRecord, Key, KeyPart, Match } from './key'

export interface PutOptions {
  /** Time to live of these records in milliseconds. @default the cache's `ttlMs` */
  ttlMs?: number
  /**
   * How many leading parts of `[namespace, ...key]` a prefix needs to list these records: `all`
   * and `keys` over a shorter literal prefix skip them, and Redis keeps no index entry for them
   * there, which saves memory for records never listed that way (`1`: every prefix lists them;
   * more than the key has parts: no prefix does). Give a key the same value on every put: index
   * entries of an earlier put stay until they expire.
   * @default 1
   */
  indexFrom?: number
}

export interface PutIfOptions<V = unknown> extends PutOptions {
  /** Write only if the key holds no live record yet (a lock, a first write). */
  absent?: boolean
  /**
   * Write only if the key's live record holds this value, compared as serialized text (a
   * compare-and-set: nobody changed it since it was read). Not with `absent`.
   */
  ifValue?: V
  /**
   * And only if this other key holds no live record (a tombstone that keeps a destroyed record
   * destroyed). On Redis Cluster it must share the record's hash tag (its first `tagDepth` parts).
   */
  unlessExists?: Key
}

/** The events a cache emits. */
export interface CacheEvents {
  /** A `writes: 'async'` write failed; there is no caller left to reject. */
  error: [Error]
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
  /**
   * Writes one record only if its conditions hold, atomically; resolves to whether it was
   * written. Always waits for the answer, even with `writes: 'async'`. Needs at least one of
   * `absent`, `ifValue` and `unlessExists`; `absent` and `ifValue` exclude each other.
   */
  putIf(key: Key, value: V, options: PutIfOptions<V>): Promise<boolean>
  /** Writes several records; on a standalone Redis, atomically and in one round trip. */
  putMany(entries: Iterable<CacheEntry<V>>, options?: PutOptions): Promise<void>
  get(key: Key): Promise<V | undefined>
  delete(key: Key): Promise<void>
  /** The records whose keys match, sorted by key. `ANY` matches exactly one part; a match finds only keys of its own length. */
  all(match: Match): Promise<CacheRecord<V>[]>
  keys(match: Match): Promise<KeyPart[][]>
  /** How many records `keys(match)` would list, without listing them. */
  count(match: Match): Promise<number>
  /** Resolves once every write issued so far (including `writes: 'async'` ones) has finished. */
  flush(): Promise<void>
  /** Errors of `writes: 'async'` writes, which have no caller left to reject. */
  on(event: 'error', listener: (error: Error) => void): this
  off(event: 'error', listener: (error: Error) => void): this
}
