// Two app servers, each with its own store object and Redis client, behind an imaginary load
// balancer: whatever one does to a session, the other sees.
import type { SessionData } from 'express-session'
import request from 'supertest'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import type { ClusterClient, StandaloneClient } from '../helpers/clients'
import { cookieOf, sessionApp } from './apps'
import { privateCluster, privateStandalone, uniquePrefix, type PrivateCluster, type PrivateStandalone } from './servers'

let standalone: PrivateStandalone
let cluster: PrivateCluster

beforeAll(async () => {
  ;[standalone, cluster] = await Promise.all([privateStandalone(), privateCluster()])
})
afterAll(async () => {
  await Promise.all([standalone?.stop(), cluster?.stop()])
})

const backends: [string, () => Promise<StandaloneClient | ClusterClient>][] = [
  ['standalone Redis', () => standalone.connect()],
  ['a 3-master Redis Cluster', () => cluster.connect()],
]

describe.each(backends)('two app servers on %s', (_name, connect) => {
  const userOf = (session: SessionData) => session.userId
  let storeA: RedisSessionStore
  let storeB: RedisSessionStore
  let gateOpen: () => void = () => undefined
  let gate: Promise<void>
  let appA: ReturnType<typeof sessionApp>
  let appB: ReturnType<typeof sessionApp>

  beforeEach(async () => {
    const prefix = uniquePrefix()
    const [clientA, clientB] = (await Promise.all([connect(), connect()])) as [StandaloneClient, StandaloneClient]
    storeA = new RedisSessionStore({ client: clientA, prefix, userOf })
    storeB = new RedisSessionStore({ client: clientB, prefix, userOf })
    gate = new Promise((resolve) => (gateOpen = resolve))
    appA = sessionApp(storeA, { gate: () => gate })
    appB = sessionApp(storeB)
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
    const slow = request(appA).post('/views-slowly').set('Cookie', cookie).then((response) => response)
    // Let the slow request load the session before the logout.
    await new Promise((resolve) => setTimeout(resolve, 100))
    await request(appB).post('/logout').set('Cookie', cookie).expect(200)
    gateOpen()
    expect((await slow).status).toBe(200)
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
