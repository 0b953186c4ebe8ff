/** One part of a cache key. `1` and `'1'` are different parts. Numbers must be finite. */
export type KeyPart = string | number

/** A cache key: one part or a non-empty array of parts. `'k'` and `['k']` are the same key. */
export type Key = KeyPart | readonly KeyPart[]

/** Matches exactly one key part in `all()` and `keys()`. */
export const ANY: unique symbol = Symbol.for('sessionvault.ANY')
export type Wildcard = typeof ANY

export type MatchPart = KeyPart | Wildcard

/** A key pattern: a match only finds keys of its own length. */
export type Match = MatchPart | readonly MatchPart[]

export interface CacheRecord<V> {
  key: KeyPart[]
  value: V
  /** When the record expires, in milliseconds since the epoch (by Redis's clock on RedisCache). */
  expiresAtMs: number
}
