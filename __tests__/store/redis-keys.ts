// Where a store built on a client keeps things in Redis, for tests that look at Redis directly.
import { RedisLayout } from '../../lib/cache/redis-layout'
import { DEFAULT_SHALLOW_INDEX_BUCKETS } from '../../lib/defaults'
import { STORE_TAG_DEPTH, sessionKey } from '../../lib/store/session-keys'

/** The Redis key that holds session `sid` of a store with this prefix (built on a client). */
export function sessionValueKey(prefix: string, sid: string): string {
  const layout = new RedisLayout({ namespace: prefix, tagDepth: STORE_TAG_DEPTH, shallowIndexBuckets: DEFAULT_SHALLOW_INDEX_BUCKETS })
  return layout.valueKey(layout.path(sessionKey(sid)))
}
