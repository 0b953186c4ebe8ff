// Redis goes away and comes back; requests fail fast meanwhile and work again afterwards.
// A server of this file's own, stopped and restarted by the tests.
import { createClient } from 'redis'
import request from 'supertest'
import { RedisCache } from 'sessionvault/cache'
import { STORE_PROBE_INTERVAL_MS } from '../../lib/defaults'
import { RedisSessionStore } from 'sessionvault/store'
import { STORE_TAG_DEPTH } from 'sessionvault/store'
import { flushAll, privateRedis, type PrivateRedis, type StandaloneClient } from '../helpers/redis'
import { fulfils } from '../helpers/thrown'
import { eventually, sleep } from '../helpers/waiting'
import { EXPRESS_MAJORS } from '../helpers/express-majors'
import type { RedisServerHandle } from '../../scripts/redis-server'
import { cookieOf, sessionApp } from './apps'
import { sessionData, userOf } from './session-data'

const TIMEOUT_MS = 500
/** What the bound may overshoot by on a busy test machine (timers, supertest, express). */
const SLACK_MS = 500

let redis: PrivateRedis
let server: RedisServerHandle
let client: StandaloneClient

beforeAll(async () => {
  // Persistent, so sessions outlive a restart as they would in production. Its client retries
  // every 50 ms (node-redis backs off up to 2 s by default): how fast the app recovers is the
  // client's reconnectStrategy, not the store's.
  redis = await privateRedis(['--appendonly', 'yes'])
  ;({ server, client } = redis)
})
afterAll(() => redis?.stop())

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = Date.now()
  const result = await work()
  return [result, Date.now() - start]
}

describe.each(EXPRESS_MAJORS)('on $name', (express) => {
  describe("whenUnavailable: 'fail' (the default)", () => {
    beforeEach(() => flushAll(client))

    test('with Redis stopped, a request gets an error response within the bound, and works again within 1 s of Redis being back', async () => {
      const app = sessionApp(new RedisSessionStore({ client, timeoutMs: TIMEOUT_MS }), {}, express)
      const cookie = cookieOf(await request(app).post('/login/ada').expect(200))

      await server.stop()
      try {
        const [response, elapsed] = await timed(() => request(app).get('/me').set('Cookie', cookie))
        expect(response.status).toBe(503)
        expect((response.body as { error: string }).error).toMatch(/Redis/)
        expect(elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS)
      } finally {
        await server.restart()
      }
      // Once the breaker's probe (every 500 ms) is answered.
      await eventually(async () => (await request(app).get('/me').set('Cookie', cookie)).status === 200, 1_000, 'requests to work again')
      expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: 'ada' })
    })

    test('a save during the outage fails within the bound too', async () => {
      const app = sessionApp(new RedisSessionStore({ client, timeoutMs: TIMEOUT_MS }), {}, express)
      await server.stop()
      try {
        const [response, elapsed] = await timed(() => request(app).post('/login/ada'))
        expect(response.status).toBe(503)
        expect(elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS)
      } finally {
        await server.restart()
      }
    })
  })

  describe("whenUnavailable: 'skip'", () => {
    beforeEach(() => flushAll(client))

    test('express-session serves requests without a session while Redis is away, and the session is back with Redis', async () => {
      const store = new RedisSessionStore({ client, timeoutMs: TIMEOUT_MS, whenUnavailable: 'skip' })
      const events: string[] = []
      store.on('disconnect', () => events.push('disconnect'))
      store.on('connect', () => events.push('connect'))
      const app = sessionApp(store, {}, express)
      const cookie = cookieOf(await request(app).post('/login/ada').expect(200))

      // Pause instead of stopping, so the session survives for the end of the test.
      const admin = createClient({ url: server.url })
      await admin.connect()
      await admin.sendCommand(['CLIENT', 'PAUSE', '2500', 'ALL'])
      try {
        // The request that finds Redis gone still fails; express-session stops asking after it.
        expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(503)
        const [skipped, elapsed] = await timed(() => request(app).get('/me').set('Cookie', cookie).expect(200))
        expect(skipped.body).toEqual({ userId: null, session: false })
        expect(elapsed).toBeLessThan(SLACK_MS)
        expect(events).toEqual(['disconnect'])
      } finally {
        admin.destroy()
      }

      await eventually(() => events.includes('connect'), 10_000, 'the store to emit connect')
      expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: 'ada', session: true })
    })
  })
})

