/**
 * Both session layers under a Redis ACL user confined to one key pattern (README, "How the data
 * is laid out in Redis"): every main flow works with only the documented commands, every key
 * either layer writes matches the pattern, Redis's ACL LOG records no refusal, and a key outside
 * the pattern is refused. On node-redis (with the near-cache, whose connection turns on client
 * tracking) and on ioredis.
 */
import IORedis from 'ioredis'
import { createClient } from 'redis'
import request from 'supertest'
import { RedisCache, RedisSessionStore, type RedisClient } from 'sessionvault'
import { privateRedis, PRIVATE_REDIS_START_LIMIT_MS, type PrivateRedis } from './helpers/redis'
import { Clock, cookieHeader, login, sessionCookie, statusWith, testApp } from './middleware/helpers'

/** The README's ACL line, but for its password. */
const ACL_RULES = [
  'resetkeys',
  '~myapp:*',
  'resetchannels',
  '-@all',
  '+@read',
  '+@write',
  '+@scripting',
  '+ping',
  '+time',
  '+client|tracking',
]
const USER = 'myapp'
const PASSWORD = 'acl-test-password'
const MINUTE = 60_000

let redis: PrivateRedis

beforeAll(async () => {
  redis = await privateRedis()
  await redis.client.sendCommand(['ACL', 'SETUSER', USER, 'on', `>${PASSWORD}`, ...ACL_RULES])
}, PRIVATE_REDIS_START_LIMIT_MS)
afterAll(() => redis.stop())
beforeEach(async () => {
  await redis.client.flushAll()
  await redis.client.sendCommand(['ACL', 'LOG', 'RESET'])
})

/** Every key in Redis (as the admin sees it). */
async function allKeys(): Promise<string[]> {
  return (await redis.client.keys('*')).sort()
}

/** What the ACL refused since the test began: `command` or `key` entries, with the command or key. */
async function refusals(): Promise<string[]> {
  const log = await redis.client.sendCommand<unknown[]>(['ACL', 'LOG'])
  return log.map((entry) => {
    // A flat list of fields and values (RESP2), or a map (RESP3).
    const fields = new Map<string, unknown>()
    if (Array.isArray(entry)) for (let i = 0; i < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1])
    else for (const [field, value] of entry instanceof Map ? entry : Object.entries(entry as object)) fields.set(String(field), value)
    return `${String(fields.get('reason'))} ${String(fields.get('object'))}`
  })
}

interface Family {
  name: string
  connect(): Promise<{ client: RedisClient; close(): Promise<unknown> }>
  nearCache: boolean
}

const FAMILIES: Family[] = [
  {
    name: 'node-redis, with the near-cache',
    nearCache: true,
    async connect() {
      const client = createClient({ url: redis.server.url.replace('redis://', `redis://${USER}:${PASSWORD}@`) })
      client.on('error', () => undefined)
      await client.connect()
      return { client, close: () => client.close() }
    },
  },
  {
    name: 'ioredis',
    nearCache: false,
    async connect() {
      const client = new IORedis({ port: redis.server.port, host: '127.0.0.1', username: USER, password: PASSWORD, lazyConnect: true })
      client.on('error', () => undefined)
      await client.connect()
      return { client, close: () => client.quit() }
    },
  },
]

