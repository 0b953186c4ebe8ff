// The store suites with a near-cache on every store, on this worker's standalone Redis: a
// session in memory is read without Redis (and without the promise chain of a read that goes
// there), and every promise of the contract still holds.
import { connectStandalone } from '../helpers/redis'
import { describeStoreOnRedis } from './store-redis'

describe('with a near-cache', () => {
  describeStoreOnRedis('standalone Redis', connectStandalone, undefined, { nearCache: { maxEntries: 1_000 } })
})
