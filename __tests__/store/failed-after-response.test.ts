/**
 * express-session touches (and saves) a session as the response ends, after the headers are
 * out. A failure then has no request left to answer: the store reports it as
 * `failedAfterResponse` and the response ends as it should, instead of the error reaching
 * Express, which would reset the connection under a response that was fine.
 *
 * The fault is real: a TCP proxy between the client and Redis drops the touch script on its way.
 */
import express, { type ErrorRequestHandler } from 'express'
import session from 'express-session'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient } from 'redis'
import { RedisSessionStore } from 'sessionvault'
import { TOUCH_SCRIPT } from '../../lib/cache/lua/touch'
import { privateRedis, PRIVATE_REDIS_START_LIMIT_MS, type PrivateRedis } from '../helpers/redis'
import { fulfils } from '../helpers/thrown'
import { eventually } from '../helpers/waiting'
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy'

let redis: PrivateRedis
let proxy: FaultProxy
let client: ReturnType<typeof createClient>
let store: RedisSessionStore
let server: http.Server
let baseUrl: string
const appErrors: unknown[] = []
const late: { error: unknown; operation: string }[] = []

beforeAll(async () => {
  redis = await privateRedis()
  proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: redis.server.port } })
  client = createClient({ url: proxy.url, socket: { reconnectStrategy: () => 50 } })
  client.on('error', () => undefined)
  await client.connect()
  // touchAfterMs 0: every request's touch is written, so the fault has a command to hit.
  store = new RedisSessionStore({ client, touchAfterMs: 0 })
  store.on('failedAfterResponse', (error: unknown, operation: string) => late.push({ error, operation }))
  const app = express()
  app.use(session({ store, secret: 'a test secret of enough length, 32+', resave: false, saveUninitialized: false }))
  app.post('/login', (req, res) => {
    ;(req.session as unknown as { user: string }).user = 'ada'
    res.send('in')
  })
  app.get('/hello', (_req, res) => {
    res.send('hello, still signed in')
  })
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    appErrors.push(error)
    if (!res.headersSent) res.status(500).send('error')
  }
  app.use(onError)
  server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}, PRIVATE_REDIS_START_LIMIT_MS)
afterAll(async () => {
  server?.close()
  await store?.close()
  client?.destroy()
  await proxy?.close()
  await redis?.stop()
})

/** One request on a keep-alive connection: its answer, and whether the server then closed the connection under it. */
function keepAliveRequest(
  method: string,
  path: string,
  cookie?: string,
): Promise<{ status: number; body: string; cookie: string | undefined; closedByServer: boolean }> {
  const agent = new http.Agent({ keepAlive: true })
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method, agent, headers: cookie ? { cookie } : {} }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => {
        const socket = req.socket
        let closedByServer = false
        socket?.once('close', () => (closedByServer = true))
        // Long enough for express-session's deferred `next(err)` and a reset to arrive.
        setTimeout(() => {
          agent.destroy()
          const setCookie = res.headers['set-cookie']?.[0]?.split(';')[0]
          resolve({ status: res.statusCode ?? 0, body, cookie: setCookie, closedByServer })
        }, 300)
      })
    })
    req.on('error', reject)
    req.end()
  })
}

test('a touch that fails after the response started: the response ends whole, the connection stays open, the app hears it as failedAfterResponse', async () => {
  const login = await keepAliveRequest('POST', '/login')
  expect(login.status).toBe(200)
  const cookie = login.cookie as string
  expect(cookie).toMatch(/^connect\.sid=/)

  proxy.failCommand(1, 'drop-request', { only: (name, args) => name === 'EVALSHA' && args[0] === TOUCH_SCRIPT.sha1 })
  const answer = await keepAliveRequest('GET', '/hello', cookie)

  expect(answer).toMatchObject({ status: 200, body: 'hello, still signed in', closedByServer: false })
  expect(appErrors).toEqual([])
  expect(late).toHaveLength(1)
  expect(late[0]).toMatchObject({ operation: 'touch' })
  expect((late[0]?.error as { code?: string }).code).toBe('REDIS_UNAVAILABLE')
})

test('a store call made before the response started still gets its error (the app can answer it)', async () => {
  const sid = 'some-session-id'
  // Once the breaker's probe finds Redis again after the first test's fault.
  await eventually(() => fulfils(store.set(sid, { cookie: { originalMaxAge: 1_000 } })), 2_000, 'the store to work')
  proxy.cut()
  try {
    // No request behind the session: a plain call, whose error is the caller's.
    const failed = await new Promise<unknown>(
      (resolve) => void store.set(sid, { cookie: { originalMaxAge: 1_000 } }, (caught) => resolve(caught)),
    )
    expect((failed as { code?: string }).code).toBe('REDIS_UNAVAILABLE')
  } finally {
    proxy.heal()
  }
})
