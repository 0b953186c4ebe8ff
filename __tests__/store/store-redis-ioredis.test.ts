// The store suites on ioredis 5 clients, on this worker's standalone Redis and Cluster (the tests read Redis with node-redis 6).
import { IOREDIS_5 } from '../helpers/client-families'
import { connectCluster, connectStandalone } from '../helpers/redis'
import { describeStoreOnRedis } from './store-redis'

describe('ioredis 5', () => {
  describeStoreOnRedis('standalone Redis', connectStandalone, () => IOREDIS_5.standalone())
})

describe('ioredis 5, on a Cluster', () => {
  describeStoreOnRedis('a 3-master Redis Cluster', connectCluster, () => IOREDIS_5.cluster())
})
