/**
 * The cache on Redis: standalone, Sentinel or Cluster, one layout for all (see redis-layout.ts).
 *
 * Every change is one Lua script per slot: a record and its index entry always share a slot, so
 * a write is atomic on Cluster too. Time comes from the Redis server (`TIME` inside the scripts),
 * so app servers with drifting clocks agree on what has expired. Every reply is checked;
 * anything unexpected is a CacheError.
 */
import { EventEmitter } from 'node:events'
import { deprecate } from '../shared/deprecation'
import { CacheError, UsageError } from '../errors'
import type {
  Batch,
  BatchOptions,
  Cache,
  CacheEntry,
  CacheEvents,
  DeleteOptions,
  PutIfOptions,
  PutOptions,
  ReplicaWait,
  TimedValue,
} from './cache'
import {
  resolveCacheOptions,
  resolveLimit,
  resolvePutIf,
  resolvePutOptions,
  resolveReplicaWait,
  resolveTombstone,
  type ResolvedCacheOptions,
} from './cache-options'
import { cacheOperations, type CacheOperationContext, type CacheStats } from './cache-stats'
import type { ClaimOptions, ExpiredClaims, ExpiredKeyClaims, ExpiredRecord, ExpiryQueue } from './expiry-queue'
import { CircuitBreaker, probeOnReady, type BreakerChange, type BreakerState } from './circuit-breaker'
import { IndexReader, type FoundRecord } from './index-reader'
import { ANY, type CacheRecord, type Key, type KeyPart, type Match, type MatchPart } from './key'
import { decodePart, normalizeKey, normalizeMatch } from './key-codec'
import type { NearCacheEntry, NearCacheStats } from './near-cache'
import { NearReads } from './near-reads'
import { resolveRedisCacheOptions, type RedisCacheOptions } from './redis-cache-options'
import { RedisConnection } from './redis-connection'
import { toCacheError, unexpectedReply } from './redis-errors'
import { RedisLayout, type IndexToRead, type RecordPlace } from './redis-layout'
import { ReadPlaces } from './read-places'
import { ReplicatedWrites } from './replicated-writes'
import { asText } from './redis-replies'
import { CLAIM_EXPIRED_SCRIPT } from './lua/claim-expired'
import { CLAIM_EXPIRED_KEYS_SCRIPT } from './lua/claim-expired-keys'
import { ClaimsTaken } from './claims-taken'
import { WRITE_SCRIPT } from './lua/write'
import { decodesShareable, parseError, serializeError } from './serializer'
import { deepFreeze, NOT_IN_MEMORY, PEEK_SHARED, PEEK_SHARED_TIMED, READ_SHARED, READ_SHARED_TIMED } from './shared-read'
import { readStoredText } from './stored-text'
import { conditionalWriteCalls, removeCalls, touchCalls, writeCalls, type PlannedPut, type ScriptCall, type WriteLimit } from './write-plan'
import { WriteQueue } from './write-queue'

export type { NearCacheOptions, RedisCacheOptions } from './redis-cache-options'

type Context = { operation: string; commands?: string[]; key?: readonly KeyPart[] }

/** Claim calls in flight at once on Cluster, where each bucket is a call of its own. */
const CLAIM_CONCURRENCY = 128
/** Rounds of claim calls one `claimExpired` makes at most: the buckets that filled their share go again. */
const CLAIM_PASSES = 4

/** The events a RedisCache emits. */
export interface RedisCacheEvents extends CacheEvents {
  /** A circuit of the breaker opened (Redis stopped answering) or closed (a probe was answered). */
  breaker: [BreakerChange]
}

