// Redis goes away and comes back; requests fail fast meanwhile and work again afterwards.
// A private server, stopped and restarted by the tests.
import { createClient } from 'redis'
import request from 'supertest'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import type { StandaloneClient } from '../helpers/clients'
import { eventually } from '../helpers/clients'
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server'
import { cookieOf, sessionApp } from './apps'
import { uniquePrefix } from './servers'

const TIMEOUT_MS = 1_000
/** What the bound may overshoot by on a busy test machine (timers, supertest, express). */
const SLACK_MS = 500

let server: RedisServerHandle
let client: StandaloneClient

beforeAll(async () => {
  // Persistent, so sessions outlive a restart as they would in production.
  server = await startRedisServer({ args: ['--appendonly', 'yes'] })
  // Retry every 100 ms (node-redis backs off up to 2 s by default): how fast the app recovers
  // is the client's reconnectStrategy, not the store's.
  client = createClient({ url: server.url, socket: { reconnectStrategy: () => 100 } })
  client.on('error', () => undefined)
  await client.connect()
})
afterAll(async () => {
  client?.destroy()
  await server?.stop()
})

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = Date.now()
  const result = await work()
  return [result, Date.now() - start]
}

describe("whenUnavailable: 'fail' (the default)", () => {
  test('with Redis stopped, a request gets an error response within the bound, and works again once Redis is back', async () => {
    const app = sessionApp(new RedisSessionStore({ client, prefix: uniquePrefix(), timeoutMs: TIMEOUT_MS }))
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
    expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: 'ada' })
  })

  test('a save during the outage fails within the bound too', async () => {
    const app = sessionApp(new RedisSessionStore({ client, prefix: uniquePrefix(), timeoutMs: TIMEOUT_MS }))
    await server.stop()
    try {
      const [response, elapsed] = await timed(() => request(app).post('/login/ada'))
      expect(response.status).toBe(503)
      expect(elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS)
    } finally {
      await server.restart()
    }
  })

  test('a Redis that accepts connections but does not answer fails the call within the bound', async () => {
    const store = new RedisSessionStore({ client, prefix: uniquePrefix(), timeoutMs: 300 })
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
    expect(await store.get('s1')).toBeNull()
  })
})

describe("whenUnavailable: 'skip'", () => {
  test('express-session serves requests without a session while Redis is away, and the session is back with Redis', async () => {
    const store = new RedisSessionStore({ client, prefix: uniquePrefix(), timeoutMs: TIMEOUT_MS, whenUnavailable: 'skip' })
    const events: string[] = []
    store.on('disconnect', () => events.push('disconnect'))
    store.on('connect', () => events.push('connect'))
    const app = sessionApp(store)
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
