import { RedisCache } from '../../lib'
import { connectCluster, connectStandalone, flushAll, sleep, type ClusterClient, type StandaloneClient } from '../helpers/clients'
import { describeCacheConformance } from './conformance'

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
  describeCacheConformance('RedisCache', async (options) => ({
    cache: new RedisCache({ ...options, client: standalone }),
    advance: sleep,
  }))
})

/** Near-caching must not change any behaviour: the whole suite again, with it on. */
describe('on standalone Redis, with a near-cache', () => {
  const opened: RedisCache[] = []
  beforeEach(() => flushAll(standalone))
  afterAll(() => Promise.all(opened.map((cache) => cache.close())))
  describeCacheConformance('RedisCache', async (options) => {
    const cache = new RedisCache({ ...options, client: standalone, nearCache: { maxEntries: 100 } })
    opened.push(cache)
    return { cache, advance: sleep }
  })
})

describe('on a 3-master Redis Cluster', () => {
  beforeEach(() => flushAll(cluster))
  // tagDepth 2 puts each first key part in a slot of its own and makes the namespace index
  // shallow, so both halves of the cluster layout (tagged records, bucketed indexes) are exercised.
  describeCacheConformance('RedisCache', async (options) => ({
    cache: new RedisCache({ ...options, client: cluster, tagDepth: 2, shallowIndexBuckets: 8 }),
    advance: sleep,
  }))
})

describe('on a 3-master Redis Cluster, with a near-cache', () => {
  const opened: RedisCache[] = []
  beforeEach(() => flushAll(cluster))
  afterAll(() => Promise.all(opened.map((cache) => cache.close())))
  describeCacheConformance('RedisCache', async (options) => {
    const cache = new RedisCache({ ...options, client: cluster, tagDepth: 2, shallowIndexBuckets: 8, nearCache: { maxEntries: 100 } })
    opened.push(cache)
    return { cache, advance: sleep }
  })
})
