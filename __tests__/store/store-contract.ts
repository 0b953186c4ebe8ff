/**
 * What every RedisSessionStore does, whatever it keeps sessions in. Called once per backend
 * (MemoryCache, RedisCache on standalone Redis, on Redis Cluster) with a factory; `advance` lets
 * time pass for the backend (a fake clock for MemoryCache, real time for Redis), `ttlLeftMs`
 * reads what is left of a session's TTL (the clock, or PTTL), so that most time-dependent tests
 * need no waiting at all. A TTL read right after a write is bounded both ways: at most the TTL
 * written, at least that less the ms the test has taken since; a wait outlives a TTL twice over.
 */
import type { SessionData } from 'express-session'
import { ANY } from 'sessionvault/cache'
import { CacheError, UsageError } from 'sessionvault'
import type { RedisSessionStore } from 'sessionvault/store'
import type { CommonStoreOptions } from 'sessionvault/store'
import { storedIdFor } from './redis-keys'
import { sessionData, userOf } from './session-data'
import { whileLive } from '../helpers/while-live'

export interface StoreHarness {
  store: RedisSessionStore
  /** Another store object on the same data, as on another app server (with these options instead, if given). */
  twin: (options?: CommonStoreOptions) => RedisSessionStore
  /** Lets `ms` milliseconds pass for the backend. */
  advance: (ms: number) => Promise<void>
  /** Writes raw text where the store keeps session `sid`. */
  corrupt: (sid: string, text: string) => Promise<void>
  /** Milliseconds left of session `sid`'s TTL, as the backend counts them; undefined when nothing is stored. */
  ttlLeftMs: (sid: string) => Promise<number | undefined>
  /** The time as the backend counts it, in ms since the epoch: real time, plus what `advance` added to a fake clock. */
  now: () => number
}

export type StoreFactory = (options: CommonStoreOptions) => Promise<StoreHarness>

const HOUR = 3_600_000
/** A session id as express-session makes them (24 random bytes, base64url), as a cookie carries it. */
const COOKIE_SID = 'Zr4mLqX0uTdGf2Yk9bW1sPcH7nE3aJoQ'

/** Resolves to the (error, value) a store method hands its callback. */
function viaCallback<T>(call: (callback: (error: unknown, value?: T) => void) => unknown): Promise<[unknown, T | undefined]> {
  return new Promise((resolve) => call((error, value) => resolve([error, value])))
}

/**
 * Checks that session `sid` has `ttlMs` left, less at most the time since `sinceMs` (taken
 * before its cookie was made): exact, however long the calls took. The clocks count whole ms,
 * hence 2 ms either way.
 */
async function expectTtlLeft({ ttlLeftMs, now }: StoreHarness, sid: string, ttlMs: number, sinceMs: number): Promise<void> {
  const left = await ttlLeftMs(sid)
  expect(left).toBeLessThanOrEqual(ttlMs + 2)
  expect(left).toBeGreaterThanOrEqual(ttlMs - (now() - sinceMs) - 2)
}

