/**
 * The store suites on one of this worker's Redis backends, flushed before each test: the
 * contract through a store built on `client`, the races through a RedisCache the app built. One
 * test file per backend, so that two workers run them side by side.
 */
import { RedisCache } from '../../lib/cache/redis-cache'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import { STORE_TAG_DEPTH } from '../../lib/store/session-keys'
import { flushAll, sleep, type ClusterClient, type StandaloneClient } from '../helpers/clients'
import { sessionCacheKey, sessionRedisKey, storedIdFor } from './redis-keys'
import { describeStoreContract } from './store-contract'
import { describeStoreRaces } from './store-races'

export interface RedisClients<C> {
  /** The client the store under test uses. */
  client: () => C
  /** Another one, as another app server would have. */
  other: () => C
}

export function describeStoreOnRedis<C extends StandaloneClient | ClusterClient>(name: string, connect: () => Promise<C>): RedisClients<C> {
  let client: C
  let other: C
  beforeAll(async () => {
    ;[client, other] = await Promise.all([connect(), connect()])
  })
  afterAll(() => {
    client?.destroy()
    other?.destroy()
  })
  beforeEach(() => flushAll(client))

  describeStoreContract(`on ${name}`, async (options) => {
    const store = new RedisSessionStore({ ...options, client })
    return {
      store,
      twin: (more = options) => new RedisSessionStore({ ...more, client: other }),
      advance: sleep,
      corrupt: (sid, text) => store.cache.put(sessionCacheKey(storedIdFor(sid, options)), text),
      ttlLeftMs: async (sid) => {
        const key = sessionRedisKey(sid, options)
        const [text, pttl] = [await client.get(key), await client.pTTL(key)]
        // A tombstone's header marks it 'x' where a session's says 'v'.
        return text?.[13] === 'v' && pttl >= 0 ? pttl : undefined
      },
    }
  })

  // A RedisCache the app built itself, with the default (JSON) serializer.
  describeStoreRaces(`on a RedisCache on ${name}`, async () => new RedisCache({ client, ttlMs: 60_000, tagDepth: STORE_TAG_DEPTH }))

  return { client: () => client, other: () => other }
}
