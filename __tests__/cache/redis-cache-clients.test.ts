// The cache conformance suite on the other client families (node-redis 6 runs in redis-cache.test.ts,
// with the same two clients to look at Redis: two files, so jest runs the long suites side by side).
import { RedisCache } from 'sessionvault'
import { OTHER_FAMILIES, type FamilyClient } from '../helpers/client-families'
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

for (const family of OTHER_FAMILIES) {
  describe(`${family.name}, on standalone Redis`, () => {
    let under: FamilyClient
    beforeAll(async () => (under = await family.standalone()))
    afterAll(() => under.close())
    beforeEach(() => flushAll(standalone))
    describeCacheConformance('RedisCache', async (options) =>
      redisHarness(new RedisCache({ ...options, client: under.client }), standaloneInspector(standalone)),
    )
  })

  describe(`${family.name}, on a 3-master Redis Cluster`, () => {
    let under: FamilyClient
    beforeAll(async () => (under = await family.cluster()))
    afterAll(() => under.close())
    beforeEach(() => flushAll(cluster))
    describeCacheConformance('RedisCache', async (options) =>
      redisHarness(new RedisCache({ ...options, client: under.client, tagDepth: 2, buckets: 8 }), clusterInspector(cluster), 8),
    )
  })
}
