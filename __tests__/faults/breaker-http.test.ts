/**
 * An outage as users meet it, through real Express apps of both layers: once Redis stops
 * answering (its process stopped with SIGSTOP: connections stay open, nothing answers), the
 * first requests wait out the timeout that finds the outage, then every request is answered 503
 * at once (p99 under 50 ms) instead of each waiting the timeout; once Redis answers again, a
 * request works within 1 s.
 */
import type { Server } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { Express } from 'express'
import request from 'supertest'
import { RedisCache, RedisSessionStore } from '../../lib'
import { eventually, privateRedis, type PrivateRedis } from '../helpers/clients'
import { login as tokenLogin, testApp, withCookie } from '../middleware/helpers'
import { SESSION_CACHE } from '../middleware/redis-backends'
import { cookieOf, sessionApp } from '../store/apps'

const COMMAND_TIMEOUT_MS = 500
const REQUESTS = 200

let redis: PrivateRedis
beforeAll(async () => {
  redis = await privateRedis()
})
afterAll(() => redis.stop())

interface Layer {
  name: string
  /** An app, a request that needs its session, and what closes the layer. */
  start(): Promise<{ app: Express; authenticated: () => request.Test; close: () => Promise<void> }>
}

/** Listening once, so each request costs what it costs the app (supertest would start a server per request). */
async function listening(app: Express): Promise<Server> {
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return server
}

const layers: Layer[] = [
  {
    name: 'express-session + RedisSessionStore',
    async start() {
      const store = new RedisSessionStore({ client: redis.client, timeoutMs: COMMAND_TIMEOUT_MS })
      const app = sessionApp(store)
      const server = await listening(app)
      const cookie = cookieOf(await request(server).post('/login/ada').expect(200))
      return { app, authenticated: () => request(server).get('/me').set('Cookie', cookie), close: async () => (server.close(), store.close()) }
    },
  },
  {
    name: 'sessions()',
    async start() {
      const cache = new RedisCache({ ...SESSION_CACHE, client: redis.client, commandTimeoutMs: COMMAND_TIMEOUT_MS })
      const { app } = testApp(cache, { timeoutMs: COMMAND_TIMEOUT_MS * 2 })
      const token = await tokenLogin(app, { id: 'ada' })
      const server = await listening(app)
      return { app, authenticated: () => request(server).get('/me').set(...withCookie(token)), close: async () => (server.close(), cache.close()) }
    },
  },
]

describe.each(layers)('$name', (layer) => {
  test('while Redis does not answer, requests get a 503 at once (p99 < 50 ms); within 1 s of its return they work', async () => {
    const { authenticated, close } = await layer.start()
    try {
      expect((await authenticated()).status).toBe(200)
      const pid = redis.server.pid
      process.kill(pid, 'SIGSTOP')
      const latencies: number[] = []
      const statuses = new Map<number, number>()
      let firstMs = 0
      try {
        // The request that finds the outage waits its timeout.
        const started = performance.now()
        expect((await authenticated()).status).toBe(503)
        firstMs = performance.now() - started
        for (let i = 0; i < REQUESTS; i++) {
          const start = performance.now()
          const { status } = await authenticated()
          latencies.push(performance.now() - start)
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
        }
      } finally {
        process.kill(pid, 'SIGCONT')
      }
      const back = performance.now()
      await eventually(async () => (await authenticated()).status === 200, 1_000, 'a request to work within 1 s of Redis answering again')
      const recoveredMs = performance.now() - back
      latencies.sort((a, b) => a - b)
      const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1] as number
      console.log(
        `${layer.name}: outage found in ${firstMs.toFixed(0)} ms; then ${REQUESTS} requests: ${JSON.stringify(Object.fromEntries(statuses))}, ` +
          `p50 ${(latencies[Math.floor(latencies.length / 2)] as number).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${(latencies.at(-1) as number).toFixed(1)} ms; ` +
          `working again ${recoveredMs.toFixed(0)} ms after Redis answered`,
      )
      expect(Object.fromEntries(statuses)).toEqual({ 503: REQUESTS })
      expect(p99).toBeLessThan(50)
    } finally {
      await close()
    }
  })
})
