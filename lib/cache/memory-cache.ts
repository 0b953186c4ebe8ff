/**
 * The in-process cache: the embedded default for a single server, and the oracle the Redis
 * cache is tested against. Values are stored serialized, so both caches accept and return the
 * same things (a stored object is a copy, never shared with the caller).
 */
import { EventEmitter } from 'node:events'
import { deprecate } from '../shared/deprecation'
import { RecentMap } from '../shared/recent-map'
import type { Batch, BatchOptions, Cache, CacheEntry, CacheEvents, DeleteOptions, PutIfOptions, PutOptions, TimedValue } from './cache'
// Options are resolved and checked in one place for both caches: redis-cache.ts imports the same.
import {
  resolveCacheOptions,
  resolveLimit,
  resolvePutIf,
  resolvePutOptions,
  resolveReplicaWait,
  resolveTombstone,
  type CacheOptions,
  type ResolvedCacheOptions,
} from './cache-options'
import type { ClaimOptions, ExpiredClaims, ExpiredKeyClaims, ExpiredRecord, ExpiryQueue } from './expiry-queue'
import type { CacheRecord, Key, KeyPart, Match, MatchPart } from './key'
import { keyId, keyMatches, normalizeKey, normalizeMatch, sortByKey } from './key-codec'
import { CACHE_OPERATIONS, type CacheOperation, type CacheStats } from './cache-stats'
import { parseError, serializeError } from './serializer'
import { WriteQueue } from './write-queue'

export type MemoryCacheOptions = CacheOptions

interface StoredRecord {
  key: KeyPart[]
  text: string
  expiresAt: number
  /** What `delete(key, { tombstoneMs })` leaves: no value, and `putIf(…, { unlessDeleted })` refused. */
  tombstone: boolean
}

/** Sweep expired records at most this often, so keys nobody reads again do not pile up. */
const SWEEP_INTERVAL_MS = 1_000
/** Expired records kept for `claimExpired` at most; beyond, the oldest go unclaimed (as an index entry left for 60 s does on Redis). */
const MAX_EXPIRED_KEPT = 100_000

export class MemoryCache<V = unknown> extends EventEmitter<CacheEvents> implements Cache<V>, ExpiryQueue {
  readonly namespace: string
  private readonly options: ResolvedCacheOptions
  private readonly records = new Map<string, StoredRecord>()
  private readonly writes: WriteQueue
  private lastSweep = 0
  private readonly counts = Object.fromEntries(CACHE_OPERATIONS.map((operation) => [operation, 0])) as Record<CacheOperation, number>
  /** Values that could not be decoded (see `CacheStats.errors`). */
  private errors = 0
  /** Once `claimExpired` has been called: the expired records dropped since, by key id, for it to claim. */
  private expiredDropped: RecentMap<string, StoredRecord> | undefined

  constructor(options: MemoryCacheOptions) {
    super()
    this.options = resolveCacheOptions(options, 'MemoryCache')
    this.namespace = this.options.namespace
    this.writes = new WriteQueue(this.options.writes, this)
  }

  /** Calls of each operation and decoding failures; no near-cache and no breaker here. */
  stats(): CacheStats {
    return { operations: { ...this.counts }, errors: this.errors, nearCache: undefined, breaker: undefined }
  }

  put(key: Key, value: V, options: PutOptions = {}): Promise<void> {
    this.counts.put++
    return this.writeBatch({ put: [{ key, value }] }, options)
  }

