// RedisSessionStore on this worker's standalone Redis.
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import { connectStandalone } from '../helpers/clients'
import { sessionValueKey } from './redis-keys'
import { sessionData } from './session-data'
import { describeStoreOnRedis } from './store-redis'

const HOUR = 3_600_000

const { client } = describeStoreOnRedis('standalone Redis', connectStandalone)

describe('on standalone Redis itself', () => {
  test('the Redis TTL is the cookie expiry to the millisecond (connect-redis rounds up to seconds)', async () => {
    const store = new RedisSessionStore({ client: client() })
    await store.set('s1', sessionData({}, 1_234))
    const pttl = await client().pTTL(sessionValueKey('sess:', 's1'))
    expect(pttl).toBeLessThanOrEqual(1_234)
    expect(pttl).toBeGreaterThan(1_234 - 100)
  })

  test('disableTTL gives a TTL of about a hundred years', async () => {
    const store = new RedisSessionStore({ client: client(), disableTTL: true })
    await store.set('s1', sessionData({}, 1_000))
    expect(await client().pTTL(sessionValueKey('sess:', 's1'))).toBeGreaterThan(99 * 365 * 24 * HOUR)
  })

  test('prefix separates the sessions of two apps on one Redis', async () => {
    const shop = new RedisSessionStore({ client: client(), prefix: 'shop:' })
    const blog = new RedisSessionStore({ client: client(), prefix: 'blog:' })
    await shop.set('s1', sessionData({ views: 1 }, HOUR))
    expect(await blog.get('s1')).toBeNull()
    expect(await blog.length()).toBe(0)
  })
})
