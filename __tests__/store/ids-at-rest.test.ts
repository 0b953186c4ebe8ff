// Session ids at rest: Redis holds a hash of each express-session id, so a dump, a replica or a
// key listing holds nothing a cookie could carry. Through Express, on this worker's standalone
// Redis and Cluster, flushed before each test.
import request from 'supertest'
import { RedisSessionStore } from 'sessionvault/store'
import { connectCluster, connectStandalone, dumpRedis, flushAll, type ClusterClient, type StandaloneClient } from '../helpers/redis'
import { cookieOf, sessionApp, sidOf } from './apps'
import { sessionRedisKey, storedIdFor } from './redis-keys'
import { userOf } from './session-data'

type Client = StandaloneClient | ClusterClient

const backends: [string, () => Promise<Client>][] = [
  ['standalone Redis', connectStandalone],
  ['a 3-master Redis Cluster', connectCluster],
]

describe.each(backends)('session ids at rest on %s', (_name, connect) => {
  let client: Client

  beforeAll(async () => {
    client = await connect()
  })
  afterAll(() => client?.destroy())
  beforeEach(() => flushAll(client))

  test('after logins, requests and a logout, no key name or value holds a session id', async () => {
    const app = sessionApp(new RedisSessionStore({ client, userOf, touchAfterMs: 0 }))
    const cookies = [
      cookieOf(await request(app).post('/login/ada').expect(200)),
      cookieOf(await request(app).post('/login/bob').expect(200)),
    ]
    for (const cookie of cookies) {
      await request(app).post('/views').set('Cookie', cookie).expect(200)
      await request(app).get('/me').set('Cookie', cookie).expect(200)
    }
    const loggedOut = cookieOf(await request(app).post('/login/ada').expect(200))
    await request(app).post('/logout').set('Cookie', loggedOut).expect(200)

    const dump = await dumpRedis(client)
    // Sessions, user entries, their indexes and a tombstone.
    expect(dump.size).toBeGreaterThanOrEqual(6)
    for (const sid of [...cookies, loggedOut].map(sidOf)) {
      for (const [key, value] of dump) {
        expect(key).not.toContain(sid)
        expect(value).not.toContain(sid)
      }
    }
  })

  test('ids(), all() and listUserSessions() report stored ids, which storedId(req.sessionID) gives', async () => {
    const store = new RedisSessionStore({ client, userOf })
    const app = sessionApp(store)
    const sid = sidOf(cookieOf(await request(app).post('/login/ada').expect(200)))
    expect(store.storedId(sid)).toBe(storedIdFor(sid))
    expect(await store.ids()).toEqual([storedIdFor(sid)])
    expect((await store.all()).map((session) => session.id)).toEqual([storedIdFor(sid)])
    expect((await store.listUserSessions('ada')).map((session) => session.id)).toEqual([storedIdFor(sid)])
    expect(await client.exists(sessionRedisKey(sid))).toBe(1)
  })

  test('with hashIds: false, keys and listings hold the session ids as they are', async () => {
    const store = new RedisSessionStore({ client, userOf, hashIds: false })
    const app = sessionApp(store)
    const sid = sidOf(cookieOf(await request(app).post('/login/ada').expect(200)))
    const keys = [...(await dumpRedis(client)).keys()]
    expect(keys.filter((key) => key.includes(sid))).toHaveLength(2) // the session and ada's entry
    expect(keys).toContain(sessionRedisKey(sid, { hashIds: false }))
    expect(await store.ids()).toEqual([sid])
    expect((await store.listUserSessions('ada')).map((session) => session.id)).toEqual([sid])
  })
})
