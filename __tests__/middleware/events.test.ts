// The middleware's session events (created, renewed, ended with its reason), on the process that
// made the change: in memory and on a real Redis, on an injected clock.
import request from 'supertest'
import type { Cache } from 'sessionvault/cache'
import { MemoryCache } from 'sessionvault/cache'
import { asyncHandler } from 'sessionvault/middleware'
import type { SessionEndedEvent, SessionLifeEvent } from 'sessionvault/middleware'
import type { ExpressApp } from '../helpers/express-majors'
import { Clock, cookieHeader, login, sessionCookie, testApp, type TestApp, type TestUser } from './helpers'
import type { SessionsOptions } from 'sessionvault/middleware'
import { eventually, sleep } from '../helpers/waiting'
import { standaloneBackend, type RedisBackend } from '../helpers/redis'

const MINUTE = 60_000
const timing = { ttlMs: 30 * MINUTE, renewAfterMs: 15 * MINUTE, rotationGraceMs: 10_000 }

let redis: RedisBackend
beforeAll(async () => {
  redis = await standaloneBackend()
})
afterAll(() => redis.stop())

describeEvents('in memory', async (clock) => new MemoryCache({ ttlMs: MINUTE, now: clock.now }))
describeEvents('on Redis', async () => {
  await redis.flush()
  return redis.cache()
})

