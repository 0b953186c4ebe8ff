// Sessions written by the real connect-redis, served by RedisSessionStore with legacyPrefix.
// On this worker's standalone Redis, flushed before each test.
import { RedisStore } from 'connect-redis'
import type { SessionData } from 'express-session'
import request from 'supertest'
import type { Key } from 'sessionvault/cache'
import { RedisSessionStore } from 'sessionvault/store'
import { READ_SHARED_TIMED } from '../../lib/cache/shared-read'
import { connectStandalone, dumpRedis, flushAll, type StandaloneClient } from '../helpers/redis'
import { cookieOf, sessionApp, sidOf } from './apps'
import { sessionCacheKey, sessionRedisKey, storedIdFor } from './redis-keys'
import { sessionData } from './session-data'

const HOUR = 3_600_000

let client: StandaloneClient
let legacyStore: RedisStore

beforeAll(async () => {
  client = await connectStandalone()
  legacyStore = new RedisStore({ client })
})
afterAll(() => client?.destroy())
// Both stores use their default prefix, 'sess:', as an app that switches would.
beforeEach(() => flushAll(client))

/** The new layout's keys: `sess:{…}` for records, `sess:_i:{…}` for indexes. connect-redis's are `sess:<sid>`. */
const NEW_LAYOUT_KEY = /^sess:(_i:)?\{/

function migratingStore(
  options: { userOf?: (session: SessionData) => string | number | undefined; hashIds?: boolean } = {},
): RedisSessionStore {
  return new RedisSessionStore({ client, legacyPrefix: 'sess:', ...options })
}

describe('migrating from connect-redis', () => {
  test('a user logged in through connect-redis is still logged in after the switch, and the old key is gone', async () => {
    const cookie = cookieOf(await request(sessionApp(legacyStore)).post('/login/ada').expect(200))
    expect(await client.exists(`sess:${sidOf(cookie)}`)).toBe(1)

    const app = sessionApp(migratingStore())
    expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: 'ada' })
    expect(await client.exists(`sess:${sidOf(cookie)}`)).toBe(0)
    // Served from the new layout from now on.
    expect((await request(app).post('/views').set('Cookie', cookie).expect(200)).body).toEqual({ views: 1 })
    expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: 'ada', views: 1 })
  })

  test('a migrated session is kept under the hash of its id: no key or value holds the id, and its text moves unchanged', async () => {
    const cookie = cookieOf(await request(sessionApp(legacyStore)).post('/login/ada').expect(200))
    const sid = sidOf(cookie)
    const legacyText = await client.get(`sess:${sid}`)
    await request(sessionApp(migratingStore())).get('/me').set('Cookie', cookie).expect(200)
    const dump = await dumpRedis(client)
    for (const [key, value] of dump) {
      expect(key).not.toContain(sid)
      expect(value).not.toContain(sid)
    }
    expect(dump.get(sessionRedisKey(sid))?.slice(14)).toBe(legacyText)
  })

  test('with hashIds: false a migrated session keeps its id', async () => {
    await legacyStore.set('s1', sessionData({ views: 1 }, HOUR))
    const store = migratingStore({ hashIds: false })
    expect(await store.get('s1')).toMatchObject({ views: 1 })
    expect(await store.ids()).toEqual(['s1'])
    expect(await client.exists(sessionRedisKey('s1', { hashIds: false }))).toBe(1)
  })

  test('a migrated session keeps what is left of its TTL', async () => {
    await legacyStore.set('s1', sessionData({ views: 1 }, HOUR))
    const started = Date.now()
    await client.pExpire('sess:s1', 60_000)
    const store = migratingStore()
    expect(await store.get('s1')).toMatchObject({ views: 1 })
    const pttl = await client.pTTL(sessionRedisKey('s1'))
    const elapsed = Date.now() - started
    expect(pttl).toBeLessThanOrEqual(60_000)
    expect(pttl).toBeGreaterThanOrEqual(60_000 - elapsed - 1)
  })

  test('every legacy session is moved on its first access, and no legacy key is left', async () => {
    for (let i = 0; i < 5; i++) await legacyStore.set(`s${i}`, sessionData({ views: i }, HOUR))
    const store = migratingStore()
    for (let i = 0; i < 5; i++) expect(await store.get(`s${i}`)).toMatchObject({ views: i })
    for (let i = 0; i < 5; i++) expect(await client.exists(`sess:s${i}`)).toBe(0)
    expect((await client.keys('sess:*')).filter((key) => !NEW_LAYOUT_KEY.test(key))).toEqual([])
    expect(await store.length()).toBe(5)
    expect((await store.ids()).sort()).toEqual([0, 1, 2, 3, 4].map((i) => storedIdFor(`s${i}`)).sort())
  })

  test('a legacy session that never expires (connect-redis disableTTL) gets this store’s TTL', async () => {
    await new RedisStore({ client, disableTTL: true }).set('s1', sessionData({ views: 1 }, HOUR))
    expect(await client.pTTL('sess:s1')).toBe(-1)
    const store = migratingStore()
    expect(await store.get('s1')).toMatchObject({ views: 1 })
    // Its cookie's expiry, as for any session this store writes.
    const pttl = await client.pTTL(sessionRedisKey('s1'))
    expect(pttl).toBeLessThanOrEqual(HOUR)
    expect(pttl).toBeGreaterThan(HOUR - 5_000)
  })

  test('a migrated session joins its user’s index', async () => {
    await legacyStore.set('s1', sessionData({ userId: 'ada' }, HOUR))
    const store = migratingStore({ userOf: (session) => session.userId })
    await store.get('s1')
    expect((await store.listUserSessions('ada')).map((entry) => entry.id)).toEqual([storedIdFor('s1')])
  })

  test('two servers migrating the same session at once both serve it', async () => {
    await legacyStore.set('s1', sessionData({ views: 3 }, HOUR))
    const [a, b] = await Promise.all([migratingStore().get('s1'), migratingStore().get('s1')])
    expect(a).toMatchObject({ views: 3 })
    expect(b).toMatchObject({ views: 3 })
    expect(await client.exists('sess:s1')).toBe(0)
  })

  test('a server migrating a session another server has moved and saved meanwhile serves the newer save', async () => {
    await legacyStore.set('s1', sessionData({ views: 3 }, HOUR))
    const [first, second] = [migratingStore(), migratingStore()]
    // The second server has read the legacy key; before it writes, the first moves the session and saves it.
    const ran = beforeNextCall(second.cache, 'putIf', sessionCacheKey(storedIdFor('s1')), async () => {
      await first.get('s1')
      await first.set('s1', sessionData({ views: 4 }, HOUR))
    })
    expect(await second.get('s1')).toMatchObject({ views: 4 })
    expect(ran()).toBe(true)
    expect(await first.get('s1')).toMatchObject({ views: 4 })
    expect(await client.exists('sess:s1')).toBe(0)
  })

  // Another interleaving of the same two servers: each race is written out step by step.
  test('a server that misses the session in both places because another moved it in between still serves it', async () => {
    await legacyStore.set('s1', sessionData({ views: 3 }, HOUR))
    const [first, second] = [migratingStore(), migratingStore()]
    // The second server finds nothing in the new layout; before it reads the legacy key, the first moves it.
    const ran = beforeNextCall(second.cache, 'read', sessionCacheKey(storedIdFor('s1')), async () => {
      await first.get('s1')
    })
    expect(await second.get('s1')).toMatchObject({ views: 3 })
    expect(ran()).toBe(true)
  })

  test('a session destroyed while another server migrates it stays destroyed', async () => {
    await legacyStore.set('s1', sessionData({ views: 3 }, HOUR))
    const [first, second] = [migratingStore(), migratingStore()]
    const ran = beforeNextCall(second.cache, 'putIf', sessionCacheKey(storedIdFor('s1')), () => first.destroy('s1'))
    expect(await second.get('s1')).toBeNull()
    expect(ran()).toBe(true)
    expect(await first.get('s1')).toBeNull()
  })

  test('destroying a session not yet migrated removes the legacy key too, and it stays destroyed', async () => {
    await legacyStore.set('s1', sessionData({ views: 1 }, HOUR))
    // A request that loaded it before the logout (on a server still running connect-redis).
    const slowRequest = (await legacyStore.get('s1')) as SessionData
    const store = migratingStore()
    await store.destroy('s1')
    expect(await client.exists('sess:s1')).toBe(0)
    expect(await store.get('s1')).toBeNull()
    await store.set('s1', { ...slowRequest, views: 2 })
    expect(await store.get('s1')).toBeNull()
  })

  test('destroying an id found in neither place writes nothing', async () => {
    const store = migratingStore({ userOf: (session) => session.userId })
    await store.set('live', sessionData({ userId: 'ada' }, HOUR))
    const keys = await client.dbSize()
    await store.destroy('unknown')
    expect(await client.dbSize()).toBe(keys)
  })

  test('without legacyPrefix, legacy sessions are not read', async () => {
    await legacyStore.set('s1', sessionData({ views: 1 }, HOUR))
    expect(await new RedisSessionStore({ client }).get('s1')).toBeNull()
    expect(await client.exists('sess:s1')).toBe(1)
  })
})

/**
 * Runs `run` once, when the store's cache is next called as `method` on `key`: right after a
 * `read` (the store's shared timed read, `getTimed`'s twin) has its answer, right before a
 * `putIf` is sent. A store built on `client` builds its cache itself, so the race is put in by
 * wrapping that cache's method. Returns whether it ran.
 */
function beforeNextCall(cache: RedisSessionStore['cache'], method: 'read' | 'putIf', key: Key, run: () => Promise<unknown>): () => boolean {
  // Both methods, seen loosely: what they resolve to is passed on untouched.
  const name = method === 'read' ? READ_SHARED_TIMED : method
  const loose = cache as unknown as Record<typeof name, (...args: unknown[]) => Promise<unknown>>
  const original = loose[name].bind(cache)
  let ran = false
  const matches = (given: unknown) => !ran && JSON.stringify(given) === JSON.stringify(key)
  jest.spyOn(loose, name).mockImplementation(async (...args: unknown[]) => {
    if (method === 'putIf' && matches(args[0])) {
      ran = true
      await run()
    }
    const result = await original(...args)
    if (method === 'read' && matches(args[0])) {
      ran = true
      await run()
    }
    return result
  })
  return () => ran
}
