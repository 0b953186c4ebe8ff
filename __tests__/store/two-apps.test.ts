// Two app servers, each with its own store object and Redis client, behind an imaginary load
// balancer: whatever one does to a session, the other sees. On Express 4 and 5, on this
// worker's standalone Redis and Cluster, flushed before each test.
import type { SessionData } from 'express-session'
import request from 'supertest'
import { RedisSessionStore } from 'sessionvault/store'
import { connectCluster, connectStandalone, flushAll, type ClusterClient, type StandaloneClient } from '../helpers/redis'
import { EXPRESS_MAJORS } from '../helpers/express-majors'
import { cookieOf, sessionApp, sidOf } from './apps'
import { userOf } from './session-data'

type Client = StandaloneClient | ClusterClient

const backends: [string, () => Promise<Client>][] = [
  ['standalone Redis', connectStandalone],
  ['a 3-master Redis Cluster', connectCluster],
]

describe.each(EXPRESS_MAJORS)('on $name', (express) => {
  describe.each(backends)('two app servers on %s', (_name, connect) => {
    let clientA: Client
    let clientB: Client
    let storeA: RedisSessionStore
    let storeB: RedisSessionStore
    let openGate: () => void
    let slowLoaded: Promise<SessionData>
    let appA: ReturnType<typeof sessionApp>
    let appB: ReturnType<typeof sessionApp>

    beforeAll(async () => {
      ;[clientA, clientB] = await Promise.all([connect(), connect()])
    })
    afterAll(() => {
      clientA?.destroy()
      clientB?.destroy()
    })

    beforeEach(async () => {
      await flushAll(clientA)
      storeA = new RedisSessionStore({ client: clientA, userOf })
      storeB = new RedisSessionStore({ client: clientB, userOf })
      const gate = new Promise<void>((resolve) => (openGate = resolve))
      let signalLoaded: (session: SessionData) => void = () => undefined
      slowLoaded = new Promise((resolve) => (signalLoaded = resolve))
      appA = sessionApp(
        storeA,
        {
          gate: (loaded) => {
            signalLoaded(loaded)
            return gate
          },
        },
        express,
      )
      appB = sessionApp(storeB, {}, express)
    })

    test('a login on one server is seen by the other', async () => {
      const cookie = cookieOf(await request(appA).post('/login/ada').expect(200))
      const me = await request(appB).get('/me').set('Cookie', cookie).expect(200)
      expect(me.body).toMatchObject({ userId: 'ada' })
    })

    test('changes made on either server add up', async () => {
      const cookie = cookieOf(await request(appA).post('/login/ada').expect(200))
      for (const app of [appA, appB, appA, appB]) await request(app).post('/views').set('Cookie', cookie).expect(200)
      expect((await request(appA).get('/me').set('Cookie', cookie)).body).toMatchObject({ views: 4 })
    })

    test('a logout on one server is seen by the other', async () => {
      const cookie = cookieOf(await request(appA).post('/login/ada').expect(200))
      await request(appA).post('/logout').set('Cookie', cookie).expect(200)
      expect((await request(appB).get('/me').set('Cookie', cookie)).body).toMatchObject({ userId: null })
    })

    test('a slow request that saves after the logout does not log the user back in', async () => {
      const cookie = cookieOf(await request(appA).post('/login/ada').expect(200))
      const saves = jest.spyOn(storeA, 'set')
      const slow = request(appA)
        .post('/views-slowly')
        .set('Cookie', cookie)
        .then((response) => response)
      // The slow request has loaded the logged-in session before the logout happens.
      expect(await slowLoaded).toMatchObject({ userId: 'ada' })
      await request(appB).post('/logout').set('Cookie', cookie).expect(200)
      openGate()
      expect((await slow).body).toEqual({ views: 1 })
      // It did save its copy after the logout (express-session answers once the save is done)…
      expect(saves).toHaveBeenCalledWith(sidOf(cookie), expect.objectContaining({ userId: 'ada', views: 1 }), expect.any(Function))
      // …and the store dropped that save.
      expect((await request(appB).get('/me').set('Cookie', cookie)).body).toMatchObject({ userId: null })
      expect(await storeA.listUserSessions('ada')).toEqual([])
    })

    test("one server lists a user's sessions, the other signs them out everywhere", async () => {
      const laptop = cookieOf(await request(appA).post('/login/ada').expect(200))
      const phone = cookieOf(await request(appB).post('/login/ada').expect(200))
      const other = cookieOf(await request(appB).post('/login/bob').expect(200))
      expect(await storeA.listUserSessions('ada')).toHaveLength(2)
      expect(await storeB.destroyUserSessions('ada')).toBe(2)
      for (const cookie of [laptop, phone]) {
        expect((await request(appA).get('/me').set('Cookie', cookie)).body).toMatchObject({ userId: null })
      }
      expect((await request(appA).get('/me').set('Cookie', other)).body).toMatchObject({ userId: 'bob' })
    })
  })
})
