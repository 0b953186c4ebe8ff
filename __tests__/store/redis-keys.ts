// Where a store keeps things, for tests that look at the cache or at Redis directly. The stored
// id is computed here from its definition, not with the store's code, so that the tests check it.
import { createHash } from 'node:crypto'
import type { KeyPart } from 'sessionvault/cache'
import { RedisLayout } from '../../lib/cache/redis-layout'
import { DEFAULT_BUCKETS } from '../../lib/defaults'
import { STORE_TAG_DEPTH } from 'sessionvault/store'

/** What the store keys session `sid` by: base64url of the first 16 bytes of SHA-256(sid), or `sid` itself with `hashIds: false`. */
export function storedIdFor(sid: string, { hashIds = true }: { hashIds?: boolean } = {}): string {
  return hashIds ? createHash('sha256').update(sid, 'utf8').digest().subarray(0, 16).toString('base64url') : sid
}

/** The cache key of a session, and of its entry in a user's index. */
export const sessionCacheKey = (storedId: string): KeyPart[] => ['s', storedId]
export const userEntryCacheKey = (userId: string, storedId: string): KeyPart[] => ['u', userId, storedId]

/** The Redis key of a cache key, in the namespace of a store built on a client with `prefix` (`'sess:'` by default). */
export function redisKeyOf(key: readonly KeyPart[], prefix = 'sess:'): string {
  const layout = new RedisLayout({ namespace: prefix.replace(/:$/, ''), tagDepth: STORE_TAG_DEPTH, buckets: DEFAULT_BUCKETS })
  return layout.place(key).valueKey
}

/** The Redis key that holds session `sid` of a store built on a client. */
export function sessionRedisKey(sid: string, { prefix = 'sess:', hashIds = true }: { prefix?: string; hashIds?: boolean } = {}): string {
  return redisKeyOf(sessionCacheKey(storedIdFor(sid, { hashIds })), prefix)
}

// Moved to helpers/redis.ts; re-exported for tests that import it from here.
export { dumpRedis } from '../helpers/redis'