export class RedisCache<V = unknown> extends EventEmitter<RedisCacheEvents> implements Cache<V>, ExpiryQueue {
  readonly namespace: string
  /** The parts of a key that choose its Cluster slot (see the option). */
  readonly tagDepth: number
  /** True on a Redis Cluster client, where only records sharing their first `tagDepth` parts are written together. */
  readonly isCluster: boolean
  private readonly options: ResolvedCacheOptions
  private readonly connection: RedisConnection
  private readonly layout: RedisLayout
  private readonly readPlaces: ReadPlaces
  private readonly writes: WriteQueue
  private readonly reader: IndexReader
  private readonly near: NearReads | undefined
  /** The near-cache, when what the serializer decodes can be shared by its readers (shared-read.ts). */
  private readonly sharingNear: NearReads | undefined
  private readonly breaker: CircuitBreaker | undefined
  private readonly replicated: ReplicatedWrites
  private readonly stopProbingOnReady: (() => void) | undefined
  private readonly operations: ReturnType<typeof cacheOperations>
  /** Calls that failed with a CacheError (see `CacheStats.errors`). */
  private errors = 0
  /** Shared reads answered from memory (shared-read.ts): only with a near-cache that shares its values. */
  readonly [PEEK_SHARED]: ((key: Key) => unknown) | undefined
  readonly [PEEK_SHARED_TIMED]: ((key: Key) => Readonly<TimedValue<unknown>> | typeof NOT_IN_MEMORY) | undefined

  constructor(options: RedisCacheOptions) {
    super()
    this.options = resolveCacheOptions(options, 'RedisCache')
    const { client, tagDepth, buckets, commandTimeoutMs, scanPageSize, nearCache, breakerProbeIntervalMs } =
      resolveRedisCacheOptions(options)
    this.namespace = this.options.namespace
    this.tagDepth = tagDepth
    this.breaker =
      breakerProbeIntervalMs === undefined
        ? undefined
        : new CircuitBreaker(
            breakerProbeIntervalMs,
            (routingKey) => this.connection.probe(routingKey),
            (change) => this.emit('breaker', change),
          )
    this.connection = new RedisConnection(client, commandTimeoutMs, this.breaker)
    this.replicated = new ReplicatedWrites(client, commandTimeoutMs, this.breaker)
    this.isCluster = this.connection.isCluster
    this.layout = new RedisLayout({ namespace: this.namespace, tagDepth, buckets })
    this.readPlaces = new ReadPlaces(this.layout)
    this.writes = new WriteQueue(this.options.writes, this)
    this.reader = new IndexReader(this.connection, this.layout, scanPageSize)
    this.near = nearCache === undefined ? undefined : new NearReads(client, nearCache.maxEntries, commandTimeoutMs)
    if (this.breaker !== undefined) this.stopProbingOnReady = probeOnReady(client, this.breaker)
    this.operations = cacheOperations(this.namespace)
    this.sharingNear = decodesShareable(this.options.serializer) ? this.near : undefined
    const shares = this.sharingNear !== undefined
    this[PEEK_SHARED] = shares ? (key: Key) => this.peekValue(key) : undefined
    this[PEEK_SHARED_TIMED] = shares ? (key: Key) => this.peekTimed(key) : undefined
  }

  /** Counters since the cache was made, and the state of its near-cache and breaker (plain fields: cheap to read on every scrape). */
  stats(): CacheStats {
    const breaker = this.breaker
    return {
      operations: this.operations.snapshot(),
      errors: this.errors,
      nearCache: this.near?.stats(),
      breaker: breaker === undefined ? undefined : { state: breaker.state, openNodes: breaker.openNodes },
    }
  }

  /** The glob that matches every Redis key of this cache: `<namespace>:*` (for `SCAN`, and ACL key patterns). */
  get keyPattern(): string {
    return this.layout.keyPattern
  }

  /** Hits, misses and size of the near-cache; undefined without one. */
  get nearCacheStats(): NearCacheStats | undefined {
    return this.near?.stats()
  }

  /**
   * `'open'` while the breaker refuses calls to some Redis node (one that stopped answering, until
   * a probe is answered); `'closed'` otherwise, and always without a breaker. Changes are
   * emitted as `breaker` events.
   */
  get breakerState(): BreakerState {
    return this.breaker?.state ?? 'closed'
  }

  /**
   * Closes the connections the cache opened (the near-cache's, and `waitForReplicas`'s) and stops
   * the breaker's probes. The app's client stays open: it is the app's.
   */
  async close(): Promise<void> {
    this.stopProbingOnReady?.()
    this.breaker?.stop()
    await Promise.all([this.near?.close(), this.replicated.close()])
  }