/** The ids of the sessions `store` lists for `user`. */
async function listedIds(store: RedisSessionStore, user: string | number): Promise<string[]> {
  return (await store.listUserSessions(user)).map((entry) => entry.id)
}

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name}: the express-session Store contract`, () => {
    let store: RedisSessionStore
    let harness: StoreHarness
    beforeEach(async () => {
      harness = await factory({})
      store = harness.store
    })

    test('get of an unknown session is null', async () => {
      expect(await store.get('nobody')).toBeNull()
    })

    test('set then get returns the session', async () => {
      await store.set('s1', sessionData({ views: 3 }, HOUR))
      expect(await store.get('s1')).toMatchObject({ views: 3, cookie: { originalMaxAge: HOUR, path: '/' } })
    })

    test('a second store object on the same data sees the session', async () => {
      await store.set('s1', sessionData({ userId: 'ada' }, HOUR))
      expect(await harness.twin().get('s1')).toMatchObject({ userId: 'ada' })
    })

    test('destroy removes the session for every store object', async () => {
      await store.set('s1', sessionData({}, HOUR))
      await harness.twin().destroy('s1')
      expect(await store.get('s1')).toBeNull()
    })

    test('every method also answers through a callback', async () => {
      expect(await viaCallback<void>((cb) => store.set('s1', sessionData({ views: 1 }, HOUR), cb))).toEqual([null, undefined])
      const [getError, read] = await viaCallback<SessionData | null>((cb) => store.get('s1', cb))
      expect(getError).toBeNull()
      expect(read).toMatchObject({ views: 1 })
      expect(await viaCallback<void>((cb) => store.touch('s1', sessionData({ views: 1 }, HOUR), cb))).toEqual([null, undefined])
      expect(await viaCallback<number>((cb) => store.length(cb))).toEqual([null, 1])
      expect(await viaCallback<string[]>((cb) => store.ids(cb))).toEqual([null, [storedIdFor('s1')]])
      const [allError, all] = await viaCallback<SessionData[]>((cb) => store.all(cb))
      expect(allError).toBeNull()
      expect(all).toHaveLength(1)
      expect(await viaCallback<void>((cb) => store.destroy('s1', cb))).toEqual([null, undefined])
      expect(await viaCallback<void>((cb) => store.clear(cb))).toEqual([null, undefined])
      expect(await viaCallback<SessionData | null>((cb) => store.get('s1', cb))).toEqual([null, null])
    })

    test('a callback gets the error instead of a rejected promise', async () => {
      await harness.corrupt('bad', 'not a stored session')
      const [error] = await viaCallback<SessionData | null>((cb) => store.get('bad', cb))
      expect(error).toBeInstanceOf(CacheError)
    })

    test('a value the store did not write is a CacheError naming the key, not a crash', async () => {
      await harness.corrupt('bad', 'not a stored session')
      await expect(store.get('bad')).rejects.toMatchObject({ code: 'UNDECODABLE_VALUE', key: ['s', storedIdFor('bad')] })
    })

    test('a session the serializer cannot write is a CacheError naming the key, and the stored session is kept', async () => {
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      const unserializable = { ...sessionData({ views: 2 }, HOUR), big: BigInt(1) } as unknown as SessionData
      await expect(store.set('s1', unserializable)).rejects.toMatchObject({ code: 'UNSERIALIZABLE_VALUE', key: ['s', storedIdFor('s1')] })
      expect(await store.get('s1')).toMatchObject({ views: 1 })
    })

    test('all, length and ids list the live sessions, each with its stored id (a hash of the session id)', async () => {
      await store.set('a', sessionData({ views: 1 }, HOUR))
      await store.set('b', sessionData({ views: 2 }, HOUR))
      await store.set('c', sessionData({ views: 3 }, HOUR))
      await store.destroy('b')
      expect(await store.length()).toBe(2)
      expect((await store.ids()).sort()).toEqual([storedIdFor('a'), storedIdFor('c')].sort())
      const all = await store.all()
      expect(all.map((session) => [session.id, session.views]).sort()).toEqual(
        [
          [storedIdFor('a'), 1],
          [storedIdFor('c'), 3],
        ].sort(),
      )
    })

    test('storedId(sid) is the id ids(), all() and listUserSessions() report for that session', async () => {
      await store.set('a', sessionData({}, HOUR))
      expect(store.storedId('a')).toBe(storedIdFor('a'))
      expect(await store.ids()).toEqual([store.storedId('a')])
    })

    test('ids and all list every session, however many', async () => {
      const sids = Array.from({ length: 1_200 }, (_, i) => `sid-${i}`)
      for (let i = 0; i < sids.length; i += 100) {
        await Promise.all(sids.slice(i, i + 100).map((sid, j) => store.set(sid, sessionData({ views: i + j }, HOUR))))
      }
      const expected = sids.map((sid) => storedIdFor(sid)).sort()
      expect((await store.ids()).sort()).toEqual(expected)
      expect((await store.all()).map((session) => session.id).sort()).toEqual(expected)
      expect(await store.length()).toBe(1_200)
    })

    test('length counts exactly the live sessions, after destroys and expiries', async () => {
      for (const sid of ['a', 'b', 'c', 'short']) await store.set(sid, sessionData({}, HOUR))
      await store.destroy('b')
      await store.destroy('never-seen')
      const counting = jest.spyOn(store.cache, 'countUnder')
      expect(await store.length()).toBe(3)
      // Counted where the sessions are kept, not listed.
      expect(counting).toHaveBeenCalledWith(['s'])
      await store.set('short', sessionData({}, 500))
      await harness.advance(1_000)
      expect(await harness.ttlLeftMs('short')).toBeUndefined()
      expect(await store.length()).toBe(2)
      expect((await store.ids()).sort()).toEqual([storedIdFor('a'), storedIdFor('c')].sort())
    })

    test('clear destroys every session', async () => {
      await store.set('a', sessionData({}, HOUR))
      await store.set('b', sessionData({}, HOUR))
      await store.clear()
      expect(await store.length()).toBe(0)
      expect(await store.get('a')).toBeNull()
    })

    test('a session is kept for as long as its cookie has left, to the millisecond', async () => {
      const since = harness.now()
      await store.set('s1', sessionData({}, HOUR))
      await expectTtlLeft(harness, 's1', HOUR, since)
    })

    test('a session is gone once its cookie has expired', async () => {
      await store.set('s1', sessionData({}, 400))
      await harness.advance(800)
      expect(await store.get('s1')).toBeNull()
      expect(await harness.ttlLeftMs('s1')).toBeUndefined()
    })

    test('a cookie that has already expired deletes the session instead of storing it', async () => {
      await store.set('s1', sessionData({}, HOUR))
      await store.set('s1', sessionData({}, -1_000))
      expect(await store.get('s1')).toBeNull()
    })

    test('a session deleted for an expired cookie can be saved again (it is not destroyed)', async () => {
      await store.set('s1', sessionData({}, -1_000))
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      expect(await store.get('s1')).toMatchObject({ views: 1 })
    })

    test('a touch with an expired cookie deletes the session, and a later save of it is stored', async () => {
      await store.set('s1', sessionData({}, HOUR))
      await store.touch('s1', sessionData({}, -1_000))
      expect(await store.get('s1')).toBeNull()
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      expect(await store.get('s1')).toMatchObject({ views: 1 })
    })

    test('touch renews the TTL to what the cookie has left', async () => {
      await store.set('s1', sessionData({}, 60_000))
      const since = harness.now()
      await store.touch('s1', sessionData({}, HOUR))
      await expectTtlLeft(harness, 's1', HOUR, since)
    })

    test("touch keeps the stored data: it does not undo another server's save", async () => {
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      const loadedBefore = (await store.get('s1')) as SessionData
      await harness.twin().set('s1', sessionData({ views: 2 }, HOUR))
      await store.touch('s1', loadedBefore)
      expect(await store.get('s1')).toMatchObject({ views: 2 })
    })

    test('touch of a session that is gone does not bring it back', async () => {
      await store.touch('ghost', sessionData({}, HOUR))
      expect(await store.get('ghost')).toBeNull()
      expect(await store.length()).toBe(0)
    })

    test('touch of a session that has expired does not bring it back', async () => {
      await store.set('s1', sessionData({ views: 1 }, 200))
      await harness.advance(400)
      await store.touch('s1', sessionData({ views: 1 }, HOUR))
      expect(await store.get('s1')).toBeNull()
      expect(await harness.ttlLeftMs('s1')).toBeUndefined()
    })
  })

  describe(`${name}: connect-redis's options`, () => {
    test('ttl applies to sessions whose cookie has no expiry, in seconds', async () => {
      const harness = await factory({ ttl: 3_600 })
      const since = harness.now()
      await harness.store.set('s1', sessionData({}))
      await expectTtlLeft(harness, 's1', HOUR, since)
    })

    test('a session with no cookie expiry is gone once ttl has passed', async () => {
      const { store, advance, ttlLeftMs } = await factory({ ttl: 0.4 })
      await store.set('s1', sessionData({}))
      await advance(800)
      expect(await store.get('s1')).toBeNull()
      expect(await ttlLeftMs('s1')).toBeUndefined()
    })

    test('ttl: 0 means 0 (not the default): a session without a cookie expiry is not stored', async () => {
      const { store } = await factory({ ttl: 0 })
      await store.set('s1', sessionData({ views: 1 }))
      expect(await store.get('s1')).toBeNull()
    })

    test('ttl: 0 still stores a session whose cookie expires, for as long as the cookie lives', async () => {
      const { store } = await factory({ ttl: 0 })
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      expect(await store.get('s1')).toMatchObject({ views: 1 })
    })

    test('a ttl function of the session wins over the cookie expiry', async () => {
      const seen: unknown[] = []
      const harness = await factory({
        ttl: (session) => {
          seen.push(session.views)
          return session.views === 1 ? 60 : 3_600
        },
      })
      const since = harness.now()
      await harness.store.set('shorter', sessionData({ views: 1 }, HOUR))
      await harness.store.set('longer', sessionData({ views: 2 }, 300))
      await expectTtlLeft(harness, 'shorter', 60_000, since)
      await expectTtlLeft(harness, 'longer', HOUR, since)
      expect(seen).toEqual([1, 2])
    })

    test('a ttl function returning 0 deletes the session on set', async () => {
      const { store } = await factory({ ttl: (session) => (session.userId === undefined ? 0 : 60) })
      await store.set('s1', sessionData({ userId: 'ada' }))
      await store.set('s1', sessionData({}))
      expect(await store.get('s1')).toBeNull()
    })

    test('a session not stored for a ttl of 0 is stored once the ttl function says so (an anonymous visitor logs in)', async () => {
      const { store } = await factory({ ttl: (session) => (session.userId === undefined ? 0 : 3_600) })
      await store.set('s1', sessionData({ views: 1 }))
      await store.set('s1', sessionData({ userId: 'ada', views: 1 }))
      expect(await store.get('s1')).toMatchObject({ userId: 'ada' })
    })

    test('a ttl function returning no number is a UsageError naming ttl', async () => {
      const { store } = await factory({ ttl: (() => 'soon') as unknown as () => number })
      await expect(store.set('s1', sessionData({}))).rejects.toMatchObject({ name: 'UsageError', code: 'INVALID_USE', option: 'ttl' })
    })

    test('disableTTL keeps a session past its cookie expiry', async () => {
      const { store, advance, ttlLeftMs } = await factory({ disableTTL: true })
      await store.set('s1', sessionData({ views: 1 }, 300))
      expect(await ttlLeftMs('s1')).toBeGreaterThan(99 * 365 * 24 * HOUR)
      await advance(600)
      expect(await store.get('s1')).toMatchObject({ views: 1 })
    })

    test('disableTouch: touch does not renew the TTL', async () => {
      const { store, ttlLeftMs } = await factory({ disableTouch: true })
      await store.set('s1', sessionData({}, 60_000))
      await store.touch('s1', sessionData({}, HOUR))
      expect(await ttlLeftMs('s1')).toBeLessThanOrEqual(60_000)
    })

    test('a custom serializer writes and reads sessions', async () => {
      const { store } = await factory({
        serializer: {
          stringify: (session) => Buffer.from(JSON.stringify(session)).toString('base64'),
          parse: (text) => JSON.parse(Buffer.from(text, 'base64').toString()) as SessionData,
        },
      })
      await store.set('s1', sessionData({ views: 7 }, HOUR))
      expect(await store.get('s1')).toMatchObject({ views: 7 })
    })

    test('an async parse is awaited in get and in all (connect-redis forgets in all)', async () => {
      const { store } = await factory({
        serializer: { stringify: (session) => JSON.stringify(session), parse: async (text) => JSON.parse(text) as SessionData },
      })
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      expect(await store.get('s1')).toMatchObject({ views: 1 })
      expect(await store.all()).toEqual([expect.objectContaining({ id: storedIdFor('s1'), views: 1 })])
    })

    test('a serializer that throws is a CacheError naming the stored key, not the value nor the session id', async () => {
      const { store } = await factory({
        serializer: {
          stringify: (session) => JSON.stringify(session),
          parse: () => {
            throw new SyntaxError('secret-data')
          },
        },
      })
      await store.set(COOKIE_SID, sessionData({ views: 1 }, HOUR))
      const error = (await store.get(COOKIE_SID).catch((e: unknown) => e)) as CacheError
      expect(error).toMatchObject({ code: 'UNDECODABLE_VALUE', key: ['s', storedIdFor(COOKIE_SID)] })
      expect(error.message).not.toContain('secret-data')
      expect(error.message).not.toContain(COOKIE_SID)
    })
  })

  describe(`${name}: hashIds`, () => {
    test('hashIds: false keeps the session ids: ids, all, listUserSessions and storedId report them', async () => {
      const { store } = await factory({ hashIds: false, userOf: (session) => session.userId })
      await store.set('s1', sessionData({ userId: 'ada', views: 1 }, HOUR))
      expect(await store.ids()).toEqual(['s1'])
      expect(await store.all()).toEqual([expect.objectContaining({ id: 's1', views: 1 })])
      expect(await listedIds(store, 'ada')).toEqual(['s1'])
      expect(store.storedId('s1')).toBe('s1')
    })

    test('stores with and without hashIds on the same data do not see each other’s sessions', async () => {
      const { store, twin } = await factory({ hashIds: false })
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      expect(await twin({ hashIds: true }).get('s1')).toBeNull()
      expect(await twin().get('s1')).toMatchObject({ views: 1 })
    })
  })

  describe(`${name}: touchAfterMs`, () => {
    /** Saves a session of 60 s, touches it as got back with 90 s to go (30 s later than stored); the TTL left after. */
    async function ttlLeftAfterTouch(touchAfterMs: number): Promise<number | undefined> {
      const { store, ttlLeftMs } = await factory({ touchAfterMs })
      await store.set('s1', sessionData({}, 60_000))
      const loaded = (await store.get('s1')) as SessionData
      loaded.cookie.expires = new Date(Date.now() + 90_000)
      await store.touch('s1', loaded)
      return ttlLeftMs('s1')
    }

    test('a touch inside the window writes nothing', async () => {
      expect(await ttlLeftAfterTouch(60_000)).toBeLessThanOrEqual(60_000)
    })

    test('a touch once the stored expiry has aged past the window writes', async () => {
      expect(await ttlLeftAfterTouch(10_000)).toBeGreaterThan(60_000)
    })

    // The store does not read to learn how old the stored expiry is: it knows it only for the
    // session objects its get handed out (as express-session passes them back to touch).
    test('a session object the store did not hand out is touched', async () => {
      const { store, ttlLeftMs } = await factory({ touchAfterMs: 60_000 })
      await store.set('s1', sessionData({}, 60_000))
      await store.touch('s1', sessionData({}, 90_000))
      expect(await ttlLeftMs('s1')).toBeGreaterThan(60_000)
    })

    test.each([
      { ttl: 100, windowMs: 10_000, what: 'a tenth of the TTL' },
      { ttl: 86_400, windowMs: 60_000, what: 'at most a minute' },
    ])('by default the window is $what ($windowMs ms for a TTL of $ttl s)', async ({ ttl, windowMs }) => {
      // The store's clock moves; the backend's does not need to: the store compares the expiry
      // it would write (its clock plus the TTL) with the stored one.
      let clock = Date.now()
      const { store } = await factory({ ttl, now: () => clock })
      await store.set('s1', sessionData({}))
      const loaded = (await store.get('s1')) as SessionData
      const touches = jest.spyOn(store.cache, 'touchMany')
      clock += windowMs - 1_000
      await store.touch('s1', loaded)
      expect(touches).not.toHaveBeenCalled()
      clock += 4_000
      await store.touch('s1', loaded)
      expect(touches).toHaveBeenCalledTimes(1)
    })

    test('touchAfterMs: 0 writes on every touch', async () => {
      const { store } = await factory({ touchAfterMs: 0 })
      await store.set('s1', sessionData({}, HOUR))
      const loaded = (await store.get('s1')) as SessionData
      const touches = jest.spyOn(store.cache, 'touchMany')
      for (let i = 0; i < 3; i++) await store.touch('s1', loaded)
      expect(touches).toHaveBeenCalledTimes(3)
    })
  })

  describe(`${name}: a destroyed session stays destroyed`, () => {
    test('a late set of a destroyed session is ignored', async () => {
      const { store, twin } = await factory({})
      await store.set('s1', sessionData({ userId: 'ada' }, HOUR))
      const slowRequest = (await store.get('s1')) as SessionData
      await twin().destroy('s1')
      await store.set('s1', { ...slowRequest, views: 99 })
      expect(await store.get('s1')).toBeNull()
    })

    test('a late touch of a destroyed session is ignored', async () => {
      const { store } = await factory({})
      await store.set('s1', sessionData({}, HOUR))
      const slowRequest = (await store.get('s1')) as SessionData
      await store.destroy('s1')
      await store.touch('s1', slowRequest)
      expect(await store.get('s1')).toBeNull()
    })

    test('a late save or touch whose cookie has expired does not lift the tombstone for the requests after it', async () => {
      const { store } = await factory({})
      await store.set('s1', sessionData({ userId: 'ada' }, HOUR))
      const [expired, slowRequest] = [(await store.get('s1')) as SessionData, (await store.get('s1')) as SessionData]
      expired.cookie.expires = new Date(Date.now() - 1_000)
      await store.destroy('s1')
      await store.touch('s1', expired)
      await store.set('s1', expired)
      await store.set('s1', slowRequest)
      expect(await store.get('s1')).toBeNull()
    })

    test('tombstoneTtlMs: 0 writes no tombstone, so a late set comes back (connect-redis behaviour)', async () => {
      const { store } = await factory({ tombstoneTtlMs: 0 })
      await store.set('s1', sessionData({}, HOUR))
      await store.destroy('s1')
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      expect(await store.get('s1')).toMatchObject({ views: 1 })
    })

    test('once the tombstone expires, the id can be used again', async () => {
      const { store, advance, ttlLeftMs, now } = await factory({ tombstoneTtlMs: 300 })
      await store.set('s1', sessionData({}, HOUR))
      const destroyedAt = now()
      await store.destroy('s1')
      await whileLive(now, destroyedAt + 300, async () => {
        await store.set('s1', sessionData({ views: 1 }, HOUR))
        expect(await store.get('s1')).toBeNull()
      })
      await advance(600)
      await store.set('s1', sessionData({ views: 2 }, HOUR))
      expect(await store.get('s1')).toMatchObject({ views: 2 })
      expect(await ttlLeftMs('s1')).toBeGreaterThan(HOUR / 2)
    })

    test('destroy of an unknown id leaves no tombstone: that id can be saved at once', async () => {
      const { store } = await factory({})
      await store.destroy('never-seen')
      await store.set('never-seen', sessionData({ views: 1 }, HOUR))
      expect(await store.get('never-seen')).toMatchObject({ views: 1 })
    })

    test('clear leaves tombstones: a late save of a cleared session is ignored', async () => {
      const { store } = await factory({})
      await store.set('s1', sessionData({}, HOUR))
      const slowRequest = (await store.get('s1')) as SessionData
      await store.clear()
      await store.set('s1', slowRequest)
      expect(await store.get('s1')).toBeNull()
    })

    test('tombstones are not sessions: all, length and ids leave them out', async () => {
      const { store } = await factory({})
      await store.set('a', sessionData({}, HOUR))
      await store.set('b', sessionData({}, HOUR))
      await store.destroy('a')
      expect(await store.ids()).toEqual([storedIdFor('b')])
      expect(await store.all()).toEqual([expect.objectContaining({ id: storedIdFor('b') })])
      expect(await store.length()).toBe(1)
    })
  })

  describe(`${name}: per-user sessions`, () => {
    /** Ada's sessions a1 and a2 and Bob's b1; and a1 as read by a request still running, which will save it late. */
    async function adaAndBob(): Promise<StoreHarness & { slowRequest: SessionData }> {
      const harness = await factory({ userOf })
      await harness.store.set('a1', sessionData({ userId: 'ada' }, HOUR))
      await harness.store.set('a2', sessionData({ userId: 'ada' }, HOUR))
      await harness.store.set('b1', sessionData({ userId: 'bob' }, HOUR))
      return { ...harness, slowRequest: (await harness.store.get('a1')) as SessionData }
    }

    test("listUserSessions lists one user's sessions and nobody else's", async () => {
      const { store } = await factory({ userOf })
      await store.set('a1', sessionData({ userId: 'ada', views: 1 }, HOUR))
      await store.set('a2', sessionData({ userId: 'ada', views: 2 }, HOUR))
      await store.set('b1', sessionData({ userId: 'bob' }, HOUR))
      await store.set('anon', sessionData({}, HOUR))
      const sessions = await store.listUserSessions('ada')
      expect(sessions.map((entry) => [entry.id, entry.session.views]).sort()).toEqual(
        [
          [storedIdFor('a1'), 1],
          [storedIdFor('a2'), 2],
        ].sort(),
      )
      expect(sessions[0]?.expiresAt).toBeGreaterThan(Date.now() + HOUR - 60_000)
    })

    test('numeric and string user ids are the same user', async () => {
      const { store } = await factory({ userOf })
      await store.set('s1', sessionData({ userId: 42 }, HOUR))
      await store.set('s2', sessionData({ userId: '42' }, HOUR))
      const both = [storedIdFor('s1'), storedIdFor('s2')].sort()
      expect((await listedIds(store, '42')).sort()).toEqual(both)
      expect((await listedIds(store, 42)).sort()).toEqual(both)
      expect(await store.destroyUserSessions(42)).toBe(2)
      expect(await store.listUserSessions('42')).toEqual([])
    })

    test('another store object on the same data lists them too', async () => {
      const { store, twin } = await factory({ userOf })
      await store.set('a1', sessionData({ userId: 'ada' }, HOUR))
      const other = twin()
      expect(await listedIds(other, 'ada')).toEqual([storedIdFor('a1')])
    })

    test('a destroyed session leaves the list', async () => {
      const { store } = await factory({ userOf })
      await store.set('a1', sessionData({ userId: 'ada' }, HOUR))
      await store.set('a2', sessionData({ userId: 'ada' }, HOUR))
      await store.destroy('a1')
      expect(await listedIds(store, 'ada')).toEqual([storedIdFor('a2')])
    })

    test('a session that changed hands is listed only under its new user', async () => {
      const { store } = await factory({ userOf })
      await store.set('s1', sessionData({ userId: 'ada' }, HOUR))
      await store.set('s1', sessionData({ userId: 'bob' }, HOUR))
      expect(await store.listUserSessions('ada')).toEqual([])
      expect(await listedIds(store, 'bob')).toEqual([storedIdFor('s1')])
    })

    test('an expired session leaves the list', async () => {
      const { store, advance } = await factory({ userOf })
      await store.set('a1', sessionData({ userId: 'ada' }, 200))
      await store.set('a2', sessionData({ userId: 'ada' }, HOUR))
      await advance(400)
      expect(await listedIds(store, 'ada')).toEqual([storedIdFor('a2')])
    })

    test("destroyUserSessions destroys all of one user's sessions, for good", async () => {
      const { store, twin, slowRequest } = await adaAndBob()
      expect(await twin().destroyUserSessions('ada')).toBe(2)
      expect(await store.get('a1')).toBeNull()
      expect(await store.get('a2')).toBeNull()
      expect(await store.get('b1')).not.toBeNull()
      await store.set('a1', slowRequest)
      expect(await store.get('a1')).toBeNull()
      expect(await store.listUserSessions('ada')).toEqual([])
    })

    test('clear empties the per-user index too', async () => {
      const { store } = await factory({ userOf })
      await store.set('a1', sessionData({ userId: 'ada' }, HOUR))
      await store.set('a2', sessionData({ userId: 'ada' }, HOUR))
      expect(await store.cache.keys(['u', 'ada', ANY])).toHaveLength(2)
      await store.clear()
      // The entries themselves are gone, not just skipped by the listing.
      expect(await store.cache.keys(['u', 'ada', ANY])).toEqual([])
      expect(await store.listUserSessions('ada')).toEqual([])
    })

    test('without userOf, listing by user is a UsageError naming userOf', async () => {
      const { store } = await factory({})
      await expect(store.listUserSessions('ada')).rejects.toThrow(UsageError)
      await expect(store.destroyUserSessions('ada')).rejects.toMatchObject({ option: 'userOf' })
      await expect(store.destroyUserSession('ada', storedIdFor('s1'))).rejects.toMatchObject({ name: 'UsageError', option: 'userOf' })
    })

    test('a userOf that returns something that is not an id fails the save with a UsageError naming userOf', async () => {
      const { store } = await factory({ userOf: () => ({ id: 1 }) as unknown as string })
      await expect(store.set('s1', sessionData({}, HOUR))).rejects.toMatchObject({ name: 'UsageError', option: 'userOf' })
      expect(await store.get('s1')).toBeNull()
    })

    test('a session deleted by a ttl of 0 leaves its user’s list, and can join it again', async () => {
      const { store } = await factory({ userOf, ttl: (session) => (session.views === 0 ? 0 : 3_600) })
      await store.set('a1', sessionData({ userId: 'ada', views: 1 }))
      await store.set('a1', sessionData({ userId: 'ada', views: 0 }))
      expect(await store.listUserSessions('ada')).toEqual([])
      await store.set('a1', sessionData({ userId: 'ada', views: 2 }))
      expect(await listedIds(store, 'ada')).toEqual([storedIdFor('a1')])
    })

    test("destroyUserSession ends one listed session of the user, for good, and never another user's", async () => {
      const { store, twin, slowRequest } = await adaAndBob()
      const [listed] = (await store.listUserSessions('ada')).filter((entry) => entry.id === store.storedId('a1'))
      expect(await twin().destroyUserSession('ada', listed?.id as string)).toBe(true)
      expect(await store.get('a1')).toBeNull()
      await store.set('a1', slowRequest)
      expect(await store.get('a1')).toBeNull()
      expect(await listedIds(store, 'ada')).toEqual([storedIdFor('a2')])
      // Bob's session, a raw session id and an unknown id: nothing to end.
      expect(await store.destroyUserSession('ada', storedIdFor('b1'))).toBe(false)
      expect(await store.destroyUserSession('ada', 'a2')).toBe(false)
      expect(await store.destroyUserSession('ada', storedIdFor('nobody'))).toBe(false)
      expect(await store.get('b1')).not.toBeNull()
      expect(await store.get('a2')).not.toBeNull()
    })
  })
}
