/**
 * Reads for callers that only look at what they get (the session layers): the value may be the
 * very object other such reads get, so it is deeply frozen, and on a near-cache hit it is decoded
 * once per copy rather than once per read. `get` itself still returns a fresh copy each time.
 * `peekShared` answers at once from a near-cache copy already decoded, or not at all.
 */
import type { Cache, TimedValue } from './cache'
import type { Key } from './key'

/** The method a cache offers for shared reads (RedisCache); a cache without it is read with `get`. */
export const READ_SHARED: unique symbol = Symbol('sessionvault.readShared')

/** The method a cache offers for reads from memory (RedisCache with a near-cache). */
export const PEEK_SHARED: unique symbol = Symbol('sessionvault.peekShared')

/** `READ_SHARED` and `PEEK_SHARED` with the record's expiry, as `getTimed` gives it. */
export const READ_SHARED_TIMED: unique symbol = Symbol('sessionvault.readSharedTimed')
export const PEEK_SHARED_TIMED: unique symbol = Symbol('sessionvault.peekSharedTimed')

/** What `peekShared` gives when the answer is not in this process's memory: read the key instead. */
export const NOT_IN_MEMORY: unique symbol = Symbol('sessionvault.notInMemory')

export interface SharedReads {
  /** The value under `key`, deeply frozen and possibly shared with other callers; `undefined` for none. */
  [READ_SHARED](key: Key): Promise<unknown>
  /** `READ_SHARED`, at once from memory, or `NOT_IN_MEMORY`; absent from a cache that never has it. */
  readonly [PEEK_SHARED]?: ((key: Key) => unknown) | undefined
  [READ_SHARED_TIMED](key: Key): Promise<Readonly<TimedValue<unknown>> | undefined>
  readonly [PEEK_SHARED_TIMED]?: ((key: Key) => Readonly<TimedValue<unknown>> | typeof NOT_IN_MEMORY) | undefined
}

/** The value under `key`, possibly shared: never to be changed (a frozen one throws), copied before it reaches an app. */
export function readShared(cache: Cache, key: Key): Promise<unknown> {
  return typeof (cache as Partial<SharedReads>)[READ_SHARED] === 'function'
    ? (cache as unknown as SharedReads)[READ_SHARED](key)
    : cache.get(key)
}

/** `readShared` with the record's expiry (a cache without shared reads: `getTimed`). */
export function readSharedTimed<V>(cache: Cache<V>, key: Key): Promise<Readonly<TimedValue<V>> | undefined> {
  return typeof (cache as Partial<SharedReads>)[READ_SHARED_TIMED] === 'function'
    ? ((cache as unknown as SharedReads)[READ_SHARED_TIMED](key) as Promise<Readonly<TimedValue<V>> | undefined>)
    : cache.getTimed(key)
}

/** `peekShared` with the record's expiry, counted as a `getTimed`. */
export function peekSharedTimed<V>(cache: Cache<V>, key: Key): Readonly<TimedValue<V>> | typeof NOT_IN_MEMORY {
  const peek = (cache as Partial<SharedReads>)[PEEK_SHARED_TIMED]
  return peek === undefined ? NOT_IN_MEMORY : (peek(key) as Readonly<TimedValue<V>> | typeof NOT_IN_MEMORY)
}

/**
 * The value under `key` as a shared read would give it, taken from this process's memory at
 * once, or `NOT_IN_MEMORY` (nothing counted) when that needs a read: no near-cache, no copy of
 * the key, or a copy not yet decoded. A copy can be stale by the invalidations Redis has sent
 * and this process not yet read: call it a turn of the event loop after the request came in.
 */
export function peekShared(cache: Cache, key: Key): unknown {
  const peek = (cache as Partial<SharedReads>)[PEEK_SHARED]
  return peek === undefined ? NOT_IN_MEMORY : peek(key)
}

/** Whether the cache can ever answer `peekShared` (a RedisCache with a near-cache and a serializer whose values can be shared). */
export function canPeekShared(cache: Cache): boolean {
  return (cache as Partial<SharedReads>)[PEEK_SHARED] !== undefined
}

/** Freezes JSON data all the way down (objects and arrays; anything else is left as it is). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}

/**
 * A fresh copy of JSON data (what the default serializer decodes: plain objects, arrays and
 * primitives), for handing a shared value to an app. Anything else is returned as it is.
 */
export function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(copyJson) as T
  if (Object.getPrototypeOf(value) !== Object.prototype) return value
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    // Assigned, it would set the copy's prototype. The default serializer never decodes one.
    if (key === '__proto__') continue
    copy[key] = copyJson((value as Record<string, unknown>)[key])
  }
  return copy as T
}