  put(key: Key, value: V, options: PutOptions = {}): Promise<void> {
    return this.operations.run('put', () => this.write([{ key, value }], [], options), 1)
  }

  putMany(entries: Iterable<CacheEntry<V>>, options: PutOptions = {}): Promise<void> {
    let list: CacheEntry<V>[]
    try {
      list = [...entries]
    } catch (error) {
      return Promise.reject(error)
    }
    return this.operations.run('putMany', () => this.write(list, [], options), list.length)
  }

  batch({ put = [], delete: remove = [] }: Batch<V>, options: BatchOptions = {}): Promise<void> {
    let puts: CacheEntry<V>[]
    let deletes: Key[]
    try {
      puts = [...put]
      deletes = [...remove]
    } catch (error) {
      return Promise.reject(error)
    }
    return this.operations.run('batch', () => this.write(puts, deletes, options), puts.length + deletes.length)
  }

  private write(put: CacheEntry<V>[], remove: Key[], options: BatchOptions): Promise<void> {
    let puts: (PlannedPut & { key: KeyPart[] })[]
    let deletes: RecordPlace[]
    let limit: WriteLimit | undefined
    let wait: ReplicaWait | undefined
    try {
      const { ttlMs } = resolvePutOptions(options, this.options.ttlMs)
      wait = resolveReplicaWait(options)
      puts = put.map(({ key, value, extendOnly }) => ({
        ...this.plan(normalizeKey(key, 'put'), value, ttlMs),
        extendOnly: extendOnly === true,
      }))
      deletes = remove.map((key) => this.layout.place(normalizeKey(key, 'batch')))
      limit = options.limit && this.writeLimit(resolveLimit(options.limit, puts))
    } catch (error) {
      return Promise.reject(error)
    }
    if (puts.length + deletes.length === 0) return Promise.resolve()
    const first = puts[0]
    const single = puts.length === 1 && deletes.length === 0 && first ? { key: first.key } : {}
    const context = { operation: deletes.length === 0 ? 'put' : 'batch', commands: ['EVALSHA write'], ...single }
    const valueKeys = [...puts.map((planned) => planned.place.valueKey), ...deletes.map((place) => place.valueKey)]
    const write = () =>
      this.guard(context, async () => {
        // Slot by slot, puts first (see writeCalls): a failure midway leaves records written rather than gone.
        for (const call of writeCalls(puts, deletes, this.isCluster, limit)) {
          const reply = await this.run(call, wait, context.operation)
          // A WRITE call answers 1; a REMOVE call (deletes only) how many records were live.
          if (call.script === WRITE_SCRIPT ? reply !== 1 : typeof reply !== 'number') throw unexpectedReply(context, "the write's result")
        }
      })
    // A write that waits for replicas is waited for, even with `writes: 'async'`.
    return this.changing(valueKeys, () => (wait ? this.writes.runAndWait(write) : this.writes.run(write)))
  }

  putIf(key: Key, value: V, options: PutIfOptions<V>): Promise<boolean> {
    return this.operations.run('putIf', () => this.writeIf(key, value, options), 1)
  }

  private writeIf(key: Key, value: V, options: PutIfOptions<V>): Promise<boolean> {
    let planned: PlannedPut & { key: KeyPart[] }
    let condition: ReturnType<typeof resolvePutIf>
    let alongWith: PlannedPut[]
    let wait: ReplicaWait | undefined
    try {
      const parts = normalizeKey(key, 'putIf')
      wait = resolveReplicaWait(options)
      condition = resolvePutIf(options, this.options.ttlMs, (expected) => this.serialize(parts, expected))
      planned = this.plan(parts, value, condition.ttlMs)
      alongWith = [...(options.alongWith ?? [])].map((entry) => ({
        ...this.plan(normalizeKey(entry.key, 'putIf'), entry.value, condition.ttlMs),
        extendOnly: entry.extendOnly === true,
      }))
    } catch (error) {
      return Promise.reject(error)
    }
    const context = { operation: 'putIf', commands: ['EVALSHA write'], key: planned.key }
    const valueKeys = [planned, ...alongWith].map((put) => put.place.valueKey)
    return this.changing(valueKeys, () =>
      this.writes.runAndWait(() =>
        this.guard(context, async () => {
          const calls = conditionalWriteCalls(planned, condition, alongWith, this.isCluster)
          const last = calls.pop() as ScriptCall
          for (const call of calls) await this.expectReply(call, context, 1)
          const reply = await this.run(last, wait, context.operation)
          if (reply !== 0 && reply !== 1) throw unexpectedReply(context, '1 or 0')
          return reply === 1
        }),
      ),
    )
  }

