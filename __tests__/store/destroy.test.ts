// Destroy, as Redis sees it: a live session becomes a tombstone that refuses late saves; an id
// that holds nothing costs nothing, however many logouts come without a session. On a server of
// this file's own, so that DBSIZE counts only this file's keys.
import type { SessionData } from 'express-session'
import request from 'supertest'
import { RedisSessionStore } from 'sessionvault/store'
import { usePrivateServer } from '../helpers/redis'
import { cookieOf, sessionApp, sidOf } from './apps'
import { redisKeyOf, sessionRedisKey, storedIdFor, userEntryCacheKey } from './redis-keys'
import { sessionData, userOf } from './session-data'

const HOUR = 3_600_000

const redis = usePrivateServer()

test('destroy of an unknown id writes no key', async () => {
  const store = new RedisSessionStore({ client: redis.client, userOf })
  await store.set('live', sessionData({ userId: 'ada' }, HOUR))
  const keys = await redis.client.dbSize()
  for (const sid of ['unknown', 'another', 'live-but-not-this-one']) await store.destroy(sid)
  expect(await redis.client.dbSize()).toBe(keys)
})

test('2,000 logouts without a session cookie write no key to Redis', async () => {
  const store = new RedisSessionStore({ client: redis.client, userOf })
  const app = sessionApp(store)
  const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
  const keys = await redis.client.dbSize()
  const destroys = jest.spyOn(store, 'destroy')

  // Each goes through express-session's req.session.destroy, with a session id it made up.
  for (let i = 0; i < 2_000; i += 100) {
    await Promise.all(Array.from({ length: 100 }, () => request(app).post('/logout').expect(200)))
  }

  expect(destroys).toHaveBeenCalledTimes(2_000)
  expect(await redis.client.dbSize()).toBe(keys)
  expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: 'ada' })
})

test('a logout turns the session into a tombstone for tombstoneTtlMs, and removes its user entry', async () => {
  const store = new RedisSessionStore({ client: redis.client, userOf })
  const app = sessionApp(store)
  const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
  const sid = sidOf(cookie)

  await request(app).post('/logout').set('Cookie', cookie).expect(200)

  expect(await redis.client.get(sessionRedisKey(sid))).toMatch(/^\d{13}x$/)
  const pttl = await redis.client.pTTL(sessionRedisKey(sid))
  expect(pttl).toBeLessThanOrEqual(HOUR)
  expect(pttl).toBeGreaterThan(HOUR / 2)
  expect(await redis.client.exists(redisKeyOf(userEntryCacheKey('ada', storedIdFor(sid))))).toBe(0)
  expect(await store.length()).toBe(0)
})

test('a destroyed session stays destroyed: a late save of it is refused', async () => {
  const store = new RedisSessionStore({ client: redis.client, userOf })
  const app = sessionApp(store)
  const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
  const sid = sidOf(cookie)
  // A request that loaded the session before the logout, and saves after it.
  const slowRequest = (await store.get(sid)) as SessionData

  await request(app).post('/logout').set('Cookie', cookie).expect(200)
  await store.set(sid, { ...slowRequest, views: 2 })

  expect(await redis.client.get(sessionRedisKey(sid))).toMatch(/^\d{13}x$/)
  expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: null })
  expect(await store.listUserSessions('ada')).toEqual([])
  expect(await redis.client.exists(redisKeyOf(userEntryCacheKey('ada', storedIdFor(sid))))).toBe(0)
})
