/**
 * The store suites on one of this worker's Redis backends, flushed before each test: the
 * contract through a store built on `client`, the races through a RedisCache the app built. One
 * test file per backend, so that two workers run them side by side. With `underTest`, the stores
 * and caches use that family's clients, while the test still reads Redis with node-redis 6.
 */
import { RedisCache } from 'sessionvault/cache'
import { RedisSessionStore, type RedisSessionStoreOptions } from 'sessionvault/store'
import { STORE_TAG_DEPTH } from 'sessionvault/store'
import type { RedisClient } from 'sessionvault'
import type { FamilyClient } from '../helpers/client-families'
import { flushAll, type ClusterClient, type StandaloneClient } from '../helpers/redis'
import { sleep } from '../helpers/waiting'
import { sessionCacheKey, sessionRedisKey, storedIdFor } from './redis-keys'
import { describeStoreContract } from './store-contract'
import { describeStoreRaces } from './store-races'

export interface RedisClients<C> {
  /** The client the store under test uses. */
  client: () => C
  /** Another one, as another app server would have. */
  other: () => C
}

export function describeStoreOnRedis<C extends StandaloneClient | ClusterClient>(
  name: string,
  connect: () => Promise<C>,
  underTest?: () => Promise<FamilyClient>,
  /** Options every store of the contract gets (its twins too), e.g. a near-cache. */
  storeOptions: Pick<RedisSessionStoreOptions, 'nearCache'> = {},
): RedisClients<C> {
  let client: C
  let other: C
  let under: FamilyClient[] = []
  // The clients the stores use: the family's when given, else the inspecting ones.
  let storeClient: RedisClient
  let twinClient: RedisClient
  beforeAll(async () => {
    ;[client, other] = await Promise.all([connect(), connect()])
    under = underTest ? await Promise.all([underTest(), underTest()]) : []
    storeClient = under[0]?.client ?? client
    twinClient = under[1]?.client ?? other
  })
  afterAll(async () => {
    client?.destroy()
    other?.destroy()
    await Promise.all(under.map((family) => family.close()))
  })
  beforeEach(() => flushAll(client))
  // A store with a near-cache holds a connection of its own: each test's stores are closed after it.
  let opened: RedisSessionStore[] = []
  afterEach(async () => {
    await Promise.all(opened.map((store) => store.close()))
    opened = []
  })
  const open = (options: RedisSessionStoreOptions): RedisSessionStore => {
    const store = new RedisSessionStore(options)
    if (options.nearCache !== undefined) opened.push(store)
    return store
  }

  describeStoreContract(`on ${name}`, async (options) => {
    const store = open({ ...options, ...storeOptions, client: storeClient })
    if (storeOptions.nearCache !== undefined) await nearCacheServing(store)
    return {
      store,
      twin: (more = options) => open({ ...more, ...storeOptions, client: twinClient }),
      advance: sleep,
      // Redis runs on this machine: its clock is this one.
      now: Date.now,
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
  describeStoreRaces(
    `on a RedisCache on ${name}`,
    async () => new RedisCache({ client: storeClient, ttlMs: 60_000, tagDepth: STORE_TAG_DEPTH }),
  )

  return { client: () => client, other: () => other }
}

/** Waits until the store's near-cache serves reads (its tracking connection opens in the background). */
async function nearCacheServing(store: RedisSessionStore): Promise<void> {
  const { cache } = store
  const hits = () => cache.stats?.().nearCache?.hits ?? 0
  await cache.put(NEAR_CACHE_PROBE, 'probe')
  try {
    // Reads until one is a hit: the first tracked read may be overtaken by the invalidation of the put.
    for (let i = 0; i < 400; i++) {
      const before = hits()
      await cache.get(NEAR_CACHE_PROBE)
      if (hits() > before) return
      await sleep(5)
    }
    throw new Error('the near-cache never served a read')
  } finally {
    await cache.delete(NEAR_CACHE_PROBE)
  }
}

/** A record no listing of the store's sessions includes. */
const NEAR_CACHE_PROBE = ['near-cache probe']