function describeEvents(name: string, cacheFor: (clock: Clock) => Promise<Cache>): void {
  describe(`session events ${name}`, () => {
    let clock: Clock
    let auth: TestApp['auth']
    let app: ExpressApp
    let created: SessionLifeEvent[]
    let renewed: SessionLifeEvent[]
    let ended: SessionEndedEvent[]

    beforeEach(async () => {
      clock = new Clock()
      ;({ app, auth } = testApp(await cacheFor(clock), { ...timing, now: clock.now }))
      created = []
      renewed = []
      ended = []
      auth.on('created', (event) => created.push(event))
      auth.on('renewed', (event) => renewed.push(event))
      auth.on('ended', onEnded)
    })
    // An `ended` listener keeps the app sweeping: stopped, so that it claims no later test's sessions.
    afterEach(() => auth.off('ended', onEnded))

    function onEnded(event: SessionEndedEvent): void {
      ended.push(event)
    }

    async function loginAs(body: Record<string, string> = {}): Promise<{ token: string; id: string; expiresAt: number }> {
      const res = await request(app).post('/login').send(body).expect(200)
      const session = (res.body as { session: { id: string; expiresAt: number } }).session
      return { token: sessionCookie(res) as string, ...session }
    }

    test('a login emits created, with the session id, the user id, the time and the expiry', async () => {
      const { id, expiresAt } = await loginAs()
      expect(created).toEqual([{ sessionId: id, userId: 'alice', at: clock.time, expiresAt }])
      expect(expiresAt).toBe(clock.time + timing.ttlMs)
    })

    test('a renewal emits renewed, with the new expiry and never a token', async () => {
      const { token, id } = await loginAs()
      clock.advance(timing.renewAfterMs + 1)
      const res = await request(app).get('/me').set(cookieHeader(token)).expect(200)
      const next = sessionCookie(res) as string
      expect(renewed).toEqual([{ sessionId: id, userId: 'alice', at: clock.time, expiresAt: clock.time + timing.ttlMs }])
      const payloads = JSON.stringify([created, renewed])
      // A token is `<user key>.<session id>.<secret>` and its signature: the secret and the signature never appear.
      for (const part of [...token.split('.').slice(2), ...next.split('.').slice(2)]) expect(payloads).not.toContain(part)
    })

    test('a request that does not renew emits nothing', async () => {
      const { token } = await loginAs()
      await request(app).get('/me').set(cookieHeader(token)).expect(200)
      expect(renewed).toEqual([])
      expect(ended).toEqual([])
    })

    test('logout emits ended with reason logout', async () => {
      const { token, id } = await loginAs()
      clock.advance(1_000)
      await request(app).post('/logout').set(cookieHeader(token)).expect(200)
      expect(ended).toEqual([{ sessionId: id, userId: 'alice', at: clock.time, reason: 'logout' }])
    })

    test('revoking another session, the others, or all of a user emits ended with reason revoked, once per session', async () => {
      const first = await loginAs({ device: 'a' })
      const second = await loginAs({ device: 'b' })
      const third = await loginAs({ device: 'c' })
      await request(app).delete(`/sessions/${second.id}`).set(cookieHeader(first.token)).expect(200)
      expect(ended).toEqual([{ sessionId: second.id, userId: 'alice', at: clock.time, reason: 'revoked' }])
      await request(app).post('/sessions/revoke-others').set(cookieHeader(first.token)).expect(200)
      expect(ended.map((event) => [event.sessionId, event.reason])).toEqual([
        [second.id, 'revoked'],
        [third.id, 'revoked'],
      ])
      expect(await auth.revokeAllSessions('alice')).toBe(1)
      expect(ended.map((event) => [event.sessionId, event.reason])).toEqual([
        [second.id, 'revoked'],
        [third.id, 'revoked'],
        [first.id, 'revoked'],
      ])
    })

    test("revokeSession() of the request's own session emits ended with reason logout", async () => {
      const { token, id } = await loginAs()
      await request(app).delete(`/sessions/${id}`).set(cookieHeader(token)).expect(200)
      expect(ended).toEqual([{ sessionId: id, userId: 'alice', at: clock.time, reason: 'logout' }])
    })

    test('revoking a session that is not there emits nothing', async () => {
      const { token } = await loginAs()
      await request(app).delete('/sessions/not-a-session').set(cookieHeader(token)).expect(200)
      expect(ended).toEqual([])
    })

    test('a login on a request that has a session ends that one with reason replaced', async () => {
      const { token, id } = await loginAs()
      const res = await request(app).post('/login').set(cookieHeader(token)).send({ id: 'bob', name: 'Bob' }).expect(200)
      const bob = (res.body as { session: { id: string } }).session
      expect(ended).toEqual([{ sessionId: id, userId: 'alice', at: clock.time, reason: 'replaced' }])
      expect(created.map((event) => [event.sessionId, event.userId])).toEqual([
        [id, 'alice'],
        [bob.id, 'bob'],
      ])
    })

    test('a login on a request whose session was revoked meanwhile (by another server) emits no replaced for it: it ended once', async () => {
      const { token, id } = await loginAs()
      app.post(
        '/login-after-revoke',
        asyncHandler(async (req, res) => {
          await auth.revokeAllSessions('alice')
          // Another device: the request's own session is the one the login would end.
          res.json(await req.auth.login({ id: 'alice', name: 'Alice' }, { fingerprint: 'another-device' }))
        }),
      )
      await request(app).post('/login-after-revoke').set(cookieHeader(token)).expect(200)
      expect(ended.map((event) => [event.sessionId, event.reason])).toEqual([[id, 'revoked']])
    })

    test('a listener removed with off() hears nothing more', async () => {
      const heard: SessionLifeEvent[] = []
      const listener = (event: SessionLifeEvent) => heard.push(event)
      auth.on('created', listener)
      await login(app)
      auth.off('created', listener)
      await login(app, { fingerprint: 'another-device' })
      expect(heard).toHaveLength(1)
      expect(created).toHaveLength(2)
    })
  })
}

describe('session events with maxSessionsPerUser', () => {
  test.each([
    ['in memory', async (clock: Clock): Promise<Cache> => new MemoryCache({ ttlMs: MINUTE, now: clock.now })],
    [
      'on Redis',
      async (): Promise<Cache> => {
        await redis.flush()
        return redis.cache()
      },
    ],
  ])('%s: a login beyond the limit emits ended with reason evicted for the session idle longest', async (_name, cacheFor) => {
    const clock = new Clock()
    const { app, auth } = testApp(await cacheFor(clock), { ...timing, now: clock.now, maxSessionsPerUser: 2 })
    const ended: SessionEndedEvent[] = []
    auth.on('ended', (event) => ended.push(event))
    const ids: string[] = []
    for (const device of ['a', 'b', 'c']) {
      const res = await request(app).post('/login').send({ device }).expect(200)
      ids.push((res.body as { session: { id: string } }).session.id)
      clock.advance(1_000)
    }
    expect(ended).toEqual([{ sessionId: ids[0], userId: 'alice', at: clock.time - 1_000, reason: 'evicted' }])
  })
})

