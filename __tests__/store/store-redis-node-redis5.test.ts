// The store suites on node-redis 5 clients, on this worker's standalone Redis and Cluster (the tests read Redis with node-redis 6).
import { NODE_REDIS_5 } from '../helpers/client-families'
import { connectCluster, connectStandalone } from '../helpers/redis'
import { describeStoreOnRedis } from './store-redis'

describe('node-redis 5', () => {
  describeStoreOnRedis('standalone Redis', connectStandalone, () => NODE_REDIS_5.standalone())
})

describe('node-redis 5, on a Cluster', () => {
  describeStoreOnRedis('a 3-master Redis Cluster', connectCluster, () => NODE_REDIS_5.cluster())
})
