/**
 * Where the store keeps its records in the cache (pure naming, no I/O).
 *
 *   ['s', storedId]              the session, as the serializer wrote it
 *   ['u', userId, storedId]      an empty entry per session of a user (only with `userOf`)
 *
 * `storedId` is a hash of the express-session id (see stored-id.ts), so a Redis dump or a key
 * listing holds no id a cookie could carry. With `tagDepth: 2` (`STORE_TAG_DEPTH`), sessions
 * spread over the cache's buckets, and a user's entries share one bucket: listing a user's
 * sessions reads one sorted set. A destroyed session's key holds a tombstone for a while (the
 * cache's `delete(…, { tombstoneMs })`), so a late save cannot bring it back.
 */
import { ANY, type KeyPart, type MatchPart } from '../cache/key'

const SESSION = 's'
const USER = 'u'

/** A user's entry holds nothing: its key is the information. */
export const ENTRY = ''

/** The `tagDepth` a RedisCache must have to hold this store's records (checked on Redis Cluster). */
export const STORE_TAG_DEPTH = 2

export function sessionKey(storedId: string): KeyPart[] {
  return [SESSION, storedId]
}

export function userSessionKey(userId: string, storedId: string): KeyPart[] {
  return [USER, userId, storedId]
}

/** Under this prefix are the sessions and nothing else: `countUnder` counts them. */
export const SESSIONS_PREFIX: readonly KeyPart[] = [SESSION]

/** Under this prefix are the users' entries and nothing else: the expiry sweep claims from it. */
export const USER_ENTRIES_PREFIX: readonly KeyPart[] = [USER]

export const ALL_SESSIONS: readonly MatchPart[] = [SESSION, ANY]
export const ALL_USER_ENTRIES: readonly MatchPart[] = [USER, ANY, ANY]

export function userSessions(userId: string): MatchPart[] {
  return [USER, userId, ANY]
}

/** The stored id in a key matched by `ALL_SESSIONS` or `userSessions()`: its last part. */
export function storedIdOf(key: readonly KeyPart[]): string {
  return String(key[key.length - 1])
}

/** A key nobody writes: reading it tells whether Redis answers. */
export const PROBE_KEY: KeyPart[] = ['probe']