  get(key: Key): Promise<V | undefined> {
    return this.operations.run('get', async (traced) => (await this.readTimed(key, traced))?.value, 1)
  }

  getTimed(key: Key): Promise<TimedValue<V> | undefined> {
    return this.operations.run('getTimed', (traced) => this.readTimed(key, traced), 1)
  }

  private async readTimed(key: Key, traced: CacheOperationContext | undefined): Promise<TimedValue<V> | undefined> {
    const { parts, valueKey } = this.readPlaces.of(key, 'get')
    const found = await this.readFound(parts, valueKey, traced)
    return found === undefined ? undefined : this.decode(parts, typeof found === 'string' ? found : found.text, 'get')
  }

  /** The stored text of a read key, or its near-cache entry; `undefined` for no record. */
  private readFound(
    parts: readonly KeyPart[],
    valueKey: string,
    traced: CacheOperationContext | undefined,
  ): Promise<NearCacheEntry | string | undefined> {
    const near = this.near
    const context = { operation: 'get', commands: near?.isTracking ? ['GET', 'PTTL'] : ['GET'], key: parts }
    const readPlain = () => this.guard(context, () => this.getText(valueKey, context))
    if (near === undefined) return readPlain()
    const found = near.readEntry(valueKey, (run) => this.guard(context, () => this.connection.guarded(valueKey, run)), readPlain)
    if (traced === undefined) return found
    return found.then((entry) => ((traced.nearCache = nearCacheOutcome(entry)), entry))
  }

  /**
   * A read for callers that never change what they get (shared-read.ts): with the near-cache and
   * a serializer whose values can be shared, each copy is decoded once and its value, deeply
   * frozen, shared by every read of it; otherwise a fresh value, as `get`.
   */
  [READ_SHARED](key: Key): Promise<V | undefined> {
    // The middleware's read on every request: no closure unless someone listens.
    return this.operations.counted('get')
      ? this.operations.trace('get', (traced) => this.readShared(key, traced, valueOf), 1)
      : this.readShared(key, undefined, valueOf)
  }

  /** `READ_SHARED` with the record's expiry, as `getTimed` (the session store's read). */
  [READ_SHARED_TIMED](key: Key): Promise<Readonly<TimedValue<V>> | undefined> {
    return this.operations.counted('getTimed')
      ? this.operations.trace('getTimed', (traced) => this.readShared(key, traced, asIs), 1)
      : this.readShared(key, undefined, asIs)
  }

  /** A shared read, giving `pick` of what it found (the value, or the value and its expiry). */
  private async readShared<R>(
    key: Key,
    traced: CacheOperationContext | undefined,
    pick: (found: Readonly<TimedValue<V>> | undefined) => R,
  ): Promise<R> {
    const near = this.sharingNear
    if (near === undefined) return pick(await this.readTimed(key, traced))
    const { parts, valueKey } = this.readPlaces.of(key, 'get')
    const found = await this.readFound(parts, valueKey, traced)
    if (found === undefined) return pick(undefined)
    const entry = typeof found === 'string' ? near.entryOf(valueKey, found) : found
    if (entry?.shared !== undefined) return pick(entry.shared as Readonly<TimedValue<V>>)
    const decoded = this.decode(parts, typeof found === 'string' ? found : found.text, 'get')
    if (decoded === undefined) return pick(undefined)
    const shared = Object.freeze({ value: deepFreeze(decoded.value), expiresAtMs: decoded.expiresAtMs })
    if (entry !== undefined) entry.shared = shared
    return pick(shared)
  }

