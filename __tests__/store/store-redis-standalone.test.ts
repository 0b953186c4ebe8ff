// RedisSessionStore on this worker's standalone Redis.
import { RedisSessionStore } from 'sessionvault/store'
import { connectStandalone, dumpRedis } from '../helpers/redis'
import { sessionRedisKey } from './redis-keys'
import { sessionData } from './session-data'
import { describeStoreOnRedis } from './store-redis'

const HOUR = 3_600_000

const { client } = describeStoreOnRedis('standalone Redis', connectStandalone)

describe('on standalone Redis itself', () => {
  test('the Redis TTL is the cookie expiry to the millisecond (connect-redis rounds up to seconds)', async () => {
    const now = Date.now()
    // The store's clock stands still, so the TTL it computes is exactly 1,234 ms.
    const store = new RedisSessionStore({ client: client(), now: () => now })
    const session = sessionData({}, 1_234)
    session.cookie.expires = new Date(now + 1_234)
    const started = Date.now()
    await store.set('s1', session)
    const pttl = await client().pTTL(sessionRedisKey('s1'))
    const elapsed = Date.now() - started
    expect(pttl).toBeLessThanOrEqual(1_234)
    expect(pttl).toBeGreaterThanOrEqual(1_234 - elapsed - 1)
  })

  test('the stored value is a 14-character header (expiry, then v), then the session exactly as the serializer wrote it', async () => {
    const store = new RedisSessionStore({ client: client() })
    const session = sessionData({ views: 3 }, HOUR)
    await store.set('s1', session)
    const [text, pttl] = [await client().get(sessionRedisKey('s1')), await client().pTTL(sessionRedisKey('s1'))]
    expect(text).toMatch(/^\d{13}v/)
    expect(text?.slice(14)).toBe(JSON.stringify(session))
    // The header's expiry is the key's, by Redis's clock.
    const [seconds, micros] = (await client().time()) as unknown as [number, number]
    const redisNowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    expect(Math.abs(Number(text?.slice(0, 13)) - (redisNowMs + pttl))).toBeLessThan(1_000)
  })

  test('disableTTL gives a TTL of about a hundred years', async () => {
    const store = new RedisSessionStore({ client: client(), disableTTL: true })
    await store.set('s1', sessionData({}, 1_000))
    expect(await client().pTTL(sessionRedisKey('s1'))).toBeGreaterThan(99 * 365 * 24 * HOUR)
  })

  test('a destroyed session’s key holds a tombstone for tombstoneTtlMs: a header marked x and nothing else', async () => {
    const store = new RedisSessionStore({ client: client(), tombstoneTtlMs: 600_000 })
    await store.set('s1', sessionData({ views: 1 }, HOUR))
    await store.destroy('s1')
    const key = sessionRedisKey('s1')
    expect(await client().get(key)).toMatch(/^\d{13}x$/)
    const pttl = await client().pTTL(key)
    expect(pttl).toBeLessThanOrEqual(600_000)
    expect(pttl).toBeGreaterThan(300_000)
  })

  test('prefix separates the sessions of two apps on one Redis', async () => {
    const shop = new RedisSessionStore({ client: client(), prefix: 'shop:' })
    const blog = new RedisSessionStore({ client: client(), prefix: 'blog:' })
    await shop.set('s1', sessionData({ views: 1 }, HOUR))
    expect(await blog.get('s1')).toBeNull()
    expect(await blog.length()).toBe(0)
  })

  test('every key the store writes starts with its prefix, as written ("shop:" and "shop" are the same)', async () => {
    const store = new RedisSessionStore({ client: client(), prefix: 'shop:', userOf: (session) => session.userId })
    await store.set('s1', sessionData({ userId: 'ada' }, HOUR))
    await store.set('s2', sessionData({ userId: 'bob' }, HOUR))
    await store.destroy('s2')
    const keys = [...(await dumpRedis(client())).keys()]
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(key.startsWith('shop:')).toBe(true)
    expect(await new RedisSessionStore({ client: client(), prefix: 'shop' }).get('s1')).toMatchObject({ userId: 'ada' })
  })
})
