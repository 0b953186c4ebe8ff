/**
 * Races between app servers, made to happen every time: a HookCache splits the store's writes
 * the way Redis Cluster does (a session and its user's entry are in different slots, so each is
 * its own atomic step) and runs the other server's call, or a failure, between the steps. Called
 * once per backend with a factory of empty caches.
 */
import type { SessionData } from 'express-session'
import type { Cache } from 'sessionvault/cache'
import { CacheError } from 'sessionvault'
import { RedisSessionStore } from 'sessionvault/store'
import type { CommonStoreOptions } from 'sessionvault/store'
import { HookCache } from './hook-cache'
import { sessionCacheKey, storedIdFor, userEntryCacheKey } from './redis-keys'
import { sessionData, userOf } from './session-data'

const HOUR = 3_600_000

export function describeStoreRaces(name: string, emptyCache: () => Promise<Cache>): void {
  describe(`${name}: races between servers, with writes split as on Redis Cluster`, () => {
    /** A store on a HookCache, and another server's store on the same data without hooks. */
    async function servers(options: CommonStoreOptions = {}) {
      const hooked = new HookCache(await emptyCache(), { asOnCluster: true })
      return {
        hooked,
        store: new RedisSessionStore({ ...options, cache: hooked }),
        other: new RedisSessionStore({ ...options, cache: hooked.inner }),
      }
    }

    test("a login saved while another server lists the user's sessions stays listed, and signing out everywhere ends it", async () => {
      const { hooked, store, other } = await servers({ userOf })
      const id = storedIdFor('s1')
      // The user's entry is written; the session is not yet: another server lists the user's sessions.
      hooked.beforeNextPutIf(sessionCacheKey(id), async () => {
        expect(await other.listUserSessions('ada')).toEqual([])
      })
      await store.set('s1', sessionData({ userId: 'ada' }, HOUR))
      expect(hooked.pendingHooks).toBe(0)
      expect((await other.listUserSessions('ada')).map((entry) => entry.id)).toEqual([id])
      expect(await other.destroyUserSessions('ada')).toBe(1)
      expect(await store.get('s1')).toBeNull()
    })

    test('a late save of a destroyed session, refused after its user entry was written, is not listed', async () => {
      const { store, other } = await servers({ userOf })
      await other.set('s1', sessionData({ userId: 'ada' }, HOUR))
      const slowRequest = (await store.get('s1')) as SessionData
      await other.destroy('s1')
      await store.set('s1', { ...slowRequest, views: 2 })
      expect(await other.get('s1')).toBeNull()
      expect(await other.listUserSessions('ada')).toEqual([])
      expect(await other.destroyUserSessions('ada')).toBe(0)
    })

    test("a touch that fails midway never leaves a session outliving its user's entry", async () => {
      const { hooked, store } = await servers({ userOf })
      const id = storedIdFor('s1')
      await store.set('s1', sessionData({ userId: 'ada' }, 60_000))
      hooked.failNextTouchMany(1, new CacheError('REDIS_UNAVAILABLE', 'the second slot did not answer', { operation: 'touch' }))
      await expect(store.touch('s1', sessionData({ userId: 'ada' }, HOUR))).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
      const session = await hooked.inner.getTimed(sessionCacheKey(id))
      const entry = await hooked.inner.getTimed(userEntryCacheKey('ada', id))
      expect(session).toBeDefined()
      expect(entry?.expiresAtMs).toBeGreaterThanOrEqual(session?.expiresAtMs ?? Infinity)
    })

    test('a touch renews the session and its user entry together', async () => {
      const { hooked, store } = await servers({ userOf })
      const id = storedIdFor('s1')
      await store.set('s1', sessionData({ userId: 'ada' }, 60_000))
      await store.touch('s1', sessionData({ userId: 'ada' }, HOUR))
      const session = await hooked.inner.getTimed(sessionCacheKey(id))
      const entry = await hooked.inner.getTimed(userEntryCacheKey('ada', id))
      expect(session?.expiresAtMs).toBeGreaterThan(Date.now() + HOUR / 2)
      expect(entry?.expiresAtMs).toBeGreaterThan(Date.now() + HOUR / 2)
    })
  })
}
