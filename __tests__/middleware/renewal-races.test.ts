// Renewals that stall: one that outlives its lock, and one whose request is answered 503 before
// it is done. In memory, on an injected clock, with a cache that holds one call until released.
import request from 'supertest'
import { RENEWAL_LOCK_MS } from '../../lib/defaults'
import { CredentialsCache } from '../../lib/middleware/credentials-cache'
import { createToken } from '../../lib/middleware/token'
import { GatedCache } from './gated-cache'
import { Clock, login, sessionCookie, statusWith, testApp, withCookie } from './helpers'

const MINUTE = 60_000
const timing = { ttlMs: 30 * MINUTE, renewAfterMs: 15 * MINUTE, rotationGraceMs: 10_000 }

let clock: Clock
let cache: GatedCache
beforeEach(() => {
  clock = new Clock()
  // The cache's clock is the middleware's, so the renewal lock expires when the test says.
  cache = new GatedCache({ ttlMs: 60 * MINUTE, now: clock.now })
})

test('a renewal that outlives its lock does not fork the session: revoking all sessions leaves no token working', async () => {
  const a = testApp(cache, { ...timing, now: clock.now, timeoutMs: 0 })
  const b = testApp(cache, { ...timing, now: clock.now, timeoutMs: 0 })
  const token = await login(a.app)
  clock.advance(15 * MINUTE)

  // Server A stalls right after writing its new token's record, past the lock's life...
  const held = cache.holdNext('putMany')
  const slow = request(a.app).get('/me').set(...withCookie(token)).then((res) => res)
  await held.reached
  clock.advance(RENEWAL_LOCK_MS)
  // ...so server B takes the lock and renews the same session.
  const fast = await request(b.app).get('/me').set(...withCookie(token))
  held.release()
  const responses = [await slow, fast]

  expect(responses.map((res) => res.status)).toEqual([200, 200])
  const issued = responses.flatMap((res) => sessionCookie(res) ?? [])
  expect(issued).toHaveLength(1)
  expect(await a.auth.revokeAllSessions('alice')).toBe(1)
  for (const presented of [token, ...issued]) expect(await statusWith(b.app, presented)).toBe(401)
})

test.each([
  ['before its swap (writing the new token)', 'putMany' as const, () => true],
  ['after its swap (writing the device entry)', 'putIf' as const, (key: (string | number)[]) => key[2] === 'session'],
])('a renewal still running when its request was answered 503 does not stand: the token the client has keeps working, %s', async (_, operation, matches) => {
  const hurried = testApp(cache, { ...timing, now: clock.now, timeoutMs: 200 }).app
  // The same sessions, answered without hurry (another server, say).
  const { app, auth } = testApp(cache, { ...timing, now: clock.now })
  const token = await login(app)
  clock.advance(15 * MINUTE)

  const held = cache.holdNext(operation, matches)
  await request(hurried).get('/me').set(...withCookie(token)).expect(503)
  held.release()
  await cache.settled()

  // Past the grace period a rotated-out token would be refused; this one is still the session's.
  clock.advance(timing.rotationGraceMs)
  const res = await request(app).get('/me').set(...withCookie(token)).expect(200)
  const renewed = sessionCookie(res) as string
  expect(renewed).toEqual(expect.any(String))
  expect(await statusWith(app, renewed)).toBe(200)
  // And nothing forked on the way.
  expect(await auth.revokeAllSessions('alice')).toBe(1)
  for (const presented of [token, renewed]) expect(await statusWith(app, presented)).toBe(401)
})

test('a request with less than half of its time left is served without starting a renewal', async () => {
  const credentials = new CredentialsCache(cache, { ...timing, maxAgeMs: 0 }, clock.now)
  const { token } = await credentials.create({ userId: 'alice', user: { id: 'alice' }, fingerprint: 'f', metadata: {} })
  clock.advance(15 * MINUTE)
  const late = { roomToRenew: () => false, passed: false }
  const served = await credentials.authenticate(token, late)
  expect(served?.record.userId).toBe('alice')
  expect(served?.renewedToken).toBeUndefined()
  expect((await credentials.authenticate(token))?.renewedToken).toEqual(expect.any(String))
  expect(await credentials.authenticate(createToken())).toBeUndefined()
})
