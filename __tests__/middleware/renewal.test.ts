// Renewal and token rotation, on an injected clock: in memory, and on a real Redis shared by two
// app instances (where concurrency is real).
import type { ExpressApp } from '../helpers/express-majors'
import request from 'supertest'
import type { Cache } from 'sessionvault/cache'
import { MemoryCache } from 'sessionvault/cache'
import { Clock, cookieHeader, login, sessionCookie, setCookieLines, statusWith, testApp } from './helpers'
import { standaloneBackend, useBackend } from '../helpers/redis'

const MINUTE = 60_000
const timing = { ttlMs: 30 * MINUTE, renewAfterMs: 15 * MINUTE, rotationGraceMs: 10_000 }

const redis = useBackend(standaloneBackend)

describeRenewal('in memory', async (clock) => {
  const cache = new MemoryCache({ ttlMs: MINUTE, now: clock.now })
  return [cache, cache]
})
describeRenewal('on Redis, two instances', async () => [await redis.cache(), await redis.cache()])

function describeRenewal(name: string, caches: (clock: Clock) => Promise<[Cache, Cache]>): void {
  describe(`renewal ${name}`, () => {
    let clock: Clock
    let a: ExpressApp
    let b: ExpressApp

    beforeEach(async () => {
      clock = new Clock()
      const [first, second] = await caches(clock)
      a = testApp(first, { ...timing, now: clock.now }).app
      b = testApp(second, { ...timing, now: clock.now }).app
    })

    async function me(app: ExpressApp, token: string) {
      const res = await request(app).get('/me').set(cookieHeader(token))
      return {
        status: res.status,
        session: res.body.session as { id: string; fingerprint: string; renewedAt: number },
        cookie: sessionCookie(res),
      }
    }

    // One behaviour per test, each written out in full: many start alike (a login, the clock moved, a request).
    test('before renewAfterMs a request keeps its token and sets no cookie', async () => {
      const token = await login(a)
      clock.advance(15 * MINUTE - 1)
      expect(await me(b, token)).toMatchObject({ status: 200, cookie: undefined })
    })

    test('after renewAfterMs the token changes, and the session keeps its id and fingerprint', async () => {
      const token = await login(a)
      const before = (await me(a, token)).session
      clock.advance(15 * MINUTE)
      const renewed = await me(b, token)
      expect(renewed.status).toBe(200)
      expect(renewed.cookie).toEqual(expect.any(String))
      expect(renewed.cookie).not.toBe(token)
      expect(renewed.session).toMatchObject({ id: before.id, fingerprint: before.fingerprint, renewedAt: clock.time })
      expect(await me(a, renewed.cookie as string)).toMatchObject({ status: 200, cookie: undefined, session: { id: before.id } })
    })

    test('the old token keeps working until the renewed one is first presented', async () => {
      const token = await login(a)
      clock.advance(15 * MINUTE)
      const renewed = (await me(a, token)).cookie as string
      // The client never got the renewed token (a lost response): minutes later it still works.
      clock.advance(5 * MINUTE)
      expect(await me(b, token)).toMatchObject({ status: 200, cookie: undefined })
      expect(await statusWith(a, renewed)).toBe(200)
    })

    test('once the renewed token is presented, the old one works for the grace period, without a new cookie, then is rejected', async () => {
      const token = await login(a)
      clock.advance(15 * MINUTE)
      const renewed = (await me(a, token)).cookie as string
      clock.advance(MINUTE)
      expect(await statusWith(b, renewed)).toBe(200)
      clock.advance(9_999)
      expect(await me(b, token)).toMatchObject({ status: 200, cookie: undefined })
      clock.advance(1)
      expect(await statusWith(b, token)).toBe(401)
      expect(await statusWith(b, renewed)).toBe(200)
    })

    test('a client that never got its renewed token gets another at the next renewal, and the first is never valid', async () => {
      const token = await login(a)
      clock.advance(15 * MINUTE)
      const lost = (await me(a, token)).cookie as string
      clock.advance(15 * MINUTE)
      const second = (await me(b, token)).cookie as string
      expect(second).toEqual(expect.any(String))
      expect(second).not.toBe(lost)
      expect(await statusWith(a, lost)).toBe(401)
      expect(await statusWith(a, second)).toBe(200)
    })

    test('with rotationGraceMs 0 the old token is rejected as soon as the renewed one is presented', async () => {
      const strict = testApp((await caches(clock))[0], { ...timing, rotationGraceMs: 0, now: clock.now }).app
      const token = await login(strict)
      clock.advance(15 * MINUTE)
      const renewed = (await me(strict, token)).cookie as string
      expect(await statusWith(strict, token)).toBe(200)
      expect(await statusWith(strict, renewed)).toBe(200)
      expect(await statusWith(strict, token)).toBe(401)
    })

    test('with renewAfterMs 0, each request renews in turn', async () => {
      const eager = testApp((await caches(clock))[0], { ...timing, renewAfterMs: 0, now: clock.now }).app
      let token = await login(eager)
      for (let i = 0; i < 3; i++) {
        const renewed = await me(eager, token)
        expect(renewed).toMatchObject({ status: 200, cookie: expect.any(String) })
        expect(renewed.cookie).not.toBe(token)
        token = renewed.cookie as string
      }
    })

    test('a session renewed all along still ends maxAgeMs after its login, and its cookie says so', async () => {
      const capped = testApp((await caches(clock))[0], { ...timing, maxAgeMs: 60 * MINUTE, now: clock.now }).app
      let token = await login(capped)
      clock.advance(20 * MINUTE)
      token = (await me(capped, token)).cookie as string
      clock.advance(20 * MINUTE)
      const res = await request(capped).get('/me').set(cookieHeader(token)).expect(200)
      expect(res.body.session.expiresAt).toBe(clock.time + 20 * MINUTE)
      expect(setCookieLines(res)[0]).toMatch(/Max-Age=1200;/)
      token = sessionCookie(res) as string
      clock.advance(20 * MINUTE)
      expect(await statusWith(capped, token)).toBe(401)
    })

    test('a session with no request for ttlMs has expired', async () => {
      const token = await login(a)
      clock.advance(30 * MINUTE)
      expect(await statusWith(b, token)).toBe(401)
    })

    test('a session renewed in time lives on past its first ttlMs', async () => {
      const token = await login(a)
      clock.advance(20 * MINUTE)
      const renewed = (await me(b, token)).cookie as string
      clock.advance(20 * MINUTE)
      expect(await statusWith(a, renewed)).toBe(200)
    })

    test('a bearer client gets its renewed token in the Session-Token header', async () => {
      const { token } = (await request(a).post('/login').send({ cookie: 'no' }).expect(200)).body as { token: string }
      clock.advance(15 * MINUTE)
      const res = await request(b).get('/me').set('Authorization', `Bearer ${token}`).expect(200)
      const renewed = res.headers['session-token'] as string
      expect(renewed).toEqual(expect.any(String))
      expect(renewed).not.toBe(token)
      expect(setCookieLines(res)).toEqual([])
      await request(a).get('/me').set('Authorization', `Bearer ${renewed}`).expect(200)
    })

    test('20 concurrent requests with the old token at renewal time all succeed, and exactly one renews', async () => {
      const token = await login(a)
      const fingerprint = (await me(a, token)).session.fingerprint
      clock.advance(15 * MINUTE)
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => me(i % 2 === 0 ? a : b, token)))
      expect(results.map((result) => result.status)).toEqual(Array(20).fill(200))
      const issued = results.flatMap((result) => (result.cookie ? [result.cookie] : []))
      expect(issued).toHaveLength(1)
      const renewed = issued[0] as string
      expect(renewed).not.toBe(token)

      const devices = (await request(b).get('/sessions').set(cookieHeader(renewed))).body as { fingerprint: string }[]
      expect(devices).toHaveLength(1)
      expect(devices[0]?.fingerprint).toBe(fingerprint)
      clock.advance(10_000)
      expect(await statusWith(a, token)).toBe(401)
      expect(await statusWith(b, renewed)).toBe(200)
    })
  })
}
