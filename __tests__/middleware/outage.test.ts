// Redis out of reach: a prompt, clear 503 instead of a hang or a crash, and recovery on its own,
// on Express 4 and 5. The Redis here is the suite's own: it is stopped and restarted.
import type { ExpressApp } from '../helpers/express-majors'
import request from 'supertest'
import { MemoryCache } from 'sessionvault/cache'
import { privateBackend } from '../helpers/redis'
import { eventually } from '../helpers/waiting'
import { EXPRESS_MAJORS } from '../helpers/express-majors'
import { cookieHeader, login, statusWith, testApp } from './helpers'

const TIMEOUT_MS = 1_000
/** The bound a client may wait, with room for a slow test machine. */
const BOUND_MS = TIMEOUT_MS + 500

describe.each(EXPRESS_MAJORS)('on $name', (express) => {
  describe('Redis stopped, then restarted', () => {
    let backend: Awaited<ReturnType<typeof privateBackend>>
    let app: ExpressApp
    let token: string

    beforeAll(async () => {
      // Persistent, so the session outlives the restart as it would in production.
      backend = await privateBackend(['--appendonly', 'yes'])
      app = testApp(await backend.cache({ commandTimeoutMs: 300 }), { timeoutMs: TIMEOUT_MS }, express).app
      token = await login(app)
      await backend.server.stop()
    })
    afterAll(() => backend.stop())

    test('a logged-in request gets a JSON 503 within the bound', async () => {
      const started = Date.now()
      const res = await request(app).get('/me').set(cookieHeader(token)).expect(503)
      expect(Date.now() - started).toBeLessThan(BOUND_MS)
      expect(res.headers['retry-after']).toBe('1')
      expect(res.body).toEqual({ error: { code: 'SESSIONS_UNAVAILABLE', message: expect.any(String) } })
    })

    test('a browser gets the 503 as an HTML page', async () => {
      const res = await request(app).get('/me').set(cookieHeader(token)).set('Accept', 'text/html,*/*;q=0.8').expect(503)
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      expect(res.text).toContain('Temporarily unavailable')
    })

    test('a login gets the same 503 through the errorHandler', async () => {
      const started = Date.now()
      await request(app).post('/login').send({}).expect(503)
      expect(Date.now() - started).toBeLessThan(BOUND_MS)
    })

    test('a request without a session needs no Redis and is served', async () => {
      await request(app).get('/me').expect(401)
    })

    test('after a restart, the same session works again without anyone doing anything', async () => {
      await backend.server.restart()
      await eventually(async () => (await statusWith(app, token)) === 200, 10_000, 'the session to work again')
    })
  })

  describe("the middleware's own deadline", () => {
    /** A cache that never answers a read, like a Redis that accepts connections but hangs. */
    class StalledCache extends MemoryCache {
      override get(): Promise<undefined> {
        return new Promise(() => undefined)
      }
    }
    const cache = new StalledCache({ ttlMs: 60_000 })

    test('bounds a cache that never answers', async () => {
      const { app } = testApp(cache, { timeoutMs: 200 }, express)
      const token = await login(app)
      const started = Date.now()
      await request(app).get('/me').set(cookieHeader(token)).expect(503)
      expect(Date.now() - started).toBeLessThan(1_000)
    })

    test('answers with the configured status, or hands the error to the configured handler', async () => {
      const { app } = testApp(cache, { timeoutMs: 100, unavailableStatus: 500 }, express)
      const token = await login(app)
      await request(app).get('/me').set(cookieHeader(token)).expect(500)

      const custom = testApp(
        cache,
        { timeoutMs: 100, onUnavailable: (error, _req, res) => void res.status(502).send(`${error.code} during ${error.operation}`) },
        express,
      ).app
      const res = await request(custom).get('/me').set(cookieHeader(token)).expect(502)
      expect(res.text).toBe('REDIS_UNAVAILABLE during sessions')
    })

    test('an onUnavailable that throws hands its error to the error handlers, instead of leaving the request unanswered', async () => {
      const { app } = testApp(
        cache,
        {
          timeoutMs: 100,
          onUnavailable: () => {
            throw new Error('the handler failed')
          },
        },
        express,
      )
      const token = await login(app)
      // Bounded, so a request left unanswered fails here rather than at jest's timeout.
      await request(app).get('/me').set(cookieHeader(token)).timeout(5_000).expect(500)
    })
  })
})
