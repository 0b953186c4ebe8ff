/**
 * The in-process cache: the embedded default for a single server, and the oracle the Redis
 * cache is tested against. Values are stored serialized, so both caches accept and return the
 * same things (a stored object is a copy, never shared with the caller).
 */
import { EventEmitter } from 'node:events'
import type { Cache, CacheEntry, CacheEvents, PutIfOptions, PutOptions } from './cache'
import { resolveCacheOptions, resolvePutIf, resolvePutOptions, type CacheOptions, type ResolvedCacheOptions } from './cache-options'
import { ANY, type CacheRecord, type Key, type KeyPart, type Match, type MatchPart } from './key'
import { keyId, keyMatches, literalPrefix, normalizeKey, normalizeMatch, sortByKey } from './key-codec'
import { parseError, serializeError } from './serializer'
import { WriteQueue } from './write-queue'

export type MemoryCacheOptions = CacheOptions

interface StoredRecord {
  key: KeyPart[]
  text: string
  expiresAt: number
  /** Listed only by literal prefixes (with the namespace) at least this long, as in Redis. */
  indexFrom: number
}

/** Sweep expired records at most this often, so keys nobody reads again do not pile up. */
const SWEEP_INTERVAL_MS = 1_000

export class MemoryCache<V = unknown> extends EventEmitter<CacheEvents> implements Cache<V> {
  readonly namespace: string
  private readonly options: ResolvedCacheOptions
  private readonly records = new Map<string, StoredRecord>()
  private readonly writes: WriteQueue
  private lastSweep = 0

  constructor(options: MemoryCacheOptions) {
    super()
    this.options = resolveCacheOptions(options, 'MemoryCache')
    this.namespace = this.options.namespace
    this.writes = new WriteQueue(this.options.writes, this)
  }

  put(key: Key, value: V, options?: PutOptions): Promise<void> {
    return this.putMany([{ key, value }], options)
  }

  putIf(key: Key, value: V, options: PutIfOptions<V>): Promise<boolean> {
    try {
      const parts = normalizeKey(key, 'putIf')
      const { ttlMs, indexFrom, record, unlessExists } = resolvePutIf(options, this.options.ttlMs, (expected) => this.serialize(parts, expected))
      const text = this.serialize(parts, value)
      return this.writes.runAndWait(async () => {
        const now = this.options.now()
        const current = this.live(keyId(parts), now)
        if (record.kind === 'absent' && current) return false
        if (record.kind === 'equals' && current?.text !== record.text) return false
        if (unlessExists && this.live(keyId(unlessExists), now)) return false
        this.records.set(keyId(parts), { key: parts, text, expiresAt: now + ttlMs, indexFrom })
        return true
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  putMany(entries: Iterable<CacheEntry<V>>, options: PutOptions = {}): Promise<void> {
    try {
      const { ttlMs, indexFrom } = resolvePutOptions(options, this.options.ttlMs)
      const prepared = [...entries].map(({ key, value }) => {
        const parts = normalizeKey(key, 'put')
        return { parts, text: this.serialize(parts, value) }
      })
      return this.writes.run(async () => {
        const now = this.options.now()
        this.sweep(now)
        for (const { parts, text } of prepared) {
          this.records.set(keyId(parts), { key: parts, text, expiresAt: now + ttlMs, indexFrom })
        }
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async get(key: Key): Promise<V | undefined> {
    const parts = normalizeKey(key, 'get')
    const record = this.live(keyId(parts), this.options.now())
    return record && this.parse(record)
  }

  delete(key: Key): Promise<void> {
    try {
      const id = keyId(normalizeKey(key, 'delete'))
      return this.writes.run(async () => {
        this.records.delete(id)
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async all(match: Match): Promise<CacheRecord<V>[]> {
    const found = this.liveMatching(normalizeMatch(match, 'all'))
    return sortByKey(found, (record) => record.key).map((record) => ({ key: [...record.key], value: this.parse(record) }))
  }

  async count(match: Match): Promise<number> {
    return this.liveMatching(normalizeMatch(match, 'count')).length
  }

  async keys(match: Match): Promise<KeyPart[][]> {
    return (await this.all(match)).map((record) => record.key)
  }

  flush(): Promise<void> {
    return this.writes.flush()
  }

  /** How many live records the cache holds. */
  get size(): number {
    this.sweep(this.options.now(), true)
    return this.records.size
  }

  /** The live records a match lists, unsorted. */
  private liveMatching(pattern: MatchPart[]): StoredRecord[] {
    const now = this.options.now()
    // The length of the index Redis would scan: the literal prefix with the namespace. A match
    // without ANY is a lookup of one key, not a listing.
    const listedBy = pattern.includes(ANY) ? literalPrefix(pattern).length + 1 : Infinity
    const found: StoredRecord[] = []
    for (const [id, record] of this.records) {
      if (record.indexFrom > listedBy || !keyMatches(pattern, record.key)) continue
      if (this.live(id, now)) found.push(record)
    }
    return found
  }

  private live(id: string, now: number): StoredRecord | undefined {
    const record = this.records.get(id)
    if (record && record.expiresAt <= now) {
      this.records.delete(id)
      return undefined
    }
    return record
  }

  private sweep(now: number, force = false): void {
    if (!force && now - this.lastSweep < SWEEP_INTERVAL_MS) return
    this.lastSweep = now
    for (const [id, record] of this.records) if (record.expiresAt <= now) this.records.delete(id)
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
      throw parseError(record.key, error)
    }
  }
}
