// Renewals that stall or fail: two at once, one whose request was answered 503 before it was
// done, one whose write Redis refuses. In memory, on an injected clock, with a cache that holds
// or fails one call when told.
import request from 'supertest'
import { CacheError } from 'sessionvault'
import { CredentialsCache } from '../../lib/middleware/credentials-cache'
import { createId, createSecret, joinToken, userKeyOf } from '../../lib/middleware/token'
import { GatedCache } from './gated-cache'
import { Clock, cookieHeader, login, sessionCookie, statusWith, testApp } from './helpers'

const MINUTE = 60_000
const timing = { ttlMs: 30 * MINUTE, renewAfterMs: 15 * MINUTE, rotationGraceMs: 10_000 }

let clock: Clock
let cache: GatedCache
beforeEach(() => {
  clock = new Clock()
  cache = new GatedCache({ ttlMs: 60 * MINUTE, now: clock.now })
})

test('two servers renewing one session at once: one token is issued, and revoking all sessions leaves no token working', async () => {
  const a = testApp(cache, { ...timing, now: clock.now, timeoutMs: 0 })
  const b = testApp(cache, { ...timing, now: clock.now, timeoutMs: 0 })
  const token = await login(a.app)
  clock.advance(15 * MINUTE)

  // Server A stalls right before its compare-and-set...
  const held = cache.holdNext('putIf')
  const slow = request(a.app)
    .get('/me')
    .set(cookieHeader(token))
    .then((res) => res)
  await held.reached
  // ...while server B renews the same session.
  const fast = await request(b.app).get('/me').set(cookieHeader(token))
  held.release()
  const responses = [await slow, fast]

  expect(responses.map((res) => res.status)).toEqual([200, 200])
  const issued = responses.flatMap((res) => sessionCookie(res) ?? [])
  expect(issued).toHaveLength(1)
  expect(await a.auth.revokeAllSessions('alice')).toBe(1)
  for (const presented of [token, ...issued]) expect(await statusWith(b.app, presented)).toBe(401)
})

test('a renewal whose request was answered 503 costs nothing: the token the client has keeps working, and the next renewal issues another', async () => {
  const hurried = testApp(cache, { ...timing, now: clock.now, timeoutMs: 200 }).app
  // The same sessions, answered without hurry (another server, say).
  const { app, auth } = testApp(cache, { ...timing, now: clock.now })
  const token = await login(app)
  clock.advance(15 * MINUTE)

  const held = cache.holdNext('putIf')
  await request(hurried).get('/me').set(cookieHeader(token)).expect(503)
  held.release()
  await cache.settled()

  // The renewal was stored, but its token never reached the client: long past the grace period,
  // the token the client has still opens the session.
  clock.advance(10 * MINUTE)
  expect(await statusWith(app, token)).toBe(200)
  clock.advance(5 * MINUTE)
  const renewed = sessionCookie(await request(app).get('/me').set(cookieHeader(token)).expect(200)) as string
  expect(renewed).toEqual(expect.any(String))
  expect(await statusWith(app, renewed)).toBe(200)
  // And nothing forked on the way.
  expect(await auth.revokeAllSessions('alice')).toBe(1)
  for (const presented of [token, renewed]) expect(await statusWith(app, presented)).toBe(401)
})

test.each([
  [
    'full (OOM)',
    () => new CacheError('REDIS_ERROR', "Redis replied: OOM command not allowed when used memory > 'maxmemory'", { operation: 'putIf' }),
  ],
  ['unreachable', () => new CacheError('REDIS_UNAVAILABLE', 'Redis is unavailable', { operation: 'putIf' })],
])('a renewal whose write fails because Redis is %s serves the request with the token it came with', async (_, failure) => {
  const { app } = testApp(cache, { ...timing, now: clock.now })
  const token = await login(app)
  clock.advance(15 * MINUTE)
  cache.failNext('putIf', failure())
  const res = await request(app).get('/me').set(cookieHeader(token)).expect(200)
  expect(sessionCookie(res)).toBeUndefined()
  // The next request renews.
  expect(sessionCookie(await request(app).get('/me').set(cookieHeader(token)).expect(200))).toEqual(expect.any(String))
})

test('the first request with a renewed token makes it final even when that write fails later: the renewed token keeps working', async () => {
  const { app } = testApp(cache, { ...timing, now: clock.now })
  const token = await login(app)
  clock.advance(15 * MINUTE)
  const renewed = sessionCookie(await request(app).get('/me').set(cookieHeader(token)).expect(200)) as string
  cache.failNext('putIf', new CacheError('REDIS_ERROR', 'Redis replied: OOM command not allowed', { operation: 'putIf' }))
  expect(await statusWith(app, renewed)).toBe(200)
  expect(await statusWith(app, renewed)).toBe(200)
  clock.advance(timing.rotationGraceMs)
  expect(await statusWith(app, token)).toBe(401)
})

test('a request with less than half of its time left is served without starting a renewal', async () => {
  const credentials = new CredentialsCache(cache, { ...timing, maxAgeMs: 0 }, clock.now, 100)
  const { token } = await credentials.create({ userId: 'alice', user: { id: 'alice' }, fingerprint: 'f', metadata: {} })
  clock.advance(15 * MINUTE)
  const late = { roomToRenew: () => false }
  const served = await credentials.authenticate(token, late)
  expect(served?.record.userId).toBe('alice')
  expect(served?.renewedToken).toBeUndefined()
  expect((await credentials.authenticate(token))?.renewedToken).toEqual(expect.any(String))
  expect(
    await credentials.authenticate(joinToken({ userKey: userKeyOf('alice'), sessionId: createId(), secret: createSecret() })),
  ).toBeUndefined()
})
