// Redis full (maxmemory reached, noeviction): what users already have keeps working, logouts
// free memory, and what needs new memory (a new login) fails cleanly, through the app's error
// handler. On a server of this file's own, filled with filler keys until it refuses writes.
import request from 'supertest'
import { CacheError } from 'sessionvault'
import { RedisSessionStore } from 'sessionvault/store'
import { usePrivateServer } from '../helpers/redis'
import { cookieOf, sessionApp, sidOf } from './apps'
import { redisKeyOf, sessionRedisKey, storedIdFor, userEntryCacheKey } from './redis-keys'
import { userOf } from './session-data'

const redis = usePrivateServer()
beforeEach(async () => {
  await redis.client.configSet('maxmemory', '0')
})

/** Caps Redis's memory a little above what it uses now and writes filler until it refuses a write (OOM). */
async function fillRedis(): Promise<void> {
  const used = Number(/^used_memory:(\d+)/m.exec(await redis.client.info('memory'))?.[1])
  await redis.client.configSet({ maxmemory: String(used + 1_000_000), 'maxmemory-policy': 'noeviction' })
  const filler = 'x'.repeat(10_000)
  for (let i = 0; i < 10_000; i++) {
    try {
      await redis.client.set(`filler:${i}`, filler)
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('OOM')) return
      throw error
    }
  }
  throw new Error('Redis never filled up')
}

/** The app, and every error its error handler receives. */
function appWithErrors(store: RedisSessionStore, options: Parameters<typeof sessionApp>[1] = {}) {
  const errors: unknown[] = []
  return { app: sessionApp(store, { ...options, onError: (error) => errors.push(error) }), errors }
}

test('an existing session keeps working: its requests succeed and its touches renew it', async () => {
  let ttlSeconds = 60
  const store = new RedisSessionStore({ client: redis.client, userOf, ttl: () => ttlSeconds, touchAfterMs: 0 })
  const { app, errors } = appWithErrors(store, { maxAgeMs: null })
  const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
  const key = sessionRedisKey(sidOf(cookie))
  expect(await redis.client.pTTL(key)).toBeLessThanOrEqual(60_000)
  await fillRedis()

  ttlSeconds = 3_600
  for (let i = 0; i < 5; i++) {
    expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: 'ada' })
  }

  // Redis was full all along: it still refuses a write that needs memory.
  await expect(redis.client.set('probe', 'x'.repeat(10_000))).rejects.toThrow(/^OOM/)
  expect(await redis.client.pTTL(key)).toBeGreaterThan(1_800_000)
  expect(await redis.client.pTTL(redisKeyOf(userEntryCacheKey('ada', storedIdFor(sidOf(cookie)))))).toBeGreaterThan(1_800_000)
  expect(errors).toEqual([])
})

test('a new login fails with a CacheError (REDIS_ERROR, OOM) that the error handler receives, and nothing fails after the response', async () => {
  const store = new RedisSessionStore({ client: redis.client, userOf })
  const { app, errors } = appWithErrors(store)
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => void unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  try {
    await fillRedis()
    const keys = await redis.client.dbSize()

    const response = await request(app).post('/login/bob')

    expect(response.status).toBe(500)
    expect((response.body as { error: string }).error).toMatch(/OOM/)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(CacheError)
    expect(errors[0]).toMatchObject({ code: 'REDIS_ERROR', message: expect.stringMatching(/OOM/) as unknown })
    // Another request through the same app, so anything express-session did after the response has run.
    await request(app).get('/me').expect(200)
    expect(errors).toHaveLength(1)
    expect(unhandled).toEqual([])
    expect(await redis.client.dbSize()).toBe(keys)
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})

test('a logout succeeds and frees memory: the session shrinks to a tombstone, its user entry goes', async () => {
  const store = new RedisSessionStore({ client: redis.client, userOf })
  const { app, errors } = appWithErrors(store)
  const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
  const key = sessionRedisKey(sidOf(cookie))
  const entry = redisKeyOf(userEntryCacheKey('ada', storedIdFor(sidOf(cookie))))
  await fillRedis()
  const before = (await redis.client.memoryUsage(key)) as number

  await request(app).post('/logout').set('Cookie', cookie).expect(200)

  expect(await redis.client.get(key)).toMatch(/^\d{13}x$/)
  expect(await redis.client.memoryUsage(key)).toBeLessThan(before)
  expect(await redis.client.exists(entry)).toBe(0)
  expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: null })
  expect(errors).toEqual([])
})

test('signing a user out everywhere works too', async () => {
  const store = new RedisSessionStore({ client: redis.client, userOf })
  const { app } = appWithErrors(store)
  const cookies = [cookieOf(await request(app).post('/login/ada').expect(200)), cookieOf(await request(app).post('/login/ada').expect(200))]
  await fillRedis()

  expect(await store.destroyUserSessions('ada')).toBe(2)

  for (const cookie of cookies)
    expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: null })
  expect(await store.length()).toBe(0)
})