  /**
   * A shared read of a near-cache copy already decoded, counted as a `get` and a near-cache hit;
   * `NOT_IN_MEMORY` for anything else, counted as nothing (the read that follows counts itself),
   * and while someone traces the cache, so that every traced read has its events.
   */
  private peekValue(key: Key): unknown {
    const shared = this.peekEntry(key)
    if (shared === undefined) return NOT_IN_MEMORY
    this.operations.counts.get++
    return shared.value
  }

  /** `peekValue` with the record's expiry, counted as a `getTimed`. */
  private peekTimed(key: Key): Readonly<TimedValue<unknown>> | typeof NOT_IN_MEMORY {
    const shared = this.peekEntry(key)
    if (shared === undefined) return NOT_IN_MEMORY
    this.operations.counts.getTimed++
    return shared
  }

  private peekEntry(key: Key): Readonly<TimedValue<unknown>> | undefined {
    if (this.operations.listened) return undefined
    return this.sharingNear?.sharedCopy(this.readPlaces.of(key, 'get').valueKey)
  }

  private async getText(valueKey: string, context: Context): Promise<string | undefined> {
    const reply = await this.connection.send(['GET', valueKey], valueKey, true)
    return reply === null ? undefined : asText(reply, () => unexpectedReply(context, 'a string or nil'))
  }

  touch(key: Key, options: PutOptions = {}): Promise<boolean> {
    return this.operations.run('touch', async () => (await this.touchKeys([key], options)) === 1, 1)
  }

  touchMany(keys: Iterable<Key>, options: PutOptions = {}): Promise<number> {
    let list: Key[]
    try {
      list = [...keys]
    } catch (error) {
      return Promise.reject(error)
    }
    return this.operations.run('touchMany', () => this.touchKeys(list, options), list.length)
  }

  private touchKeys(keys: Key[], options: PutOptions): Promise<number> {
    let places: RecordPlace[]
    let ttlMs: number
    let parts: KeyPart[][]
    try {
      parts = keys.map((key) => normalizeKey(key, 'touch'))
      ttlMs = resolvePutOptions(options, this.options.ttlMs).ttlMs
      places = parts.map((key) => this.layout.place(key))
    } catch (error) {
      return Promise.reject(error)
    }
    const context = { operation: 'touch', commands: ['EVALSHA touch'], ...(parts.length === 1 ? { key: parts[0] } : {}) }
    return this.changing(
      places.map((place) => place.valueKey),
      () =>
        this.writes.runAndWait(() =>
          this.guard(context, async () => {
            let touched = 0
            for (const call of touchCalls(places, ttlMs, this.isCluster)) {
              const reply = await this.run(call)
              if (typeof reply !== 'number') throw unexpectedReply(context, 'a count')
              touched += reply
            }
            return touched
          }),
        ),
    )
  }

  delete(key: Key, options: DeleteOptions = {}): Promise<boolean> {
    return this.operations.run('delete', () => this.remove(key, options), 1)
  }

  private remove(key: Key, options: DeleteOptions): Promise<boolean> {
    let parts: KeyPart[]
    let tombstoneMs: number
    let wait: ReplicaWait | undefined
    try {
      parts = normalizeKey(key, 'delete')
      tombstoneMs = resolveTombstone(options)
      wait = resolveReplicaWait(options)
    } catch (error) {
      return Promise.reject(error)
    }
    const place = this.layout.place(parts)
    const context = { operation: 'delete', commands: ['EVALSHA remove'], key: parts }
    return this.changing([place.valueKey], () =>
      this.writes.runAndWait(() =>
        this.guard(context, async () => {
          const [call] = removeCalls([place], tombstoneMs, false)
          const reply = await this.run(call as ScriptCall, wait, context.operation)
          if (reply !== 0 && reply !== 1) throw unexpectedReply(context, '1 or 0')
          return reply === 1
        }),
      ),
    )
  }

  all(match: Match): Promise<CacheRecord<V>[]> {
    return this.operations.run('all', () => this.listAll(match), 0, foundKeys)
  }

  keys(match: Match): Promise<KeyPart[][]> {
    return this.operations.run('keys', () => this.listKeys(match, 'keys'), 0, foundKeys)
  }

  count(match: Match): Promise<number> {
    return this.operations.run('count', () => this.countMatching(match), 0, countedKeys)
  }

