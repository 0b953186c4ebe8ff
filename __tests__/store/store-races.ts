/**
 * Races between app servers, made to happen every time: a HookCache runs the other server's
 * call between a store's read and its conditional write. Called once per backend with a factory
 * of empty caches.
 */
import type { SessionData } from 'express-session'
import type { Cache } from '../../lib/cache/cache'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import { sessionKey } from '../../lib/store/session-keys'
import type { CommonStoreOptions } from '../../lib/store/store-options'
import { HookCache } from './hook-cache'
import { sessionData } from './session-data'

const HOUR = 3_600_000

export function describeStoreRaces(name: string, emptyCache: () => Promise<Cache>): void {
  describe(`${name}: races between servers`, () => {
    /** A store on a HookCache, and another server's store on the same data without hooks. */
    async function servers(options: CommonStoreOptions = {}) {
      const hooked = new HookCache(await emptyCache())
      return { hooked, store: new RedisSessionStore({ ...options, cache: hooked }), other: new RedisSessionStore({ ...options, cache: hooked.inner }) }
    }

    test('a save made between a touch’s read and its write is kept', async () => {
      const { hooked, store, other } = await servers()
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      const loaded = (await store.get('s1')) as SessionData
      hooked.beforeNextPutIf(sessionKey('s1'), () => other.set('s1', sessionData({ views: 2 }, HOUR)))
      await store.touch('s1', loaded)
      expect(hooked.pendingHooks).toBe(0)
      expect(await store.get('s1')).toMatchObject({ views: 2 })
    })

    test('a touch that loses to a save renews the saved session instead', async () => {
      const { hooked, store, other } = await servers({ userOf: (session) => session.userId })
      await store.set('s1', sessionData({ userId: 'ada', views: 1 }, HOUR))
      const loaded = (await store.get('s1')) as SessionData
      loaded.cookie.expires = new Date(Date.now() + 2 * HOUR)
      hooked.beforeNextPutIf(sessionKey('s1'), () => other.set('s1', sessionData({ userId: 'ada', views: 2 }, HOUR)))
      await store.touch('s1', loaded)
      expect(hooked.pendingHooks).toBe(0)
      // The data is the save's, the expiry the touch's (two hours, not the save's one).
      expect(await store.get('s1')).toMatchObject({ views: 2 })
      const [session] = await store.listUserSessions('ada')
      expect(session?.expiresAt.getTime()).toBeGreaterThan(Date.now() + HOUR + 60_000)
    })

    test('a destroy made between a touch’s read and its write stays a destroy', async () => {
      const { hooked, store, other } = await servers()
      await store.set('s1', sessionData({ views: 1 }, HOUR))
      const loaded = (await store.get('s1')) as SessionData
      hooked.beforeNextPutIf(sessionKey('s1'), () => other.destroy('s1'))
      await store.touch('s1', loaded)
      expect(hooked.pendingHooks).toBe(0)
      expect(await store.get('s1')).toBeNull()
    })
  })
}
