// The token middleware on a full Redis (maxmemory reached, noeviction), through Express: what
// users have keeps working, a renewal falls back to the token in use, logouts work and free
// memory, and a new login gets the documented answer through the error handler, never a
// failure after the response. On a redis-server of this file's own, filled with filler keys
// until it refuses writes.
import request from 'supertest'
import { isCacheError, isFullError } from 'sessionvault'
import { privateRedis, PRIVATE_REDIS_START_LIMIT_MS, type PrivateRedis, type StandaloneClient } from '../helpers/redis'
import { layoutProblems, snapshot } from './namespace-check'
import { login, open, RENEW_AFTER_MS, sessionCookie, tokenApp, tokenParts, type TokenApp } from './token-app'

const NAMESPACE = 'full'

let redis: PrivateRedis
let admin: StandaloneClient
let app: TokenApp
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => void unhandled.push(reason)

beforeAll(async () => {
  redis = await privateRedis()
  admin = redis.client
  process.on('unhandledRejection', onUnhandled)
}, PRIVATE_REDIS_START_LIMIT_MS)
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  await redis?.stop()
})

beforeEach(async () => {
  await admin.configSet('maxmemory', '0')
  await admin.flushAll()
  app = tokenApp(await redis.connect(), NAMESPACE)
  unhandled.length = 0
})

afterEach(async () => {
  // Whatever happened, nothing failed once a response had begun, and no promise was left unhandled.
  expect(app.errors.filter((seen) => seen.headersSent)).toEqual([])
  expect(unhandled).toEqual([])
  expect(layoutProblems(await snapshot(NAMESPACE, [(args) => admin.sendCommand(args)]))).toEqual([])
  await app.cache.close()
})

const FILLER = 'x'.repeat(10_000)

/**
 * Caps Redis's memory a little above what it uses now and writes filler until it refuses a
 * write. Then pins the cap a little below what it uses: a refused write's own buffer is freed
 * after the refusal, which could otherwise leave just enough room for a small write.
 */
async function fillRedis(): Promise<void> {
  const used = usedMemory(await admin.info('memory'))
  await admin.configSet({ maxmemory: String(used + 1_000_000), 'maxmemory-policy': 'noeviction' })
  for (let i = 0; ; i++) {
    if (i === 10_000) throw new Error('Redis never filled up')
    try {
      await admin.set(`filler:${i}`, FILLER)
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('OOM')) break
      throw error
    }
  }
  await admin.configSet('maxmemory', String(usedMemory(await admin.info('memory')) - 100_000))
}

function usedMemory(info: string): number {
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1])
}

async function expectStillFull(): Promise<void> {
  await expect(admin.set('probe', FILLER)).rejects.toThrow(/^OOM/)
}

/** The Redis key of a token's session record. */
async function recordKey(token: string): Promise<string> {
  const keys = await admin.keys(`${NAMESPACE}:*:.${tokenParts(token).sessionId}`)
  expect(keys).toHaveLength(1)
  return keys[0] as string
}

test('an existing session keeps working, and a renewal due serves the token in use with no new cookie', async () => {
  const token = await login(app.app, 'alice')
  await fillRedis()

  for (let i = 0; i < 3; i++) expect(await open(app.app, token)).toMatchObject({ status: 200, userId: 'alice' })
  app.clock.advance(RENEW_AFTER_MS + 1)
  const due = await request(app.app).get('/me').set('Cookie', `session=${token}`).expect(200)

  expect(due.body.user.id).toBe('alice')
  expect(sessionCookie(due)).toBeUndefined()
  expect(await open(app.app, token)).toMatchObject({ status: 200, userId: 'alice' })
  await expectStillFull()
  expect(app.errors).toEqual([])
})

test('a new login gets the onUnavailable answer: the OOM CacheError reaches the error handler, and nothing is written', async () => {
  await fillRedis()
  const keys = await admin.dbSize()

  const res = await request(app.app).post('/login').send({ id: 'alice', name: 'Alice' })

  expect(res.status).toBe(503)
  expect(res.headers['retry-after']).toBe('1')
  expect(res.body).toEqual({ error: { code: 'SESSIONS_UNAVAILABLE', message: expect.any(String) } })
  expect(sessionCookie(res)).toBeUndefined()
  expect(app.errors).toHaveLength(1)
  const [{ error, headersSent } = { error: undefined, headersSent: true }] = app.errors
  expect(headersSent).toBe(false)
  expect(isCacheError(error) && error.code).toBe('REDIS_ERROR')
  expect(isFullError(error)).toBe(true)
  expect(String((error as Error).message)).toMatch(/OOM/)
  expect(await admin.dbSize()).toBe(keys)
  await expectStillFull()
})

test('a logout works and frees memory: the record goes, no tombstone takes its place', async () => {
  const laptop = await login(app.app, 'alice', 'laptop')
  const phone = await login(app.app, 'alice', 'phone')
  const key = await recordKey(laptop)
  await fillRedis()
  const keys = await admin.dbSize()
  expect(await admin.memoryUsage(key)).toBeGreaterThan(0)

  const res = await request(app.app).post('/logout').set('Cookie', `session=${laptop}`).expect(200)

  expect(sessionCookie(res)).toBe('')
  expect(await admin.exists(key)).toBe(0)
  expect(await admin.dbSize()).toBe(keys - 1) // the record, and nothing written in its place
  expect((await open(app.app, laptop)).status).toBe(401)
  expect(await open(app.app, phone)).toMatchObject({ status: 200, userId: 'alice' })
  await expectStillFull()
})

test('a token renewed before Redis filled up works: its first request is served though its adoption cannot be written', async () => {
  const old = await login(app.app, 'alice')
  app.clock.advance(RENEW_AFTER_MS + 1)
  const renewed = (await open(app.app, old)).renewed as string
  expect(renewed).toBeDefined()
  await fillRedis()

  for (const token of [renewed, renewed, old]) expect(await open(app.app, token)).toMatchObject({ status: 200, userId: 'alice' })
  await expectStillFull()
  expect(app.errors).toEqual([])
})

test('signing a user out everywhere (revokeAllSessions) works and frees memory', async () => {
  const tokens = [await login(app.app, 'alice', 'laptop'), await login(app.app, 'alice', 'phone')]
  const bob = await login(app.app, 'bob')
  const keys = await Promise.all(tokens.map(recordKey))
  await fillRedis()

  const res = await request(app.app).post('/admin/users/alice/revoke-all')

  expect(res.body).toEqual({ revoked: 2 })
  expect(res.status).toBe(200)
  for (const token of tokens) expect((await open(app.app, token)).status).toBe(401)
  expect(await admin.exists(keys)).toBe(0)
  expect(await open(app.app, bob)).toMatchObject({ status: 200, userId: 'bob' })
  await expectStillFull()
})

// Checked as revokeAllSessions above is; which sessions end and which stay differ, so each is written out.
test('signing out everywhere else (revokeOtherSessions) works and frees memory', async () => {
  const laptop = await login(app.app, 'alice', 'laptop')
  const others = [await login(app.app, 'alice', 'phone'), await login(app.app, 'alice', 'tablet')]
  const keys = await Promise.all(others.map(recordKey))
  await fillRedis()

  const res = await request(app.app).post('/sessions/revoke-others').set('Cookie', `session=${laptop}`)

  expect(res.body).toEqual({ revoked: 2 })
  expect(res.status).toBe(200)
  for (const token of others) expect((await open(app.app, token)).status).toBe(401)
  expect(await admin.exists(keys)).toBe(0)
  expect(await open(app.app, laptop)).toMatchObject({ status: 200, userId: 'alice' })
  await expectStillFull()
})
