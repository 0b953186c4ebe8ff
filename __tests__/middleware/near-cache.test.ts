/**
 * Token sessions on near-cached RedisCaches, two app instances: a hot session costs no Redis
 * command, and a logout or revoke on one instance is seen by the other at once.
 */
import diagnostics from 'node:diagnostics_channel'
import request from 'supertest'
import { RedisCache } from 'sessionvault'
import { type StandaloneClient, usePrivateServer } from '../helpers/redis'
import { sleep } from '../helpers/waiting'
import { clientCommands, recordCommands } from '../helpers/command-log'
import { INVALIDATION_SEEN_WITHIN_MS } from '../helpers/invalidation'
import express from 'express'
import { sessions } from 'sessionvault/middleware'
import { SECRET, sessionCookie, testApp, type DeviceMeta, type TestApp, type TestUser } from './helpers'

const NEAR = { ttlMs: 60_000, namespace: 'sessions', tagDepth: 3, nearCache: { maxEntries: 1_000 } }

// A private server: one test counts commands.
const own = usePrivateServer()
let clientB: StandaloneClient
let cacheA: RedisCache
let cacheB: RedisCache
let a: TestApp
let b: TestApp

beforeAll(async () => {
  clientB = await own.redis.connect()
})
beforeEach(async () => {
  cacheA = new RedisCache({ ...NEAR, client: own.client })
  cacheB = new RedisCache({ ...NEAR, client: clientB })
  a = testApp(cacheA)
  b = testApp(cacheB)
})
afterEach(() => Promise.all([cacheA.close(), cacheB.close()]))

async function loginOnA(): Promise<string> {
  const res = await request(a.app).post('/login').send({ id: 'ada', name: 'Ada' }).expect(200)
  return `session=${sessionCookie(res) as string}`
}

/** Requests `/me` on B until it answers `status`; returns how long that took. */
async function msUntilStatus(cookie: string, status: number, limitMs = 2_000): Promise<number> {
  const started = performance.now()
  while ((await request(b.app).get('/me').set('Cookie', cookie)).status !== status) {
    if (performance.now() - started > limitMs) throw new Error(`B never answered ${status}`)
    await sleep(1)
  }
  return performance.now() - started
}

/** B has the session in its near-cache once a request costs it no read. */
async function warmB(cookie: string): Promise<void> {
  await msUntilStatus(cookie, 200)
  const before = cacheB.nearCacheStats?.hits ?? 0
  for (let i = 0; i < 200 && (cacheB.nearCacheStats?.hits ?? 0) === before; i++) {
    await request(b.app).get('/me').set('Cookie', cookie).expect(200)
    await sleep(5)
  }
  expect(cacheB.nearCacheStats?.hits).toBeGreaterThan(before)
}

test('a hot session costs no Redis command', async () => {
  const cookie = await loginOnA()
  await warmB(cookie)
  const sent = clientCommands(
    await recordCommands(own.redis.server.url, async () => {
      for (let i = 0; i < 50; i++) await request(b.app).get('/me').set('Cookie', cookie).expect(200)
    }),
  )
  expect(sent).toEqual([])
})

test('what a route changes in req.auth.user or the session metadata reaches no other request, on near-cache hits', async () => {
  const app = express()
  const auth = sessions<TestUser, DeviceMeta>({ cache: cacheB, secret: SECRET, cookie: { secure: false } })
  app.use(auth)
  app.get('/tamper', (req, res) => {
    const { user, session } = auth.of(req)
    if (user === undefined || session === undefined) return void res.status(401).end()
    const before = { name: user.name, device: session.metadata.device }
    user.name = 'Mallory'
    session.metadata.device = 'tampered'
    // Within the request, the change holds, as on any object the app owns.
    res.json({ before, after: { name: auth.of(req).user?.name, device: auth.of(req).session?.metadata.device } })
  })
  const res = await request(a.app).post('/login').send({ id: 'ada', name: 'Ada', device: 'laptop' }).expect(200)
  const cookie = `session=${sessionCookie(res) as string}`
  await warmB(cookie)
  for (let i = 0; i < 5; i++) {
    const answer = await request(app).get('/tamper').set('Cookie', cookie).expect(200)
    expect(answer.body).toEqual({ before: { name: 'Ada', device: 'laptop' }, after: { name: 'Mallory', device: 'tampered' } })
  }
  const me = await request(b.app).get('/me').set('Cookie', cookie).expect(200)
  expect(me.body.user).toEqual({ id: 'ada', name: 'Ada' })
  expect(me.body.session.metadata).toEqual({ device: 'laptop' })
})

