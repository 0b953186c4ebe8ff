// Counts the commands Redis actually receives (INFO commandstats), on a private server so no
// other suite's traffic is counted.
import type { SessionData } from 'express-session'
import request from 'supertest'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import type { StandaloneClient } from '../helpers/clients'
import { cookieOf, sessionApp } from './apps'
import { sessionData } from './session-data'
import { privateStandalone, uniquePrefix, type PrivateStandalone } from './servers'

let redis: PrivateStandalone
let client: StandaloneClient
let admin: StandaloneClient

beforeAll(async () => {
  redis = await privateStandalone()
  ;[client, admin] = await Promise.all([redis.connect(), redis.connect()])
})
afterAll(() => redis?.stop())

/** Calls per command name (lower case) since the last `CONFIG RESETSTAT`, leaving out the counting itself. */
async function commandCounts(): Promise<Record<string, number>> {
  const info = await admin.info('commandstats')
  const counts: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name, calls] = match as unknown as [string, string, string]
    if (!/^(config|info)\b/.test(name)) counts[name] = Number(calls)
  }
  return counts
}

async function resetCounts(): Promise<void> {
  await admin.configResetStat()
}

const WRITES = ['set', 'del', 'expire', 'pexpire', 'zadd', 'zrem', 'zremrangebyscore', 'eval', 'evalsha'] as const

describe('commands sent to Redis', () => {
  test('all, length, ids, clear and listUserSessions read the index and never SCAN the database', async () => {
    const store = new RedisSessionStore({ client, prefix: uniquePrefix(), userOf: (session: SessionData) => session.userId })
    for (let i = 0; i < 50; i++) await store.set(`s${i}`, sessionData({ userId: `u${i % 5}`, views: i }, 3_600_000))
    await resetCounts()

    expect(await store.length()).toBe(50)
    expect(await store.ids()).toHaveLength(50)
    expect(await store.all()).toHaveLength(50)
    expect(await store.listUserSessions('u1')).toHaveLength(10)
    await store.clear()
    expect(await store.length()).toBe(0)

    const counts = await commandCounts()
    expect(counts['scan']).toBeUndefined()
    expect(counts['keys']).toBeUndefined()
    // What they use instead: the index, read page by page.
    expect(counts['zscan']).toBeGreaterThan(0)
  })

  test('with touchAfter, 100 requests inside the window read the session and write nothing', async () => {
    const store = new RedisSessionStore({ client, prefix: uniquePrefix(), touchAfter: 60 })
    const app = sessionApp(store, { rolling: true })
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    await resetCounts()

    for (let i = 0; i < 100; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)

    const counts = await commandCounts()
    expect(counts).toEqual({ get: 100 })
  })

  test('without touchAfter, every one of those requests writes (as with connect-redis)', async () => {
    const store = new RedisSessionStore({ client, prefix: uniquePrefix() })
    const app = sessionApp(store, { rolling: true })
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    await resetCounts()

    for (let i = 0; i < 100; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)

    const counts = await commandCounts()
    const writes = WRITES.reduce((sum, name) => sum + (counts[name] ?? 0), 0)
    expect(counts['evalsha']).toBe(100)
    expect(writes).toBeGreaterThanOrEqual(100)
  })
})
