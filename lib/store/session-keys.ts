/**
 * Where the store keeps its records in the cache (pure naming, no I/O).
 *
 *   ['sess', sid]              the session: `<expiresAtMs>|<serialized session>`
 *   ['sess', sid, 'destroyed'] its tombstone, written by destroy, so a late save cannot bring it back
 *   ['user', userId, sid]      an empty pointer per session of a user (only with `userOf`)
 *
 * With the namespace in front, `[namespace, kind, id]` is the Redis Cluster hash tag
 * (`STORE_TAG_DEPTH`): a session and its tombstone share a slot (so the guarded write is one
 * atomic script), and a user's pointers share one slot and one index (so listing a user's
 * sessions scans exactly one sorted set). `all()` reads the `['sess']` index, never SCAN.
 */
import { ANY, type KeyPart, type MatchPart } from '../cache/key'

const SESSION = 'sess'
const USER = 'user'
const DESTROYED = 'destroyed'

/** Hash-tag depth a RedisCache must have to hold this store's records on Redis Cluster. */
export const STORE_TAG_DEPTH = 3

export function sessionKey(sid: string): KeyPart[] {
  return [SESSION, sid]
}

export function tombstoneKey(sid: string): KeyPart[] {
  return [SESSION, sid, DESTROYED]
}

export function userSessionKey(userId: string, sid: string): KeyPart[] {
  return [USER, userId, sid]
}

/**
 * How deep each kind of record is indexed (see the cache's `indexFrom`): a session only under
 * `[namespace, 'sess']`, which `all`/`ids`/`length` read; a pointer only under
 * `[namespace, 'user', userId]`, which `listUserSessions` reads; a tombstone nowhere, since
 * nothing lists tombstones. Each index entry costs Redis memory for every session.
 */
export const SESSION_INDEX = { indexFrom: 2 } as const
export const POINTER_INDEX = { indexFrom: 3 } as const
export const TOMBSTONE_INDEX = { indexFrom: 4 } as const

/** Every session (tombstones are one part longer, so they never match). */
export const ALL_SESSIONS: readonly MatchPart[] = [SESSION, ANY]

export function userSessions(userId: string): MatchPart[] {
  return [USER, userId, ANY]
}

/** The session id in a key matched by `ALL_SESSIONS` or `userSessions()`: its last part. */
export function sidOf(key: readonly KeyPart[]): string {
  return String(key[key.length - 1])
}

/** A key nobody writes: reading it tells whether Redis answers. */
export const PROBE_KEY: KeyPart[] = ['probe']
