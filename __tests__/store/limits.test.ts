// Limits and what is kept of users: an absolute lifetime (`absoluteTtlMs`) whatever the touches
// and saves, a bound on sessions per user (`maxSessionsPerUser`), users' ids hashed in keys
// (`hashUserIds`). In memory on a shared clock, and on a Redis of this file's own.
import type { SessionData } from 'express-session'
import { MemoryCache } from 'sessionvault/cache'
import { RedisSessionStore } from 'sessionvault/store'
import { usePrivateServer } from '../helpers/redis'
import { sessionRedisKey } from './redis-keys'
import { sessionData, userOf } from './session-data'
import { thrownBy } from '../helpers/thrown'

const MINUTE = 60_000

class Clock {
  time = Date.UTC(2030, 0, 1)
  now = (): number => this.time
}

describe('absoluteTtlMs', () => {
  let clock: Clock
  let store: RedisSessionStore
  beforeEach(() => {
    clock = new Clock()
    // Browser-session cookies: the idle TTL is `ttl` (30 minutes), on the store's clock.
    store = new RedisSessionStore({
      cache: new MemoryCache({ ttlMs: MINUTE, now: clock.now }),
      now: clock.now,
      ttl: 30 * 60,
      absoluteTtlMs: 3_600_000,
      touchAfterMs: 0,
    })
  })

  /** A request as express-session makes it: get, then touch. */
  async function visit(sid: string): Promise<SessionData | null> {
    const session = await store.get(sid)
    if (session) await store.touch(sid, session)
    return session
  }

  test('a session active all along ends absoluteTtlMs after its first save, saves and touches notwithstanding', async () => {
    await store.set('s1', sessionData({ views: 0 }))
    for (let minute = 10; minute < 60; minute += 10) {
      clock.time += 10 * MINUTE
      const session = await visit('s1')
      expect(session?.views).toBe(minute / 10 - 1)
      // As express-session does: the object the store handed out, changed, saved.
      ;(session as SessionData).views = minute / 10
      await store.set('s1', session as SessionData)
    }
    clock.time += 10 * MINUTE
    expect(await store.get('s1')).toBeNull()
    expect(await store.length()).toBe(0)
  })

  test('the idle TTL still applies inside the absolute lifetime', async () => {
    await store.set('s1', sessionData())
    clock.time += 30 * MINUTE
    expect(await store.get('s1')).toBeNull()
  })

  test('all() and listings leave out sessions past their lifetime; the session data the app sees is unchanged', async () => {
    const listed = new RedisSessionStore({
      cache: new MemoryCache({ ttlMs: MINUTE, now: clock.now }),
      now: clock.now,
      ttl: 90 * 60,
      absoluteTtlMs: 3_600_000,
      userOf,
    })
    await listed.set('old', sessionData({ userId: 'ada', views: 1 }))
    clock.time += 40 * MINUTE
    await listed.set('new', sessionData({ userId: 'ada', views: 2 }))
    expect((await listed.all()).map((session) => session.views).sort()).toEqual([1, 2])
    clock.time += 30 * MINUTE
    const all = await listed.all()
    expect(all.map((session) => session.views)).toEqual([2])
    expect(Object.keys(all[0] as object).sort()).toEqual(['cookie', 'id', 'userId', 'views'])
    expect((await listed.listUserSessions('ada')).map(({ session }) => session.views)).toEqual([2])
  })

  test('must be a whole number of milliseconds, 0 or more', () => {
    for (const bad of [-1, 0.5, Number.NaN, '60']) {
      expect(
        thrownBy(() => new RedisSessionStore({ cache: new MemoryCache({ ttlMs: MINUTE }), absoluteTtlMs: bad as number })),
      ).toMatchObject({ option: 'absoluteTtlMs' })
    }
  })
})