describe('a login on the same device', () => {
  test('ends the session it overwrites with reason replaced, then creates the new one under the same id', async () => {
    const clock = new Clock()
    const { app, auth } = testApp(new MemoryCache({ ttlMs: MINUTE, now: clock.now }), { ...timing, now: clock.now })
    const heard: string[] = []
    auth.on('created', ({ sessionId }) => heard.push(`created ${sessionId}`))
    auth.on('ended', ({ sessionId, reason }) => heard.push(`ended ${sessionId} ${reason}`))
    const first = await request(app).post('/login').send({ fingerprint: 'laptop' }).expect(200)
    const id = (first.body as { session: { id: string } }).session.id
    await request(app).post('/login').send({ fingerprint: 'laptop' }).expect(200)
    expect(heard).toEqual([`created ${id}`, `ended ${id} replaced`, `created ${id}`])
  })
})

describe('expired events', () => {
  const SWEEP_MS = 50
  /** Short sessions on a real clock: what Redis expires is what the sweep finds. */
  const short = { ttlMs: 2_000, renewAfterMs: 400, rotationGraceMs: 0, expirySweepMs: SWEEP_MS }
  /** Generous: every sweep that could deliver an event has run by then. */
  const SETTLED_MS = 40 * SWEEP_MS

  test('in memory: a session whose time runs out emits ended with reason expired, once, at its expiry', async () => {
    const clock = new Clock()
    const { app, auth } = testApp(new MemoryCache({ ttlMs: MINUTE, now: clock.now }), {
      ...timing,
      now: clock.now,
      expirySweepMs: SWEEP_MS,
    })
    const ended: SessionEndedEvent[] = []
    auth.on('ended', (event) => ended.push(event))
    const res = await request(app).post('/login').send({}).expect(200)
    const { id, expiresAt } = (res.body as { session: { id: string; expiresAt: number } }).session
    clock.advance(timing.ttlMs + 1)
    await eventually(() => ended.length > 0, 5_000, 'the expired event')
    await sleep(SETTLED_MS)
    expect(ended).toEqual([{ sessionId: id, userId: 'alice', at: expiresAt, reason: 'expired' }])
  })

  describe('on Redis', () => {
    let cache: Cache
    /** Listeners to remove after each test, so that no app of an earlier test sweeps this one's sessions. */
    let listening: (() => void)[]
    beforeEach(async () => {
      await redis.flush()
      cache = await redis.cache()
      listening = []
    })
    afterEach(() => {
      for (const stop of listening) stop()
    })

    function listen(auth: TestApp['auth'], heard: SessionEndedEvent[]): void {
      const listener = (event: SessionEndedEvent) => heard.push(event)
      auth.on('ended', listener)
      listening.push(() => auth.off('ended', listener))
    }

    async function expiringApp(options: Partial<SessionsOptions<TestUser>> = {}) {
      const { app, auth } = testApp(cache, { ...short, ...options })
      const ended: SessionEndedEvent[] = []
      listen(auth, ended)
      return { app, auth, ended }
    }

    test('once, with the user id, within the sweep bound after the expiry', async () => {
      const { app, ended } = await expiringApp()
      const res = await request(app).post('/login').send({ id: 'ada@example.com' }).expect(200)
      const { id } = (res.body as { session: { id: string } }).session
      const loggedInAt = Date.now()
      await eventually(() => ended.length > 0, 10_000, 'the expired event')
      const heardAt = Date.now()
      await sleep(SETTLED_MS)
      expect(ended).toEqual([{ sessionId: id, userId: 'ada@example.com', at: expect.any(Number), reason: 'expired' }])
      const at = ended[0]?.at as number
      expect(at).toBeGreaterThanOrEqual(loggedInAt + short.ttlMs - 1_000)
      expect(at).toBeLessThanOrEqual(loggedInAt + short.ttlMs)
      // README's bound: two sweep intervals (here 100 ms) with ample room on a loaded machine.
      expect(heardAt - at).toBeLessThan(1_000)
    })

    test('the marker never names the user: no key holds the id, in plain text or in base64url', async () => {
      const { app } = await expiringApp()
      await request(app).post('/login').send({ id: 'ada@example.com' }).expect(200)
      const keys = (await redis.dump()).map((item) => item.key).join('\n')
      expect(keys).toContain('{.e:.u#')
      expect(keys).not.toContain('ada@example.com')
      expect(keys).not.toContain(Buffer.from('ada@example.com').toString('base64url'))
    })

    test('a renewed session is not reported at its first expiry, but once at the one its renewal set', async () => {
      const { app, ended } = await expiringApp()
      const login = await request(app).post('/login').send({}).expect(200)
      const firstExpiry = (login.body as { session: { expiresAt: number } }).session.expiresAt
      await sleep(short.renewAfterMs + 100)
      const renewal = await request(app)
        .get('/me')
        .set(cookieHeader(sessionCookie(login) as string))
        .expect(200)
      const renewedExpiry = (renewal.body as { session: { expiresAt: number } }).session.expiresAt
      expect(renewedExpiry).toBeGreaterThan(firstExpiry + short.renewAfterMs)
      await eventually(() => ended.length > 0, 10_000, 'the expired event')
      await sleep(SETTLED_MS)
      expect(ended).toHaveLength(1)
      expect(ended[0]?.at).toBeGreaterThan(firstExpiry + short.renewAfterMs)
    })

    test('a session that ended otherwise (logout) is never reported expired', async () => {
      const { app, ended } = await expiringApp()
      const login = await request(app).post('/login').send({}).expect(200)
      await request(app)
        .post('/logout')
        .set(cookieHeader(sessionCookie(login) as string))
        .expect(200)
      await sleep(short.ttlMs + SETTLED_MS)
      expect(ended.map((event) => event.reason)).toEqual(['logout'])
    })

    test('markers written under a secret that is now second are still opened; under one no longer listed, dropped with no event', async () => {
      const oldSecret = 'the old secret, long and random enough: 8f3a91c2d7e4b605'
      const otherSecret = 'another secret, long and random enough: 5c0e7a2d94b1f836'
      const newSecret = 'the new secret, long and random enough: 1b6e0d9c4a7f3258'
      for (const [secret, id] of [
        [oldSecret, 'kept'],
        [otherSecret, 'forgotten'],
      ] as const) {
        const writer = testApp(cache, { ...short, secret })
        // Listening only while it logs in: its markers are written, and it sweeps nothing after.
        const listener = () => undefined
        writer.auth.on('ended', listener)
        await request(writer.app).post('/login').send({ id }).expect(200)
        writer.auth.off('ended', listener)
      }
      const rotated = testApp(cache, { ...short, secret: [newSecret, oldSecret] })
      const heard: SessionEndedEvent[] = []
      listen(rotated.auth, heard)
      // Waited for, not slept: on a loaded machine the sweep that finds it may come late.
      await eventually(() => heard.length > 0, short.ttlMs + 10_000, 'the expired event of the session under the old secret')
      await sleep(SETTLED_MS)
      expect(heard.map((event) => [event.userId, event.reason])).toEqual([['kept', 'expired']])
      // The marker nobody can open is gone all the same: nothing is left to claim.
      expect((await redis.dump()).map((item) => item.key).filter((key) => key.includes('{.e:.u#'))).toEqual([])
    })

    test('without an ended listener, a login writes no marker', async () => {
      const { app } = testApp(cache, short)
      await request(app).post('/login').send({}).expect(200)
      const keys = (await redis.dump()).map((item) => item.key)
      expect(keys.filter((key) => key.includes('{.e:.u#'))).toEqual([])
      expect(keys.some((key) => key.includes('{.u:.'))).toBe(true)
    })
  })
})