  countUnder(prefix: readonly KeyPart[]): Promise<number> {
    return this.operations.run('countUnder', () => this.countPrefixed(prefix), 0, countedKeys)
  }

  private async listAll(match: Match): Promise<CacheRecord<V>[]> {
    const pattern = normalizeMatch(match, 'all')
    const found = await this.find(pattern, 'all', true)
    // Each text is a live record's: the reader left out missing keys and tombstones.
    const records: CacheRecord<V>[] = []
    for (const { key, text } of found) {
      const stored = this.decode(key, text as string, 'all')
      if (stored !== undefined) records.push({ key, ...stored })
    }
    return records
  }

  private async listKeys(match: Match, operation: string): Promise<KeyPart[][]> {
    const pattern = normalizeMatch(match, operation)
    return (await this.find(pattern, operation, false)).map((found) => found.key)
  }

  private async countMatching(match: Match): Promise<number> {
    const pattern = normalizeMatch(match, 'count')
    if (!pattern.includes(ANY)) return (await this.listKeys(pattern, 'count')).length
    const literal = pattern.findIndex((part) => part === ANY)
    // Counted inside Redis when every part after the first ANY is ANY too: no key crosses the network.
    if (!pattern.slice(literal).every((part) => part === ANY)) return (await this.listKeys(pattern, 'count')).length
    const indexes = this.layout.indexesFor(pattern, 'count')
    const segments = pattern.length - Math.min(this.tagDepth, pattern.length) + 1
    return this.countIn(indexes, segments, 'count')
  }

  private async countPrefixed(prefix: readonly KeyPart[]): Promise<number> {
    const parts = prefix.length === 0 ? [] : normalizeKey(prefix, 'countUnder')
    const indexes = this.layout.indexesUnder(parts, 'countUnder')
    return this.countIn(indexes, 0, 'countUnder')
  }

  settled(): Promise<void> {
    return this.writes.settled()
  }

  /** @deprecated Renamed `settled()`. */
  flush(): Promise<void> {
    deprecate('SESSIONVAULT_DEP_FLUSH', 'cache.flush() is renamed cache.settled(); flush() goes in the next minor version')
    return this.settled()
  }

  /**
   * One script per slot (one in all on a single server; one per bucket on Cluster, from a random
   * bucket on, so that concurrent sweepers start apart), each taking at most what is left of `max`.
   */
  async claimExpired(prefix: readonly KeyPart[], { max, leaseMs, minAgeMs = 0 }: ClaimOptions): Promise<ExpiredClaims> {
    const parts = prefix.length === 0 ? [] : normalizeKey(prefix, 'claimExpired')
    const indexes = this.layout.indexesUnder(parts, 'claimExpired')
    const above = parts.slice(0, this.tagDepth - 1)
    const keyOf = (member: string) => [...above, ...member.split(':').map((segment) => decodePart(segment, 'claimExpired'))]
    const start = Math.floor(Math.random() * indexes.length)
    const groups = this.isCluster ? [...indexes.slice(start), ...indexes.slice(0, start)].map((index) => [index]) : [indexes]
    const claims = new ClaimsTaken(this.layout)
    const context = { operation: 'claimExpired', commands: ['EVALSHA claim-expired'] }
    await this.guard(context, async () => {
      // Each call takes a share of what is left; calls that took their whole share may hold more
      // (one user's many sessions in one bucket), so they are called again with what is left then.
      let pending = groups
      for (let pass = 0; pass < CLAIM_PASSES && pending.length > 0 && claims.records.length < max; pass++) {
        const full: IndexToRead[][] = []
        for (let next = 0; next < pending.length && claims.records.length < max; next += CLAIM_CONCURRENCY) {
          const chunk = pending.slice(next, next + CLAIM_CONCURRENCY)
          const share = Math.ceil((max - claims.records.length) / chunk.length)
          const replies = await Promise.all(
            chunk.map((group) =>
              this.connection.evalScript(
                CLAIM_EXPIRED_SCRIPT,
                group.flatMap(({ indexKey }) => [indexKey, this.layout.claimsKey(indexKey)]),
                [String(share), String(leaseMs), group[0]?.memberPrefix ?? '', String(minAgeMs)],
              ),
            ),
          )
          replies.forEach((reply, i) => {
            const group = chunk[i] as IndexToRead[]
            const before = claims.records.length
            claims.add(
              context,
              reply,
              group.map(({ indexKey }) => indexKey),
              keyOf,
            )
            if (claims.records.length - before >= share) full.push(group)
          })
        }
        pending = full
      }
    })
    return this.acknowledgeable(claims)
  }

