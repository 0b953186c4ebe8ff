/**
 * Options shared by every cache, resolved once into a normalized form.
 */
import { OptionError } from '../errors'
import { DEFAULT_NAMESPACE } from '../defaults'
import type {
  BatchOptions,
  DeleteOptions,
  PutIfOptions,
  PutOptions,
  ReplicaWait,
  ReplicatedWriteOptions,
  SessionReplicaWait,
} from './cache'
import type { KeyPart } from './key'
import { normalizeKey } from './key-codec'
import { jsonSerializer, type Serializer } from './serializer'
import { MAX_TTL_MS } from './stored-text'

export type WriteMode = 'sync' | 'async'

export interface CacheOptions {
  /** Time to live of records in milliseconds, unless a put says otherwise. Required; a whole number from 1 to 100 years (`MAX_TTL_MS`). */
  ttlMs: number
  /**
   * The first part of every key this cache stores in Redis (`<namespace>:…`), so several caches
   * can share one Redis and `<namespace>:*` matches all of this one's keys. 1 to 64 characters
   * from `A-Z a-z 0-9 _ - . : /`. @default 'cache'
   */
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

const NAMESPACE = /^[A-Za-z0-9_.:/-]{1,64}$/

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
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new OptionError(
      'namespace',
      'must be 1 to 64 characters from A-Z a-z 0-9 _ - . : / (no braces or glob characters, which Redis key names give a meaning)',
    )
  }
  if (writes !== 'sync' && writes !== 'async') throw new OptionError('writes', "must be 'sync' or 'async'")
  if (typeof serializer?.parse !== 'function' || typeof serializer?.stringify !== 'function') {
    throw new OptionError('serializer', 'must have parse(text) and stringify(value) functions')
  }
  if (typeof now !== 'function') throw new OptionError('now', 'must be a function returning milliseconds')
  return { ttlMs, namespace, writes, serializer, now }
}

export function validateTtl(ttlMs: unknown, option: string): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
    throw new OptionError(
      option,
      `must be a positive whole number of milliseconds, at most ${MAX_TTL_MS} (100 years) (got ${describe(ttlMs)})`,
    )
  }
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value
}

/** What must hold of the record itself before a putIf writes it. */
export type RecordCondition = { kind: 'any' } | { kind: 'absent' } | { kind: 'equals'; text: string }

/** A put's TTL, checked. */
export function resolvePutOptions(options: PutOptions, defaultTtlMs: number): { ttlMs: number } {
  const ttlMs = options.ttlMs ?? defaultTtlMs
  validateTtl(ttlMs, 'ttlMs')
  return { ttlMs }
}

export interface ResolvedPutIf {
  ttlMs: number
  record: RecordCondition
  /** Refused over a tombstone. */
  unlessDeleted: boolean
}

/** Checks a putIf's options: a valid TTL and a valid set of conditions. */
export function resolvePutIf<V>(options: PutIfOptions<V>, defaultTtlMs: number, serialize: (value: V) => string): ResolvedPutIf {
  const { ttlMs } = resolvePutOptions(options, defaultTtlMs)
  const hasValue = 'ifValue' in options
  if (options.absent === true && hasValue) throw new OptionError('absent', 'and `ifValue` exclude each other')
  const record: RecordCondition =
    options.absent === true ? { kind: 'absent' } : hasValue ? { kind: 'equals', text: serialize(options.ifValue as V) } : { kind: 'any' }
  const unlessDeleted = options.unlessDeleted === true
  if (record.kind === 'any' && !unlessDeleted) {
    throw new OptionError('absent', 'putIf needs a condition: `absent: true`, `ifValue` or `unlessDeleted: true`')
  }
  return { ttlMs, record, unlessDeleted }
}

/** A batch's limit, checked: a whole `max` of at least 1, and a prefix that one of the puts is under. */
export function resolveLimit(
  limit: NonNullable<BatchOptions['limit']>,
  puts: readonly { key: KeyPart[] }[],
): { prefix: KeyPart[]; max: number } {
  const { max } = limit
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1)
    throw new OptionError('limit.max', 'must be a whole number, at least 1')
  const prefix = normalizeKey(limit.prefix, 'batch')
  if (!puts.some(({ key }) => key.length > prefix.length && prefix.every((part, i) => key[i] === part))) {
    throw new OptionError('limit.prefix', 'must be the prefix of a key the batch puts: the limit applies where it writes')
  }
  return { prefix, max }
}

/** A delete's tombstone time, checked: 0 for none. */
export function resolveTombstone(options: DeleteOptions): number {
  const tombstoneMs = options.tombstoneMs ?? 0
  if (tombstoneMs !== 0) validateTtl(tombstoneMs, 'tombstoneMs')
  return tombstoneMs
}

/** A write's `waitForReplicas`, checked; undefined when it waits for none. */
export function resolveReplicaWait(options: ReplicatedWriteOptions): ReplicaWait | undefined {
  const wait = options.waitForReplicas
  if (wait === undefined) return undefined
  if (typeof wait !== 'object' || wait === null) throw new OptionError('waitForReplicas', 'must be { replicas, timeoutMs }')
  const { replicas, timeoutMs } = wait
  if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas < 1)
    throw new OptionError('waitForReplicas.replicas', 'must be a whole number, at least 1')
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
    throw new OptionError('waitForReplicas.timeoutMs', 'must be a whole number of milliseconds, at least 1')
  return { replicas, timeoutMs }
}

/** A session layer's `waitForReplicas`: what endings wait for, and whether logins do too. */
export function resolveSessionReplicaWait(given: SessionReplicaWait | undefined): {
  endings: ReplicaWait | undefined
  logins: ReplicaWait | undefined
} {
  if (given === undefined) return { endings: undefined, logins: undefined }
  const wait = resolveReplicaWait({ waitForReplicas: given })
  const logins = (given as { logins?: unknown }).logins ?? false
  if (typeof logins !== 'boolean') throw new OptionError('waitForReplicas.logins', 'must be true or false')
  return { endings: wait, logins: logins ? wait : undefined }
}
