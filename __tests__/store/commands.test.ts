// Counts the commands Redis actually receives (INFO commandstats; MONITOR where only round trips
// count), on a server of this file's own, so that no other traffic is counted.
import type { SessionData } from 'express-session'
import request from 'supertest'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import { privateRedis, type PrivateRedis, type StandaloneClient } from '../helpers/clients'
import { clientCommands, recordCommands } from '../helpers/command-log'
import { cookieOf, sessionApp } from './apps'
import { sessionData } from './session-data'

let redis: PrivateRedis
// The store's client; INFO and CONFIG, which the counting sends on it too, are left out of the counts.
let client: StandaloneClient

beforeAll(async () => {
  redis = await privateRedis()
  client = redis.client
})
afterAll(() => redis?.stop())
beforeEach(() => client.flushAll())

/** Calls per command name (lower case) since the last `CONFIG RESETSTAT`, leaving out the counting itself. */
async function commandCounts(): Promise<Record<string, number>> {
  const info = await client.info('commandstats')
  const counts: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name, calls] = match as unknown as [string, string, string]
    if (!/^(config|info)\b/.test(name)) counts[name] = Number(calls)
  }
  return counts
}

async function resetCounts(): Promise<void> {
  await client.configResetStat()
}

const WRITES = ['set', 'del', 'expire', 'pexpire', 'zadd', 'zrem', 'zremrangebyscore', 'eval', 'evalsha'] as const

describe('commands sent to Redis', () => {
  test('all, length, ids, clear and listUserSessions read the index and never SCAN the database', async () => {
    const store = new RedisSessionStore({ client, userOf: (session: SessionData) => session.userId })
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
    // What they use instead: the index, read whole when small (ZRANGE), else page by page (ZSCAN).
    expect((counts['zrange'] ?? 0) + (counts['zscan'] ?? 0)).toBeGreaterThan(0)
  })

  test('with touchAfter, 100 requests inside the window read the session and write nothing', async () => {
    const store = new RedisSessionStore({ client, touchAfter: 60 })
    const app = sessionApp(store, { rolling: true })
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    await resetCounts()

    for (let i = 0; i < 100; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)

    const counts = await commandCounts()
    expect(counts).toEqual({ get: 100 })
  })

  test('without touchAfter, every one of those requests writes (as with connect-redis)', async () => {
    const store = new RedisSessionStore({ client })
    const app = sessionApp(store, { rolling: true })
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    await resetCounts()

    for (let i = 0; i < 100; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)

    const counts = await commandCounts()
    const writes = WRITES.reduce((sum, name) => sum + (counts[name] ?? 0), 0)
    expect(counts['evalsha']).toBe(100)
    expect(writes).toBeGreaterThanOrEqual(100)
  })

  test('with userOf, a touch that writes reads the session and runs two scripts: the session and its user pointer', async () => {
    const store = new RedisSessionStore({ client, userOf: (session: SessionData) => session.userId })
    const app = sessionApp(store, { rolling: true })
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))

    // MONITOR, to count round trips only (commandstats also counts the commands scripts run).
    const sent = await recordCommands(redis.server.url, async () => {
      for (let i = 0; i < 10; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)
    })

    // Per request: express-session's get (one GET), then the touch (one GET, two EVALSHA).
    const names = clientCommands(sent).map(([name]) => name?.toUpperCase())
    expect(names.filter((name) => name === 'GET')).toHaveLength(20)
    expect(names.filter((name) => name === 'EVALSHA')).toHaveLength(20)
    expect(names).toHaveLength(40)
  })
})