test('a logout on one instance is seen by the other at once, and never a stale answer after', async () => {
  const cookie = await loginOnA()
  await warmB(cookie)
  await request(a.app).post('/logout').set('Cookie', cookie).expect(200)
  expect(await msUntilStatus(cookie, 401)).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
  for (let i = 0; i < 20; i++) await request(b.app).get('/me').set('Cookie', cookie).expect(401)
})

test('revoking a device from one instance logs it out on the other at once', async () => {
  const laptop = await loginOnA()
  const phoneRes = await request(a.app).post('/login').send({ id: 'ada', name: 'Ada', device: 'phone' }).expect(200)
  const phone = `session=${sessionCookie(phoneRes) as string}`
  await warmB(phone)
  const devices = (await request(a.app).get('/sessions').set('Cookie', laptop).expect(200)).body as { id: string; current: boolean }[]
  const phoneId = devices.find((device) => !device.current)?.id as string
  await request(a.app).delete(`/sessions/${phoneId}`).set('Cookie', laptop).expect(200)
  expect(await msUntilStatus(phone, 401)).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
})

test('answered from memory, a request still counts as an authenticate, a cache get and a near-cache hit', async () => {
  const cookie = await loginOnA()
  await warmB(cookie)
  const before = { middleware: b.auth.stats(), cache: cacheB.stats() }
  const sent = clientCommands(
    await recordCommands(own.redis.server.url, async () => {
      for (let i = 0; i < 20; i++) await request(b.app).get('/me').set('Cookie', cookie).expect(200)
    }),
  )
  expect(sent).toEqual([])
  const after = { middleware: b.auth.stats(), cache: cacheB.stats() }
  expect(after.middleware.operations.authenticate - before.middleware.operations.authenticate).toBe(20)
  expect(after.cache.operations.get - before.cache.operations.get).toBe(20)
  expect((after.cache.nearCache?.hits ?? 0) - (before.cache.nearCache?.hits ?? 0)).toBe(20)
})

test('while someone traces the middleware, a hot session is still served from memory and each request publishes its events', async () => {
  const cookie = await loginOnA()
  await warmB(cookie)
  const started: string[] = []
  const onStart = (context: unknown) => started.push((context as { operation: string }).operation)
  const channel = diagnostics.tracingChannel('sessionvault:middleware')
  channel.start.subscribe(onStart)
  try {
    const sent = clientCommands(
      await recordCommands(own.redis.server.url, async () => {
        for (let i = 0; i < 5; i++) await request(b.app).get('/me').set('Cookie', cookie).expect(200)
      }),
    )
    expect(sent).toEqual([])
  } finally {
    channel.start.unsubscribe(onStart)
  }
  expect(started).toEqual(Array(5).fill('authenticate'))
})

test('a hot session due for renewal is renewed: a hit that must write is read and written as without a near-cache', async () => {
  const renewing = testApp(cacheB, { renewAfterMs: 300 })
  const cookie = await loginOnA()
  await warmB(cookie)
  await request(renewing.app).get('/me').set('Cookie', cookie).expect(200)
  await sleep(400)
  const renewal = await request(renewing.app).get('/me').set('Cookie', cookie).expect(200)
  const renewed = sessionCookie(renewal)
  expect(renewed).toBeDefined()
  expect(`session=${renewed as string}`).not.toBe(cookie)
  await request(renewing.app)
    .get('/me')
    .set('Cookie', `session=${renewed as string}`)
    .expect(200)
})