describe('a paused Redis', () => {
  beforeEach(() => flushAll(client))

  test('a Redis that accepts connections but does not answer fails the call within the bound', async () => {
    const store = new RedisSessionStore({ client, timeoutMs: 300 })
    const admin = createClient({ url: server.url })
    await admin.connect()
    try {
      await admin.sendCommand(['CLIENT', 'PAUSE', '800', 'ALL'])
      const [error, elapsed] = await timed(() => store.get('s1').catch((e: unknown) => e))
      expect(error).toMatchObject({ name: 'CacheError', code: 'REDIS_UNAVAILABLE' })
      expect(elapsed).toBeLessThan(300 + SLACK_MS)
    } finally {
      await admin.sendCommand(['CLIENT', 'UNPAUSE'])
      admin.destroy()
    }
    await eventually(() => fulfils(store.get('s1')), 1_000, 'the store to work again')
    expect(await store.get('s1')).toBeNull()
  })
})

describe('close()', () => {
  test('closes the cache the store built on client, and leaves a cache it was given open', async () => {
    const built = new RedisSessionStore({ client })
    const builtClose = jest.spyOn(built.cache as RedisCache, 'close')
    const cache = new RedisCache({ client, ttlMs: 60_000, tagDepth: STORE_TAG_DEPTH })
    const givenClose = jest.spyOn(cache, 'close')
    await built.close()
    await new RedisSessionStore({ cache }).close()
    expect(builtClose).toHaveBeenCalledTimes(1)
    expect(givenClose).not.toHaveBeenCalled()
  })
})

describe('every call while Redis is stopped', () => {
  const BOUND_MS = 200
  beforeAll(() => server.stop())
  afterAll(() => server.restart())

  /**
   * On a cache the app built without a per-command timeout (`commandTimeoutMs: 0`), so that the
   * store's own `timeoutMs` is all that bounds a call.
   */
  function storeOnUnboundedCache(): RedisSessionStore {
    const cache = new RedisCache<string>({ client, ttlMs: 60_000, tagDepth: STORE_TAG_DEPTH, commandTimeoutMs: 0 })
    return new RedisSessionStore({ cache, userOf, timeoutMs: BOUND_MS, whenUnavailable: 'skip' })
  }

  const calls: [string, (store: RedisSessionStore) => Promise<unknown>][] = [
    ['get', (store) => store.get('s1')],
    ['set', (store) => store.set('s1', sessionData({ userId: 'ada' }, 60_000))],
    ['touch', (store) => store.touch('s1', sessionData({ userId: 'ada' }, 60_000))],
    ['destroy', (store) => store.destroy('s1')],
    ['all', (store) => store.all()],
    ['length', (store) => store.length()],
    ['ids', (store) => store.ids()],
    ['clear', (store) => store.clear()],
    ['listUserSessions', (store) => store.listUserSessions('ada')],
    ['destroyUserSessions', (store) => store.destroyUserSessions('ada')],
    ['destroyUserSession', (store) => store.destroyUserSession('ada', 'a-stored-id')],
  ]

  test.each(calls)(
    '%s fails within timeoutMs with REDIS_UNAVAILABLE, and the store reports the outage (disconnect)',
    async (_name, call) => {
      const store = storeOnUnboundedCache()
      const disconnected = jest.fn()
      store.on('disconnect', disconnected)
      try {
        const [error, elapsed] = await timed(() => call(store).catch((e: unknown) => e))
        expect(error).toMatchObject({ name: 'CacheError', code: 'REDIS_UNAVAILABLE' })
        expect(elapsed).toBeLessThan(BOUND_MS + SLACK_MS)
        expect(disconnected).toHaveBeenCalledTimes(1)
      } finally {
        await store.close()
      }
    },
    // Without the bound these calls would wait for Redis forever: fail fast instead.
    5_000,
  )

  test("close() stops a 'skip' store probing for Redis", async () => {
    const store = new RedisSessionStore({ client, timeoutMs: BOUND_MS, whenUnavailable: 'skip' })
    const probes = jest.spyOn(store.cache, 'get')
    await expect(store.get('s1')).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
    await eventually(() => probes.mock.calls.length >= 2, 5_000, 'the store to probe Redis')
    await store.close()
    const probed = probes.mock.calls.length
    // Absence takes waiting: several probe intervals, each plus a failed probe's timeout.
    await sleep(3 * (STORE_PROBE_INTERVAL_MS + BOUND_MS))
    expect(probes.mock.calls.length).toBe(probed)
  })
})
