// Sessions written by the real connect-redis, served by RedisSessionStore with legacyPrefix.
import { RedisStore } from 'connect-redis'
import type { SessionData } from 'express-session'
import request from 'supertest'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import type { StandaloneClient } from '../helpers/clients'
import { cookieOf, sessionApp, sidOf } from './apps'
import { sessionData } from './session-data'
import { privateStandalone, sessionValueKey, type PrivateStandalone } from './servers'

const HOUR = 3_600_000

let redis: PrivateStandalone
let client: StandaloneClient
let legacyStore: RedisStore

beforeAll(async () => {
  redis = await privateStandalone()
  client = await redis.connect()
  legacyStore = new RedisStore({ client })
})
afterAll(() => redis?.stop())
// Both stores use their default prefix, 'sess:', as an app that switches would.
beforeEach(() => client.flushAll())

function migratingStore(options: { userOf?: (session: SessionData) => string | number | undefined } = {}): RedisSessionStore {
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

  test('a migrated session keeps what is left of its TTL', async () => {
    await legacyStore.set('s1', sessionData({ views: 1 }, HOUR))
    await client.pExpire('sess:s1', 60_000)
    const store = migratingStore()
    expect(await store.get('s1')).toMatchObject({ views: 1 })
    const pttl = await client.pTTL(sessionValueKey('sess:', 's1'))
    expect(pttl).toBeLessThanOrEqual(60_000)
    expect(pttl).toBeGreaterThan(59_000)
  })

  test('every legacy session is moved on its first access, and no legacy key is left', async () => {
    for (let i = 0; i < 5; i++) await legacyStore.set(`s${i}`, sessionData({ views: i }, HOUR))
    const store = migratingStore()
    for (let i = 0; i < 5; i++) expect(await store.get(`s${i}`)).toMatchObject({ views: i })
    expect(await client.keys('sess:*')).toEqual([])
    expect(await store.length()).toBe(5)
  })

  test('a legacy session that never expires (connect-redis disableTTL) gets this store’s TTL', async () => {
    await new RedisStore({ client, disableTTL: true }).set('s1', sessionData({ views: 1 }, HOUR))
    expect(await client.pTTL('sess:s1')).toBe(-1)
    const store = migratingStore()
    expect(await store.get('s1')).toMatchObject({ views: 1 })
    // Its cookie's expiry, as for any session this store writes.
    const pttl = await client.pTTL(sessionValueKey('sess:', 's1'))
    expect(pttl).toBeLessThanOrEqual(HOUR)
    expect(pttl).toBeGreaterThan(HOUR - 5_000)
  })

  test('a migrated session joins its user’s index', async () => {
    await legacyStore.set('s1', sessionData({ userId: 'ada' }, HOUR))
    const store = migratingStore({ userOf: (session) => session.userId })
    await store.get('s1')
    expect((await store.listUserSessions('ada')).map((entry) => entry.id)).toEqual(['s1'])
  })

  test('two servers migrating the same session at once both serve it', async () => {
    await legacyStore.set('s1', sessionData({ views: 3 }, HOUR))
    const [a, b] = await Promise.all([migratingStore().get('s1'), migratingStore().get('s1')])
    expect(a).toMatchObject({ views: 3 })
    expect(b).toMatchObject({ views: 3 })
    expect(await client.exists('sess:s1')).toBe(0)
  })

  test('destroying a session not yet migrated removes the legacy key too', async () => {
    await legacyStore.set('s1', sessionData({ views: 1 }, HOUR))
    const store = migratingStore()
    await store.destroy('s1')
    expect(await client.exists('sess:s1')).toBe(0)
    expect(await store.get('s1')).toBeNull()
  })

  test('without legacyPrefix, legacy sessions are not read', async () => {
    await legacyStore.set('s1', sessionData({ views: 1 }, HOUR))
    expect(await new RedisSessionStore({ client }).get('s1')).toBeNull()
    expect(await client.exists('sess:s1')).toBe(1)
  })
})
