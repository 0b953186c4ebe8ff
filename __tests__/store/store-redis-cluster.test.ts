// RedisSessionStore on this worker's 3-master Redis Cluster.
import type { SessionData } from 'express-session'
import { RedisCache } from 'sessionvault/cache'
import { RedisSessionStore } from 'sessionvault/store'
import { STORE_TAG_DEPTH } from 'sessionvault/store'
import { connectCluster } from '../helpers/redis'
import { sessionData } from './session-data'
import { describeStoreOnRedis } from './store-redis'

const HOUR = 3_600_000

const { client, other } = describeStoreOnRedis('a 3-master Redis Cluster', connectCluster)

describe('on the Redis Cluster itself', () => {
  test("a user's sessions are written, destroyed and listed across cluster slots (no CROSSSLOT)", async () => {
    const store = new RedisSessionStore({ client: client(), userOf: (session: SessionData) => session.userId })
    // Each of these writes is one script over one slot; a CROSSSLOT reply would fail them.
    for (let i = 0; i < 20; i++) await store.set(`s${i}`, sessionData({ userId: 'ada' }, HOUR))
    await store.destroy('s0')
    await store.set('s0', sessionData({ userId: 'ada' }, HOUR))
    expect(await store.get('s0')).toBeNull()
    expect(await store.listUserSessions('ada')).toHaveLength(19)
  })

  // The namespace plays prefix's role (without its trailing ':'): same keys, so a destroy through
  // one store blocks a late save through the other. (The values differ: a RedisCache's default
  // serializer wraps them in JSON.)
  test('a RedisCache with STORE_TAG_DEPTH and namespace "shop" uses the keys of a store with prefix "shop:"', async () => {
    const viaClient = new RedisSessionStore({ client: client(), prefix: 'shop:' })
    const cache = new RedisCache<string>({ client: other(), namespace: 'shop', ttlMs: 60_000, tagDepth: STORE_TAG_DEPTH })
    const viaCache = new RedisSessionStore({ cache })
    await viaClient.set('s1', sessionData({ views: 1 }, HOUR))
    await viaCache.destroy('s1')
    await viaClient.set('s1', sessionData({ views: 2 }, HOUR))
    expect(await viaClient.get('s1')).toBeNull()
  })
})
