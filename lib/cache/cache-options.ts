/**
 * Options shared by every cache, resolved once into a normalized form.
 */
import { OptionError } from '../errors'
import { DEFAULT_NAMESPACE } from '../defaults'
import type { PutIfOptions, PutOptions } from './cache'
import type { KeyPart } from './key'
import { normalizeKey } from './key-codec'
import { jsonSerializer, type Serializer } from './serializer'

export type WriteMode = 'sync' | 'async'

export interface CacheOptions {
  /** Time to live of records in milliseconds, unless a put says otherwise. Required; must be a positive integer. */
  ttlMs: number
  /** Prefix of every key this cache stores, so several caches can share one Redis. @default 'cache' */
  namespace?: string
  /**
   * `'sync'`: a write resolves when it is stored. `'async'`: a write resolves at once and is
   * stored in the background, in call order; its errors reach the `error` event. @default 'sync'
   */
  writes?: WriteMode
  /** How values become strings and back. @default JSON, with `__proto__` keys dropped on parse */
  serializer?: Serializer
  /** A clock in milliseconds, for tests (MemoryCache only: RedisCache uses the Redis server's time). @default Date.now */
  now?: () => number
}

export interface ResolvedCacheOptions {
  ttlMs: number
  namespace: string
  writes: WriteMode
  serializer: Serializer
  now: () => number
}

export function resolveCacheOptions(options: CacheOptions, owner: string): ResolvedCacheOptions {
  if (options === null || typeof options !== 'object') {
    throw new OptionError('ttlMs', `is required: ${owner} needs options with the records' time to live in milliseconds`)
  }
  const { ttlMs, namespace = DEFAULT_NAMESPACE, writes = 'sync', serializer = jsonSerializer, now = Date.now } = options
  if (ttlMs === undefined || ttlMs === null) {
    throw new OptionError('ttlMs', `is required: ${owner} needs the records' time to live in milliseconds`)
  }
  validateTtl(ttlMs, 'ttlMs')
  if (typeof namespace !== 'string' || namespace === '') throw new OptionError('namespace', 'must be a non-empty string')
  if (writes !== 'sync' && writes !== 'async') throw new OptionError('writes', "must be 'sync' or 'async'")
  if (typeof serializer?.parse !== 'function' || typeof serializer?.stringify !== 'function') {
    throw new OptionError('serializer', 'must have parse(text) and stringify(value) functions')
  }
  if (typeof now !== 'function') throw new OptionError('now', 'must be a function returning milliseconds')
  return { ttlMs, namespace, writes, serializer, now }
}

export function validateTtl(ttlMs: unknown, option: string): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new OptionError(option, `must be a positive whole number of milliseconds (got ${describe(ttlMs)})`)
  }
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value
}

/** What must hold of the record itself before a putIf writes it. */
export type RecordCondition = { kind: 'any' } | { kind: 'absent' } | { kind: 'equals'; text: string }

/** A put's TTL and index depth, checked. */
export function resolvePutOptions(options: PutOptions, defaultTtlMs: number): { ttlMs: number; indexFrom: number } {
  const ttlMs = options.ttlMs ?? defaultTtlMs
  validateTtl(ttlMs, 'ttlMs')
  const indexFrom = options.indexFrom ?? 1
  if (typeof indexFrom !== 'number' || !Number.isSafeInteger(indexFrom) || indexFrom < 1) {
    throw new OptionError('indexFrom', 'must be a whole number of key parts, 1 or more')
  }
  return { ttlMs, indexFrom }
}

export interface ResolvedPutIf {
  ttlMs: number
  indexFrom: number
  record: RecordCondition
  /** A key that must hold no live record. */
  unlessExists: KeyPart[] | undefined
}

/** Checks a putIf's options: a valid TTL and a valid set of conditions. */
export function resolvePutIf<V>(options: PutIfOptions<V>, defaultTtlMs: number, serialize: (value: V) => string): ResolvedPutIf {
  const { ttlMs, indexFrom } = resolvePutOptions(options, defaultTtlMs)
  const hasValue = 'ifValue' in options
  if (options.absent === true && hasValue) throw new OptionError('absent', 'and `ifValue` exclude each other')
  const record: RecordCondition =
    options.absent === true ? { kind: 'absent' } : hasValue ? { kind: 'equals', text: serialize(options.ifValue as V) } : { kind: 'any' }
  const unlessExists = options.unlessExists === undefined ? undefined : normalizeKey(options.unlessExists, 'putIf')
  if (record.kind === 'any' && unlessExists === undefined) {
    throw new OptionError('absent', 'putIf needs a condition: `absent: true`, `ifValue` or `unlessExists`')
  }
  return { ttlMs, indexFrom, record, unlessExists }
}