  /** One script per slot: one in all on a single server, one per index on Cluster. */
  async claimExpiredKeys(keys: readonly (readonly KeyPart[])[], { leaseMs }: Pick<ClaimOptions, 'leaseMs'>): Promise<ExpiredKeyClaims> {
    const byIndex = new Map<string, Map<string, KeyPart[]>>()
    for (const key of keys) {
      const parts = normalizeKey(key, 'claimExpiredKeys')
      const { indexKey, member } = this.layout.place(parts)
      const members = byIndex.get(indexKey) ?? new Map<string, KeyPart[]>()
      byIndex.set(indexKey, members.set(member, parts))
    }
    const indexes = [...byIndex.keys()]
    const groups = this.isCluster ? indexes.map((indexKey) => [indexKey]) : indexes.length === 0 ? [] : [indexes]
    const claims = new ClaimsTaken(this.layout)
    const busy: KeyPart[][] = []
    const context = { operation: 'claimExpiredKeys', commands: ['EVALSHA claim-expired-keys'] }
    const keyOf = (member: string, indexKey: string): KeyPart[] => {
      const key = byIndex.get(indexKey)?.get(member)
      if (key === undefined) throw unexpectedReply(context, 'a claim of a record asked for')
      return key
    }
    await this.guard(context, async () => {
      for (let next = 0; next < groups.length; next += CLAIM_CONCURRENCY) {
        const chunk = groups.slice(next, next + CLAIM_CONCURRENCY)
        const replies = await Promise.all(
          chunk.map((group) => {
            const args = [String(leaseMs)]
            for (const indexKey of group) {
              const members = [...(byIndex.get(indexKey) as Map<string, KeyPart[]>).keys()]
              args.push(String(members.length), ...members)
            }
            return this.connection.evalScript(
              CLAIM_EXPIRED_KEYS_SCRIPT,
              group.flatMap((indexKey) => [indexKey, this.layout.claimsKey(indexKey)]),
              args,
            )
          }),
        )
        replies.forEach((reply, i) => {
          const group = chunk[i] as string[]
          claims.add(context, reply, group, keyOf)
          const held = (reply as unknown[])[2]
          if (!Array.isArray(held) || held.length !== group.length) throw unexpectedReply(context, 'the busy members per index')
          group.forEach((indexKey, j) => {
            const members: unknown = held[j]
            if (!Array.isArray(members)) throw unexpectedReply(context, 'a list of busy members')
            for (const member of members)
              busy.push(
                keyOf(
                  asText(member, () => unexpectedReply(context, 'a member')),
                  indexKey,
                ),
              )
          })
        })
      }
    })
    return { ...this.acknowledgeable(claims), busy }
  }

  /** What a claim hands out: the records, and their acknowledgement (a `ZREM` per claims set). */
  private acknowledgeable(claims: ClaimsTaken): ExpiredClaims {
    const { records, claimedAtMs } = claims
    const acknowledge = async (handled?: readonly ExpiredRecord[]) => {
      const bySet = claims.claimsBySet(handled)
      if (bySet.size === 0) return
      await this.guard({ operation: 'claimExpired', commands: ['ZREM'] }, async () => {
        await Promise.all([...bySet].map(([set, claims]) => this.connection.send(['ZREM', set, ...claims], set, false)))
      })
    }
    return { records, claimedAtMs, acknowledge }
  }

  private countIn(indexes: IndexToRead[], segments: number, operation: string): Promise<number> {
    return this.guard({ operation, commands: ['EVALSHA count'] }, () => this.reader.count(indexes, segments, operation))
  }