describe.each(FAMILIES)('as an ACL user confined to ~myapp:*, on $name', (family) => {
  let connection: Awaited<ReturnType<Family['connect']>>
  let client: RedisClient
  beforeAll(async () => {
    connection = await family.connect()
    client = connection.client
  })
  afterAll(() => connection.close())

  test('the express-session store: save, read, touch, list, count, per-user sessions, destroy, clear', async () => {
    const store = new RedisSessionStore({
      client,
      prefix: 'myapp:sess',
      userOf: (session) => (session as unknown as { owner?: string }).owner,
      touchAfterMs: 0,
      ...(family.nearCache ? { nearCache: { maxEntries: 10 } } : {}),
    })
    try {
      const session = (user: string) =>
        ({ cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, owner: user }) as never
      await store.set('sid-1', session('ada'))
      await store.set('sid-2', session('ada'))
      await store.set('sid-3', session('bob'))
      expect(await store.get('sid-1')).toMatchObject({ owner: 'ada' })
      if (family.nearCache) {
        // The near-cache's own connection (client tracking) works under the ACL too: reads come from memory.
        const cache = store.cache as RedisCache
        for (let i = 0; i < 100 && (cache.nearCacheStats?.hits ?? 0) === 0; i++) {
          await store.get('sid-1')
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        expect(cache.nearCacheStats?.hits).toBeGreaterThan(0)
      }
      await store.touch('sid-1', session('ada'))
      expect(await store.all()).toHaveLength(3)
      expect(await store.length()).toBe(3)
      expect(await store.ids()).toHaveLength(3)
      expect((await store.listUserSessions('ada')).map((found) => found.id).sort()).toEqual(
        [store.storedId('sid-1'), store.storedId('sid-2')].sort(),
      )
      const keys = await allKeys()
      expect(keys.length).toBeGreaterThan(0)
      expect(keys.filter((key) => !key.startsWith('myapp:'))).toEqual([])
      expect(await store.destroyUserSession('ada', store.storedId('sid-2'))).toBe(true)
      await store.destroy('sid-1')
      expect(await store.get('sid-1')).toBeNull()
      expect(await store.destroyUserSessions('bob')).toBe(1)
      await store.set('sid-4', session('eve'))
      await store.clear()
      expect(await store.length()).toBe(0)
      expect((await allKeys()).filter((key) => !key.startsWith('myapp:'))).toEqual([])
      expect(await refusals()).toEqual([])
    } finally {
      await store.close()
    }
  })

  test('the token middleware: login, request, renewal, logout, sign out everywhere', async () => {
    const clock = new Clock()
    const cache = new RedisCache({
      client,
      ttlMs: 60 * MINUTE,
      namespace: 'myapp:tokens',
      tagDepth: 3,
      ...(family.nearCache ? { nearCache: { maxEntries: 10 } } : {}),
    })
    try {
      const { app, auth } = testApp(cache, { now: clock.now, ttlMs: 30 * MINUTE, renewAfterMs: 15 * MINUTE })
      const token = await login(app, { id: 'ada' })
      expect(await statusWith(app, token)).toBe(200)
      clock.advance(16 * MINUTE)
      const renewed = sessionCookie(await request(app).get('/me').set(cookieHeader(token)).expect(200))
      expect(renewed).toEqual(expect.any(String))
      expect(renewed).not.toBe(token)
      expect(await statusWith(app, renewed as string)).toBe(200)
      const other = await login(app, { id: 'ada', fingerprint: 'laptop' })
      expect((await request(app).get('/sessions').set(cookieHeader(other)).expect(200)).body).toHaveLength(2)
      expect((await allKeys()).filter((key) => !key.startsWith('myapp:'))).toEqual([])
      await request(app).post('/logout').set(cookieHeader(other)).expect(200)
      expect(await statusWith(app, other)).toBe(401)
      await login(app, { id: 'ada', fingerprint: 'phone' })
      expect(await auth.revokeAllSessions('ada')).toBe(2)
      expect(await statusWith(app, renewed as string)).toBe(401)
      expect(await refusals()).toEqual([])
    } finally {
      await cache.close()
    }
  })

  test('a key outside the pattern is refused', async () => {
    const outside = new RedisCache({ client, ttlMs: 60_000, namespace: 'otherapp' })
    await expect(outside.put('k', 1)).rejects.toMatchObject({ code: 'REDIS_ERROR', message: expect.stringMatching(/NOPERM/) })
    expect(await allKeys()).toEqual([])
    expect(await refusals()).toEqual([expect.stringMatching(/^key otherapp:/)])
  })
})

test('waitForReplicas needs +wait besides: with it, a durable delete is answered by WAIT (here, with no replica, NOT_REPLICATED); without, refused', async () => {
  await redis.client.sendCommand(['ACL', 'SETUSER', `${USER}-durable`, 'on', `>${PASSWORD}`, ...ACL_RULES, '+wait'])
  const connect = async (user: string) => {
    const client = createClient({ url: redis.server.url.replace('redis://', `redis://${user}:${PASSWORD}@`) })
    client.on('error', () => undefined)
    await client.connect()
    return client
  }
  const [durable, plain] = await Promise.all([connect(`${USER}-durable`), connect(USER)])
  const caches = [durable, plain].map((client) => new RedisCache({ client, ttlMs: 60_000, namespace: 'myapp:durable' }))
  try {
    const wait = { waitForReplicas: { replicas: 1, timeoutMs: 50 } }
    await expect(caches[0]?.delete('k', wait)).rejects.toMatchObject({ code: 'NOT_REPLICATED' })
    await expect(caches[1]?.delete('k', wait)).rejects.toMatchObject({ message: expect.stringMatching(/NOPERM|permission/) })
  } finally {
    await Promise.all(caches.map((cache) => cache.close()))
    await Promise.all([durable.close(), plain.close()])
  }
})