  putIf(key: Key, value: V, options: PutIfOptions<V>): Promise<boolean> {
    this.counts.putIf++
    try {
      const parts = normalizeKey(key, 'putIf')
      const { ttlMs, record, unlessDeleted } = resolvePutIf(options, this.options.ttlMs, (expected) => this.serialize(parts, expected))
      // Checked, then ignored: this cache has no replicas.
      resolveReplicaWait(options)
      const text = this.serialize(parts, value)
      const alongWith = [...(options.alongWith ?? [])].map(({ key: other, value: otherValue, extendOnly }) => {
        const otherParts = normalizeKey(other, 'putIf')
        return { parts: otherParts, text: this.serialize(otherParts, otherValue), extendOnly: extendOnly === true }
      })
      return this.writes.runAndWait(async () => {
        const now = this.options.now()
        const current = this.stored(keyId(parts), now)
        if (unlessDeleted && current?.tombstone) return false
        if (record.kind === 'absent' && current) return false
        if (record.kind === 'equals' && (current === undefined || current.tombstone || current.text !== record.text)) return false
        for (const written of [{ parts, text, extendOnly: false }, ...alongWith]) this.write(written, now, ttlMs)
        return true
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  putMany(entries: Iterable<CacheEntry<V>>, options: PutOptions = {}): Promise<void> {
    this.counts.putMany++
    return this.writeBatch({ put: entries }, options)
  }

  batch(batch: Batch<V>, options: BatchOptions = {}): Promise<void> {
    this.counts.batch++
    return this.writeBatch(batch, options)
  }

  private writeBatch({ put = [], delete: remove = [] }: Batch<V>, options: BatchOptions): Promise<void> {
    try {
      const { ttlMs } = resolvePutOptions(options, this.options.ttlMs)
      const prepared = [...put].map(({ key, value, extendOnly }) => {
        const parts = normalizeKey(key, 'put')
        return { parts, text: this.serialize(parts, value), extendOnly: extendOnly === true }
      })
      const deleted = [...remove].map((key) => keyId(normalizeKey(key, 'batch')))
      const limit =
        options.limit &&
        resolveLimit(
          options.limit,
          prepared.map(({ parts }) => ({ key: parts })),
        )
      resolveReplicaWait(options)
      return this.writes.run(async () => {
        const now = this.options.now()
        this.sweep(now)
        for (const written of prepared) this.write(written, now, ttlMs)
        // A tombstone is left alone: it ends by its own expiry.
        for (const id of deleted) if (!this.stored(id, now)?.tombstone) this.records.delete(id)
        if (limit) this.keepAtMost(limit.prefix, limit.max, now)
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async get(key: Key): Promise<V | undefined> {
    this.counts.get++
    return this.read(key)?.value
  }

  async getTimed(key: Key): Promise<TimedValue<V> | undefined> {
    this.counts.getTimed++
    return this.read(key)
  }

  private read(key: Key): TimedValue<V> | undefined {
    const parts = normalizeKey(key, 'get')
    const record = this.live(keyId(parts), this.options.now())
    return record && { value: this.parse(record), expiresAtMs: record.expiresAt }
  }

  async touch(key: Key, options: PutOptions = {}): Promise<boolean> {
    this.counts.touch++
    return (await this.touchKeys([key], options)) === 1
  }

  touchMany(keys: Iterable<Key>, options: PutOptions = {}): Promise<number> {
    this.counts.touchMany++
    return this.touchKeys(keys, options)
  }

  private touchKeys(keys: Iterable<Key>, options: PutOptions): Promise<number> {
    try {
      const ids = [...keys].map((key) => keyId(normalizeKey(key, 'touch')))
      const { ttlMs } = resolvePutOptions(options, this.options.ttlMs)
      return this.writes.runAndWait(async () => {
        const now = this.options.now()
        let touched = 0
        for (const id of ids) {
          const record = this.live(id, now)
          if (record) {
            record.expiresAt = now + ttlMs
            touched++
          }
        }
        return touched
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  delete(key: Key, options: DeleteOptions = {}): Promise<boolean> {
    this.counts.delete++
    try {
      const parts = normalizeKey(key, 'delete')
      const tombstoneMs = resolveTombstone(options)
      resolveReplicaWait(options)
      const id = keyId(parts)
      return this.writes.runAndWait(async () => {
        const now = this.options.now()
        const existed = this.live(id, now) !== undefined
        if (existed && tombstoneMs > 0) this.records.set(id, { key: parts, text: '', expiresAt: now + tombstoneMs, tombstone: true })
        else if (tombstoneMs === 0 && !this.stored(id, now)?.tombstone) this.records.delete(id)
        return existed
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async all(match: Match): Promise<CacheRecord<V>[]> {
    this.counts.all++
    return this.list(match, 'all')
  }

  private list(match: Match, operation: string): CacheRecord<V>[] {
    const found = this.liveMatching(normalizeMatch(match, operation))
    return sortByKey(found, (record) => record.key).map((record) => ({
      key: [...record.key],
      value: this.parse(record),
      expiresAtMs: record.expiresAt,
    }))
  }

  async count(match: Match): Promise<number> {
    this.counts.count++
    return this.liveMatching(normalizeMatch(match, 'count')).length
  }

  async countUnder(prefix: readonly KeyPart[]): Promise<number> {
    this.counts.countUnder++
    const parts = prefix.length === 0 ? [] : normalizeKey(prefix, 'countUnder')
    const now = this.options.now()
    let count = 0
    for (const [id, record] of this.records) {
      if (record.key.length > parts.length && parts.every((part, i) => record.key[i] === part) && this.live(id, now)) count++
    }
    return count
  }

  async keys(match: Match): Promise<KeyPart[][]> {
    this.counts.keys++
    return this.list(match, 'keys').map((record) => record.key)
  }

  settled(): Promise<void> {
    return this.writes.settled()
  }

  /** @deprecated Renamed `settled()`. */
  flush(): Promise<void> {
    deprecate('SESSIONVAULT_DEP_FLUSH', 'cache.flush() is renamed cache.settled(); flush() goes in the next minor version')
    return this.settled()
  }

  /** In one process, a claim is final at once: there is no other claimer to lease it from. */
  async claimExpired(prefix: readonly KeyPart[], { max, minAgeMs = 0 }: ClaimOptions): Promise<ExpiredClaims> {
    const parts = prefix.length === 0 ? [] : normalizeKey(prefix, 'claimExpired')
    const now = this.options.now()
    const under = (record: StoredRecord) =>
      record.expiresAt <= now - minAgeMs && record.key.length > parts.length && parts.every((part, i) => record.key[i] === part)
    return this.claimDropped(now, (record, claimed) => claimed < max && under(record))
  }

  /** Nothing is ever busy: claims are final at once. */
  async claimExpiredKeys(keys: readonly (readonly KeyPart[])[]): Promise<ExpiredKeyClaims> {
    const ids = new Set(keys.map((key) => keyId(normalizeKey(key as KeyPart[], 'claimExpiredKeys'))))
    return { ...this.claimDropped(this.options.now(), (record) => ids.has(keyId(record.key))), busy: [] }
  }

  /** Drops what has expired, then claims (removes) the dropped records `take` accepts. */
  private claimDropped(now: number, take: (record: StoredRecord, claimed: number) => boolean): ExpiredClaims {
    const dropped = (this.expiredDropped ??= new RecentMap<string, StoredRecord>(MAX_EXPIRED_KEPT))
    for (const [id, record] of this.records) {
      if (record.expiresAt <= now) this.drop(id, record)
    }
    const claimed: ExpiredRecord[] = []
    for (const [id, record] of dropped.entries()) {
      if (!take(record, claimed.length)) continue
      claimed.push({ key: [...record.key], expiresAtMs: record.expiresAt })
      dropped.delete(id)
    }
    return { records: claimed, claimedAtMs: now, acknowledge: () => Promise.resolve() }
  }

  /** How many live records the cache holds (tombstones not counted). */
  get size(): number {
    this.sweep(this.options.now(), true)
    let size = 0
    for (const record of this.records.values()) if (!record.tombstone) size++
    return size
  }

  /** The live records a match lists, unsorted. */
  private liveMatching(pattern: MatchPart[]): StoredRecord[] {
    const now = this.options.now()
    const found: StoredRecord[] = []
    for (const [id, record] of this.records) {
      if (keyMatches(pattern, record.key) && this.live(id, now)) found.push(record)
    }
    return found
  }

  /** Deletes the live records under `prefix` that expire first, until at most `max` remain. */
  private keepAtMost(prefix: readonly KeyPart[], max: number, now: number): void {
    const under: [string, StoredRecord][] = []
    for (const [id, record] of this.records) {
      if (record.key.length > prefix.length && prefix.every((part, i) => record.key[i] === part) && this.live(id, now))
        under.push([id, record])
    }
    // Those expiring first go first; among equals, the first by encoded key, as Redis orders a
    // sorted set's equal scores (RedisCache keeps the same records).
    under.sort((a, b) => a[1].expiresAt - b[1].expiresAt || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    for (const [id] of under.slice(0, Math.max(0, under.length - max))) this.records.delete(id)
  }

  /** Stores one record; `extendOnly` keeps a later expiry it already has. */
  private write({ parts, text, extendOnly }: { parts: KeyPart[]; text: string; extendOnly: boolean }, now: number, ttlMs: number): void {
    const id = keyId(parts)
    const current = this.stored(id, now)
    // An expired record it replaces is never claimed, as a write on Redis replaces its index entry.
    this.expiredDropped?.delete(id)
    this.records.set(id, {
      key: parts,
      text,
      expiresAt: Math.max(now + ttlMs, (extendOnly ? current?.expiresAt : undefined) ?? 0),
      tombstone: false,
    })
  }

  /** The live record under `id`, not a tombstone. */
  private live(id: string, now: number): StoredRecord | undefined {
    const record = this.stored(id, now)
    return record?.tombstone ? undefined : record
  }

  /** The live record or tombstone under `id`; an expired one is dropped. */
  private stored(id: string, now: number): StoredRecord | undefined {
    const record = this.records.get(id)
    if (record && record.expiresAt <= now) {
      this.drop(id, record)
      return undefined
    }
    return record
  }

  private sweep(now: number, force = false): void {
    if (!force && now - this.lastSweep < SWEEP_INTERVAL_MS) return
    this.lastSweep = now
    for (const [id, record] of this.records) if (record.expiresAt <= now) this.drop(id, record)
  }

  /** Deletes an expired record; once claims are asked for, a live one's is kept for them. */
  private drop(id: string, record: StoredRecord): void {
    this.records.delete(id)
    const dropped = this.expiredDropped
    if (record.tombstone || dropped === undefined) return
    dropped.set(id, record)
  }

  private serialize(key: KeyPart[], value: V): string {
    try {
      return this.options.serializer.stringify(value)
    } catch (error) {
      throw serializeError(key, error)
    }
  }

  private parse(record: StoredRecord): V {
    try {
      return this.options.serializer.parse(record.text) as V
    } catch (error) {
      this.errors++
      throw parseError(record.key, error)
    }
  }
}