describe('maxSessionsPerUser', () => {
  test("a new session beyond it destroys the user's session idle longest, and no one else's", async () => {
    const clock = new Clock()
    const store = new RedisSessionStore({
      cache: new MemoryCache({ ttlMs: MINUTE, now: clock.now }),
      now: clock.now,
      ttl: 3600,
      userOf,
      maxSessionsPerUser: 2,
      touchAfterMs: 0,
    })
    await store.set('bob-1', sessionData({ userId: 'bob' }))
    await store.set('ada-1', sessionData({ userId: 'ada' }))
    clock.time += MINUTE
    await store.set('ada-2', sessionData({ userId: 'ada' }))
    clock.time += MINUTE
    // ada-1 is used again: now ada-2 is the one idle longest.
    const used = (await store.get('ada-1')) as SessionData
    await store.touch('ada-1', used)
    clock.time += MINUTE
    await store.set('ada-3', sessionData({ userId: 'ada' }))
    expect(await store.get('ada-2')).toBeNull()
    expect((await store.listUserSessions('ada')).length).toBe(2)
    expect(await store.get('ada-1')).not.toBeNull()
    expect(await store.get('bob-1')).not.toBeNull()
    // Saving a session the store handed out (not a new one) ends nothing.
    await store.set('ada-1', used)
    expect((await store.listUserSessions('ada')).length).toBe(2)
  })

  test('needs userOf, and a whole number', () => {
    const cache = new MemoryCache({ ttlMs: MINUTE })
    expect(thrownBy(() => new RedisSessionStore({ cache, maxSessionsPerUser: 3 }))).toMatchObject({ option: 'maxSessionsPerUser' })
    expect(thrownBy(() => new RedisSessionStore({ cache, userOf, maxSessionsPerUser: 1.5 }))).toMatchObject({
      option: 'maxSessionsPerUser',
    })
  })
})

describe('on Redis', () => {
  const server = usePrivateServer()

  test('absoluteTtlMs caps the TTL Redis keeps: a touch never extends a session past it', async () => {
    const store = new RedisSessionStore({ client: server.client, ttl: 3600, absoluteTtlMs: 600_000, touchAfterMs: 0 })
    await store.set('s1', sessionData({ views: 1 }))
    const key = sessionRedisKey('s1')
    expect(await server.client.pTTL(key)).toBeLessThanOrEqual(600_000)
    const session = (await store.get('s1')) as SessionData
    await store.touch('s1', session)
    expect(await server.client.pTTL(key)).toBeLessThanOrEqual(600_000)
    expect(await server.client.pTTL(key)).toBeGreaterThan(590_000)
    expect((await store.get('s1'))?.views).toBe(1)
  })

  test("hashUserIds: no key holds the user's id, and the per-user calls take it as before", async () => {
    const store = new RedisSessionStore({ client: server.client, userOf, hashUserIds: true })
    await store.set('s1', sessionData({ userId: 'ada@example.com' }, MINUTE))
    await store.set('s2', sessionData({ userId: 'ada@example.com' }, MINUTE))
    await store.set('s3', sessionData({ userId: 42 }, MINUTE))
    const keys = await server.client.keys('*')
    expect(keys.join('\n')).not.toMatch(/ada|example/)
    expect((await store.listUserSessions('ada@example.com')).map(({ session }) => session.userId)).toEqual([
      'ada@example.com',
      'ada@example.com',
    ])
    expect(await store.listUserSessions('42')).toHaveLength(1)
    expect(await store.destroyUserSessions('ada@example.com')).toBe(2)
    expect(await store.get('s1')).toBeNull()
    expect(await store.get('s3')).not.toBeNull()
  })

  test("destroyUserSessions ends 10,000 sessions of one user, in batches, each within the call's bound", async () => {
    const store = new RedisSessionStore({ client: server.client, userOf, timeoutMs: 2_000 })
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => store.set(`s${i + j}`, sessionData({ userId: 'ada' }, 10 * MINUTE))))
    }
    await store.set('bob', sessionData({ userId: 'bob' }, 10 * MINUTE))
    expect(await store.destroyUserSessions('ada')).toBe(10_000)
    expect(await store.length()).toBe(1)
    expect(await store.get('s9999')).toBeNull()
  }, 60_000)

  test("without hashUserIds the user's id is in the key, readable", async () => {
    const store = new RedisSessionStore({ client: server.client, userOf })
    await store.set('s1', sessionData({ userId: 'ada' }, MINUTE))
    expect((await server.client.keys('*')).join('\n')).toContain('.ada')
  })
})