  /**
   * Our own writes evict our copies before they are sent and again once Redis has them (which
   * also spoils reads in flight): Redis's invalidation will come too, but a get right after the
   * write could beat it and read the old copy.
   */
  private changing<T>(valueKeys: string[], write: () => Promise<T>): Promise<T> {
    const near = this.near
    if (!near) return write()
    near.forget(valueKeys)
    return write().finally(() => near.forget(valueKeys))
  }

  /** The one index a limit's prefix names: it needs the first `tagDepth` parts. */
  private writeLimit({ prefix, max }: { prefix: KeyPart[]; max: number }): WriteLimit {
    if (prefix.length < this.tagDepth) {
      throw new UsageError(
        `cache.batch(): a limit's prefix needs the first ${this.tagDepth} parts of the keys (tagDepth), to name one index`,
      )
    }
    const [index] = this.layout.indexesFor([...prefix, ANY], 'batch')
    return { max, index: index as IndexToRead }
  }

  private plan(key: KeyPart[], value: V, ttlMs: number): PlannedPut & { key: KeyPart[] } {
    return { key, place: this.layout.place(key), ttlMs, text: this.serialize(key, value) }
  }

  private serialize(key: KeyPart[], value: V): string {
    try {
      return this.options.serializer.stringify(value)
    } catch (error) {
      throw serializeError(key, error)
    }
  }

  /** A script call; with `wait`, on the connection for replicated writes, resolving once replicas have it. */
  private run(call: ScriptCall, wait?: ReplicaWait, operation = ''): Promise<unknown> {
    if (wait) return this.replicated.run(call, wait, operation)
    return this.connection.evalScript(call.script, call.keys, call.args)
  }

  private async expectReply(call: ScriptCall, context: Context, expected: number): Promise<void> {
    if ((await this.run(call)) !== expected) throw unexpectedReply(context, String(expected))
  }

  /** The live keys that match (with their stored texts when `withValues`), sorted; a match with no ANY is a lookup. */
  private async find(pattern: MatchPart[], operation: string, withValues: boolean): Promise<FoundRecord[]> {
    if (!pattern.includes(ANY)) {
      const key = pattern as KeyPart[]
      const { valueKey } = this.layout.place(key)
      const context = { operation, commands: ['GET'], key }
      const text = await this.guard(context, () => this.getText(valueKey, context))
      return text === undefined || readStoredText(text).kind === 'tombstone' ? [] : [{ key, text }]
    }
    const context = { operation, commands: ['EVALSHA list', 'ZSCAN'] }
    return this.guard(context, () => this.reader.find(pattern, operation, withValues))
  }

  /** A stored text as a value and its expiry; undefined for a tombstone; an error for anything else. */
  private decode(key: readonly KeyPart[], stored: string, operation: string): TimedValue<V> | undefined {
    const read = readStoredText(stored)
    if (read.kind === 'tombstone') return undefined
    if (read.kind === 'malformed') {
      this.errors++
      throw new CacheError('UNDECODABLE_VALUE', 'the stored text is not a record written by this cache (its header is missing)', {
        operation,
        key: [...key],
      })
    }
    try {
      return { value: this.options.serializer.parse(read.text) as V, expiresAtMs: read.expiresAtMs }
    } catch (error) {
      this.errors++
      throw parseError([...key], error)
    }
  }

  private async guard<T>(
    context: { operation: string; commands?: string[]; key?: readonly KeyPart[] | undefined },
    run: () => Promise<T>,
  ): Promise<T> {
    try {
      return await run()
    } catch (error) {
      this.errors++
      const { key, ...rest } = context
      throw toCacheError(error, key ? { ...rest, key: [...key] } : rest)
    }
  }
}

/** A read through the near-cache: its entry (a hit), or text or nothing read from Redis. */
function nearCacheOutcome(found: object | string | undefined): 'hit' | 'miss' {
  return typeof found === 'object' ? 'hit' : 'miss'
}

function foundKeys(context: CacheOperationContext, found: readonly unknown[]): void {
  context.keyCount = found.length
}

function countedKeys(context: CacheOperationContext, count: number): void {
  context.keyCount = count
}

function valueOf<V>(found: Readonly<TimedValue<V>> | undefined): V | undefined {
  return found?.value
}

function asIs<T>(found: T): T {
  return found
}
