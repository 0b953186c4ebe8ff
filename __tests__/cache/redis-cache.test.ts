import { RedisCache } from 'sessionvault'
import { connectCluster, connectStandalone, flushAll, type ClusterClient, type StandaloneClient } from '../helpers/redis'
import { describeCacheConformance } from './conformance'
import { clusterInspector, redisHarness, standaloneInspector } from './redis-inspector'

let standalone: StandaloneClient
let cluster: ClusterClient

beforeAll(async () => {
  ;[standalone, cluster] = await Promise.all([connectStandalone(), connectCluster()])
})
afterAll(async () => {
  await Promise.all([standalone.close(), cluster.close()])
})

describe('on standalone Redis', () => {
  beforeEach(() => flushAll(standalone))
  describeCacheConformance('RedisCache', async (options) =>
    redisHarness(new RedisCache({ ...options, client: standalone }), standaloneInspector(standalone)),
  )
})

/** Near-caching must not change any behaviour: the whole suite again, with it on. */
describe('on standalone Redis, with a near-cache', () => {
  const opened: RedisCache[] = []
  beforeEach(() => flushAll(standalone))
  afterAll(() => Promise.all(opened.map((cache) => cache.close())))
  describeCacheConformance('RedisCache', async (options) => {
    const cache = new RedisCache({ ...options, client: standalone, nearCache: { maxEntries: 100 } })
    opened.push(cache)
    return redisHarness(cache, standaloneInspector(standalone))
  })
})

/**
 * A deeper tag and few buckets: keys shorter than tagDepth, tags of two parts, and buckets
 * that hold several prefixes' records, all on one server.
 */
describe('on standalone Redis, with tagDepth 3 and 4 buckets', () => {
  beforeEach(() => flushAll(standalone))
  describeCacheConformance('RedisCache', async (options) =>
    redisHarness(new RedisCache({ ...options, client: standalone, tagDepth: 3, buckets: 4 }), standaloneInspector(standalone), 4),
  )
})

describe('on a 3-master Redis Cluster', () => {
  beforeEach(() => flushAll(cluster))
  // tagDepth 2 spreads each first key part's records over buckets in slots of their own, and
  // 8 buckets keep several records in each, so both halves of the cluster layout are exercised.
  describeCacheConformance('RedisCache', async (options) =>
    redisHarness(new RedisCache({ ...options, client: cluster, tagDepth: 2, buckets: 8 }), clusterInspector(cluster), 8),
  )
})

describe('on a 3-master Redis Cluster, with a near-cache', () => {
  const opened: RedisCache[] = []
  beforeEach(() => flushAll(cluster))
  afterAll(() => Promise.all(opened.map((cache) => cache.close())))
  describeCacheConformance('RedisCache', async (options) => {
    const cache = new RedisCache({ ...options, client: cluster, tagDepth: 2, buckets: 8, nearCache: { maxEntries: 100 } })
    opened.push(cache)
    return redisHarness(cache, clusterInspector(cluster), 8)
  })
})
