import type { CacheRecord, Key, KeyPart, Match } from './key'
import type { CacheStats } from './cache-stats'

export interface PutOptions {
  /** Time to live of these records in milliseconds. @default the cache's `ttlMs` */
  ttlMs?: number
}

/**
 * Wait until replicas have a change before resolving (Redis `WAIT`), so that a failover cannot
 * undo it once the caller has been told it is done. When fewer than `replicas` acknowledge it
 * within `timeoutMs`, the call fails with a CacheError `NOT_REPLICATED`: the change is made on the
 * master, and is lost if that master fails before a replica has it. A `MemoryCache` has no
 * replicas and ignores it.
 */
export interface ReplicaWait {
  /** How many replicas must acknowledge the change: at least 1. */
  replicas: number
  /** Milliseconds to wait for them: at least 1. */
  timeoutMs: number
}

/**
 * The session layers' `waitForReplicas`: every ending (logout, destroy, revoke, sign out
 * everywhere) waits for replicas, and with `logins: true` every login too.
 */
export interface SessionReplicaWait extends ReplicaWait {
  /** Logins wait too, so a failover cannot lose a session just handed out. @default false */
  logins?: boolean
}

/** Options of the writes that may wait for replicas. */
export interface ReplicatedWriteOptions {
  /** Resolve only once replicas have the change (see `ReplicaWait`). @default no wait */
  waitForReplicas?: ReplicaWait
}

export interface PutIfOptions<V = unknown> extends PutOptions, ReplicatedWriteOptions {
  /** Write only if the key holds nothing yet: no live record and no tombstone (a lock, a first write). */
  absent?: boolean
  /**
   * Write only if the key's live record holds this value, compared as serialized text (a
   * compare-and-set: nobody changed it since it was read). Not with `absent`.
   */
  ifValue?: V
  /** Write only if the key holds no tombstone: a record deleted with `tombstoneMs` stays deleted. */
  unlessDeleted?: boolean
  /**
   * Other records written with this one, in the same atomic step, when their keys share its
   * slot (on a single Redis server, always) and only if it is written. On Cluster, those in
   * other slots are written first, whether or not the conditions then hold.
   */
  alongWith?: Iterable<CacheEntry<V>>
}

export interface DeleteOptions extends ReplicatedWriteOptions {
  /**
   * Milliseconds the key stays a tombstone: `putIf(key, …, { unlessDeleted: true })` is refused
   * meanwhile (a slow request cannot write back what a logout ended). Only a live record leaves
   * one: deleting a key that holds nothing writes nothing. `0`: no tombstone. @default 0
   */
  tombstoneMs?: number
}

export interface BatchOptions extends PutOptions, ReplicatedWriteOptions {
  /**
   * After the write, at most `max` live records have keys that start with `prefix`: those that
   * expire first are deleted, in the same atomic step (a capped collection: a user's sessions).
   * The batch must put a record under `prefix`; on RedisCache `prefix` needs at least `tagDepth`
   * parts, so that it names one index, in the slot of that record.
   */
  limit?: { prefix: readonly KeyPart[]; max: number }
}

/** Records to write and keys to delete together; see `Cache.batch`. */
export interface Batch<V> {
  put?: Iterable<CacheEntry<V>>
  delete?: Iterable<Key>
}

/** The events a cache emits. */
export interface CacheEvents {
  /** A `writes: 'async'` write failed; there is no caller left to reject. */
  error: [Error]
}

export interface CacheEntry<V> {
  key: Key
  value: V
  /**
   * In a write of several records: keep this record's current expiry when it is later than the
   * write's TTL, so the write can lengthen its life but never shorten it. @default false
   */
  extendOnly?: boolean
}

/** A live record read with its expiry. */
export interface TimedValue<V> {
  value: V
  /** When the record expires, in milliseconds since the epoch (by Redis's clock on RedisCache). */
  expiresAtMs: number
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
   * `absent`, `ifValue` and `unlessDeleted`; `absent` and `ifValue` exclude each other.
   */
  putIf(key: Key, value: V, options: PutIfOptions<V>): Promise<boolean>
  /** Writes several records; atomically, in one round trip, where they share a slot (always on a single Redis server). */
  putMany(entries: Iterable<CacheEntry<V>>, options?: PutOptions): Promise<void>
  /**
   * Writes some records and deletes others (no tombstones), atomically and in one round trip
   * where all their keys share a slot: on a single Redis server always, on Cluster when they
   * share their first `tagDepth` parts. Otherwise each slot's part is atomic, and puts go first.
   */
  batch(batch: Batch<V>, options?: BatchOptions): Promise<void>
  get(key: Key): Promise<V | undefined>
  /** Like `get`, with the record's expiry. */
  getTimed(key: Key): Promise<TimedValue<V> | undefined>
  /**
   * Gives a live record a new TTL without rewriting its value; resolves to whether there was one.
   * A missing record or a tombstone stays as it is. Needs no new memory in Redis.
   */
  touch(key: Key, options?: PutOptions): Promise<boolean>
  /** `touch` for several records: atomically per slot; resolves to how many were live. */
  touchMany(keys: Iterable<Key>, options?: PutOptions): Promise<number>
  /** Deletes a record (optionally leaving a tombstone); resolves to whether there was a live one. */
  delete(key: Key, options?: DeleteOptions): Promise<boolean>
  /** The records whose keys match, sorted by key. `ANY` matches exactly one part; a match finds only keys of its own length. */
  all(match: Match): Promise<CacheRecord<V>[]>
  keys(match: Match): Promise<KeyPart[][]>
  /** How many records `keys(match)` would list, without listing them. */
  count(match: Match): Promise<number>
  /**
   * How many live records have keys that start with `prefix`, whatever their length. On Redis,
   * for a prefix of `tagDepth - 1` parts this is one `ZCOUNT` per bucket, whatever the number of records. As a
   * listing's match must, the prefix needs at least `tagDepth - 1` parts on RedisCache (a
   * UsageError otherwise).
   */
  countUnder(prefix: readonly KeyPart[]): Promise<number>
  /** Resolves once every write issued so far (including `writes: 'async'` ones) has settled, whatever its outcome. */
  settled(): Promise<void>
  /** @deprecated Renamed `settled()` (Redis's FLUSHALL deletes data; this waits). Works, with a warning, until the next minor version. */
  flush?(): Promise<void>
  /** Counters and state (see `CacheStats`); both caches have it, a cache of the app's own may not. */
  stats?(): CacheStats
  /** Errors of `writes: 'async'` writes, which have no caller left to reject. */
  on(event: 'error', listener: (error: Error) => void): this
  off(event: 'error', listener: (error: Error) => void): this
}
