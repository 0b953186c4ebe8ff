/**
 * Reads for callers that only look at what they get (the session layers): the value may be the
 * very object other such reads get, so it is deeply frozen, and on a near-cache hit it is decoded
 * once per copy rather than once per read. `get` itself still returns a fresh copy each time.
 */
import type { Cache } from './cache'
import type { Key } from './key'

/** The method a cache offers for shared reads (RedisCache); a cache without it is read with `get`. */
export const READ_SHARED: unique symbol = Symbol('sessionvault.readShared')

export interface SharedReads {
  /** The value under `key`, deeply frozen and possibly shared with other callers; `undefined` for none. */
  [READ_SHARED](key: Key): Promise<unknown>
}

/** The value under `key`, possibly shared: never to be changed (a frozen one throws), copied before it reaches an app. */
export function readShared(cache: Cache, key: Key): Promise<unknown> {
  return typeof (cache as Partial<SharedReads>)[READ_SHARED] === 'function' ? (cache as unknown as SharedReads)[READ_SHARED](key) : cache.get(key)
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
