/**
 * Durable logouts through `sessions()`: with `waitForReplicas`, a logout is answered once a real
 * replica has the ending; when the replica does not acknowledge in time, the request gets the
 * 503 answer (the user logs out again), and with `logins: true` the same holds for a login.
 */
import request from 'supertest'
import { RedisCache } from 'sessionvault'
import { cookieHeader, login, statusWith, testApp } from './helpers'
import { replicatedRedis, SESSION_CACHE, type ReplicatedRedis } from '../helpers/redis'

let redis: ReplicatedRedis
let cache: RedisCache

beforeAll(async () => {
  redis = await replicatedRedis()
  cache = new RedisCache({ ...SESSION_CACHE, client: await redis.connect() })
})
afterAll(async () => {
  await cache?.close()
  await redis?.stop()
})

/** The session records the replica holds (index keys aside). */
async function recordsOnReplica(): Promise<string[]> {
  return (await redis.replicaClient.keys('sessions:*')).filter((key) => !key.includes(':_i:'))
}

test('a logout is answered once the replica no longer has the session', async () => {
  const { app } = testApp(cache, { waitForReplicas: { replicas: 1, timeoutMs: 1_000 } })
  const token = await login(app, { id: 'ada' })
  await request(app).post('/logout').set(cookieHeader(token)).expect(200)
  expect(await recordsOnReplica()).toEqual([])
  expect(await statusWith(app, token)).toBe(401)
})

test('a replica that does not acknowledge in time: the logout is answered 503, and the session is ended on the master', async () => {
  const { app } = testApp(cache, { waitForReplicas: { replicas: 1, timeoutMs: 300 } })
  const token = await login(app, { id: 'bob' })
  const res = await redis.withReplicaPaused(() => request(app).post('/logout').set(cookieHeader(token)))
  expect(res.status).toBe(503)
  expect(res.body).toEqual({ error: { code: 'SESSIONS_UNAVAILABLE', message: expect.any(String) } })
  expect(await statusWith(app, token)).toBe(401)
})

test('with `logins: true`, a login is answered once the replica has the session, or 503 when it does not acknowledge in time', async () => {
  const { app } = testApp(cache, { waitForReplicas: { replicas: 1, timeoutMs: 300, logins: true } })
  await login(app, { id: 'cy' })
  expect((await recordsOnReplica()).length).toBe(1)
  const refused = await redis.withReplicaPaused(() => request(app).post('/login').send({ id: 'dee' }))
  expect(refused.status).toBe(503)
})

test('sign out everywhere waits for the replica too', async () => {
  const { app, auth } = testApp(cache, { waitForReplicas: { replicas: 1, timeoutMs: 1_000 } })
  await login(app, { id: 'eve', fingerprint: 'laptop' })
  await login(app, { id: 'eve', fingerprint: 'phone' })
  const before = (await recordsOnReplica()).length
  expect(await auth.revokeAllSessions('eve')).toBe(2)
  expect((await recordsOnReplica()).length).toBe(before - 2)
  const error = await redis
    .withReplicaPaused(async () => {
      await login(app, { id: 'eve' })
      return auth.revokeAllSessions('eve').then(
        () => undefined,
        (caught: unknown) => caught,
      )
    })
    .catch((caught: unknown) => caught)
  expect((error as { code?: string }).code).toBe('NOT_REPLICATED')
})

test('revokeSession() and revokeOtherSessions() wait for the replica too: 503 when it does not acknowledge, the session ended on the master', async () => {
  const { app } = testApp(cache, { waitForReplicas: { replicas: 1, timeoutMs: 300 } })
  const laptop = await login(app, { id: 'fay', fingerprint: 'laptop' })
  const phone = await login(app, { id: 'fay', fingerprint: 'phone' })
  const tablet = await login(app, { id: 'fay', fingerprint: 'tablet' })
  const phoneId = (
    (await request(app).get('/sessions').set(cookieHeader(phone)).expect(200)).body as { id: string; current: boolean }[]
  ).find((listed) => listed.current)?.id as string
  const revoked = await redis.withReplicaPaused(() => request(app).delete(`/sessions/${phoneId}`).set(cookieHeader(laptop)))
  expect(revoked.status).toBe(503)
  expect(await statusWith(app, phone)).toBe(401)
  const others = await redis.withReplicaPaused(() => request(app).post('/sessions/revoke-others').set(cookieHeader(laptop)))
  expect(others.status).toBe(503)
  expect(await statusWith(app, tablet)).toBe(401)
  expect(await statusWith(app, laptop)).toBe(200)
})
