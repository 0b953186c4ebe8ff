// Two app instances on one Redis, standalone and Cluster: what a user of a load-balanced app
// sees, on Express 4 and 5, and on every client family.
import type { ExpressApp } from '../helpers/express-majors'
import request from 'supertest'
import { encodePart } from '../../lib/cache/key-codec'
import type { SessionsMiddleware } from 'sessionvault/middleware'
import { hashSecret, splitToken, TOKEN_LENGTH } from '../../lib/middleware/token'
import { Clock, cookieHeader, login, sessionCookie, setCookieLines, statusWith, testApp, type DeviceMeta, type TestUser } from './helpers'
import { OTHER_FAMILIES } from '../helpers/client-families'
import { EXPRESS_5, EXPRESS_MAJORS, type ExpressMajor } from '../helpers/express-majors'
import { clusterBackend, standaloneBackend, useBackend, type RedisBackend } from '../helpers/redis'

describe.each(EXPRESS_MAJORS)('on $name', (express) => {
  describeFlows('standalone Redis', () => standaloneBackend(), express)
  describeFlows('a 3-master Redis Cluster', () => clusterBackend(), express)
})
// The client families on one Express: what they change is below the middleware.
for (const family of OTHER_FAMILIES) {
  describeFlows(`standalone Redis, through ${family.name}`, () => standaloneBackend(family), EXPRESS_5)
  describeFlows(`a 3-master Redis Cluster, through ${family.name}`, () => clusterBackend(family), EXPRESS_5)
}

function describeFlows(name: string, start: () => Promise<RedisBackend>, express: ExpressMajor): void {
  describe(`two app instances on ${name}`, () => {
    const backend = useBackend(start)
    let a: ExpressApp
    let b: ExpressApp
    let authB: SessionsMiddleware<TestUser, DeviceMeta>

    beforeAll(async () => {
      a = testApp(await backend.cache(), {}, express).app
      ;({ app: b, auth: authB } = testApp(await backend.cache(), {}, express))
    })

    test('a login on one instance is authenticated on the other', async () => {
      const token = await login(a, { id: 'alice', name: 'Alice' })
      const res = await request(b).get('/me').set(cookieHeader(token)).expect(200)
      expect(res.body.user).toEqual({ id: 'alice', name: 'Alice' })
      expect(res.body.session).toMatchObject({ userId: 'alice', id: expect.any(String), fingerprint: expect.any(String) })
    })

    test('a request without a session is not logged in', async () => {
      await request(b).get('/me').expect(401)
    })

    test('a logout on one instance is rejected on both, and clears the cookie', async () => {
      const token = await login(a)
      const res = await request(b).post('/logout').set(cookieHeader(token)).expect(200)
      expect(sessionCookie(res)).toBe('')
      expect(await statusWith(a, token)).toBe(401)
      expect(await statusWith(b, token)).toBe(401)
    })

    test('the cookie is __Host-session, HttpOnly, SameSite=Lax, Path=/, lives as long as the session, and is Secure by default', async () => {
      const secure = testApp(await backend.cache(), { cookie: {} }, express).app
      const [line] = setCookieLines(await request(secure).post('/login').send({}).expect(200))
      const [name, ...attributes] = (line as string).split('; ')
      expect(name).toMatch(/^__Host-session=./)
      expect(attributes.sort()).toEqual(['HttpOnly', 'Max-Age=1800', 'Path=/', 'SameSite=Lax', 'Secure'])
      const [plain] = setCookieLines(await request(a).post('/login').send({}).expect(200))
      expect(plain).toMatch(/^session=/)
      expect(plain).not.toMatch(/Secure/)
    })

    test('an API client logs in without a cookie and sends its token as a Bearer token', async () => {
      const res = await request(a).post('/login').send({ cookie: 'no' }).expect(200)
      expect(setCookieLines(res)).toEqual([])
      const { token } = res.body as { token: string }
      await request(b).get('/me').set('Authorization', `Bearer ${token}`).expect(200)
      await request(b)
        .get('/me')
        .set('Authorization', `Bearer ${token.slice(0, -2)}xx`)
        .expect(401)
    })

    test('Redis holds no token secret, before or after a renewal, and no user id in a key name: only hashes of them', async () => {
      const clock = new Clock()
      const timed = testApp(await backend.cache(), { now: clock.now, ttlMs: 60_000, renewAfterMs: 30_000 }, express).app
      const tokens = [await login(timed, { id: 'alice' }), await login(b, { id: 'bob' })]
      const api = await request(a).post('/login').send({ id: 'carol', cookie: 'no' }).expect(200)
      tokens.push((api.body as { token: string }).token)
      clock.advance(30_000)
      tokens.push(
        sessionCookie(
          await request(timed)
            .get('/me')
            .set(cookieHeader(tokens[0] as string))
            .expect(200),
        ) as string,
      )

      const dump = await backend.dump()
      const stored = dump.flatMap((item) => [item.key, ...item.texts]).join('\n')
      const keyNames = dump.map((item) => item.key).join('\n')
      // A record per session (three), and the index of each user's bucket.
      expect(dump.length).toBeGreaterThanOrEqual(4)
      for (const signed of tokens) {
        const raw = signed.slice(0, TOKEN_LENGTH)
        const { secret } = splitToken(raw) ?? { secret: 'unreadable token' }
        const bytes = Buffer.from(secret, 'base64url')
        const forms = [raw, signed, secret, encodePart(secret), bytes.toString('hex'), bytes.toString('base64'), bytes.toString('latin1')]
        for (const form of forms) expect(stored).not.toContain(form)
        // The scan does see the records: each session names the hash of a secret that opens it.
        expect(stored).toContain(hashSecret(secret))
      }
      for (const userId of ['alice', 'bob', 'carol']) expect(keyNames).not.toContain(userId)
    })

    test('a session renewed on one instance works on the other, and a logout there ends it', async () => {
      const clock = new Clock()
      const timed = { now: clock.now, ttlMs: 60_000, renewAfterMs: 30_000 }
      const [c, d] = [testApp(await backend.cache(), timed, express).app, testApp(await backend.cache(), timed, express).app]
      const token = await login(c)
      clock.advance(30_000)
      const renewed = sessionCookie(await request(d).get('/me').set(cookieHeader(token)).expect(200)) as string
      expect(renewed).not.toBe(token)
      expect(await statusWith(c, renewed)).toBe(200)
      await request(c).post('/logout').set(cookieHeader(renewed)).expect(200)
      expect(await statusWith(d, renewed)).toBe(401)
      expect(await statusWith(d, token)).toBe(401)
    })

    describe('devices', () => {
      test('two logins of one user list two sessions with their metadata', async () => {
        const laptop = await login(a, { device: 'laptop' })
        await login(b, { device: 'phone' })
        const res = await request(b).get('/sessions').set(cookieHeader(laptop)).expect(200)
        const list = res.body as { metadata: DeviceMeta; current: boolean; id: string; fingerprint: string }[]
        expect(list.map((item) => [item.metadata.device, item.current])).toEqual([
          ['laptop', true],
          ['phone', false],
        ])
        expect(new Set(list.map((item) => item.fingerprint)).size).toBe(2)
      })

      test("revoking one session from another device's instance takes effect on its next request", async () => {
        const laptop = await login(a, { device: 'laptop' })
        const phone = await login(b, { device: 'phone' })
        const phoneId = (await request(b).get('/me').set(cookieHeader(phone))).body.session.id as string
        const res = await request(a).delete(`/sessions/${phoneId}`).set(cookieHeader(laptop)).expect(200)
        expect(res.body).toEqual({ revoked: true })
        expect(await statusWith(b, phone)).toBe(401)
        expect(await statusWith(a, phone)).toBe(401)
        expect(await statusWith(b, laptop)).toBe(200)
      })

      test("a user cannot revoke another user's session", async () => {
        const alice = await login(a, { id: 'alice' })
        const bob = await login(a, { id: 'bob' })
        const bobId = (await request(a).get('/me').set(cookieHeader(bob))).body.session.id as string
        expect((await request(b).delete(`/sessions/${bobId}`).set(cookieHeader(alice))).body).toEqual({ revoked: false })
        expect(await statusWith(b, bob)).toBe(200)
      })

      test('revoking the other sessions, from any instance, keeps only the current one', async () => {
        const laptop = await login(a, { device: 'laptop' })
        const phone = await login(b, { device: 'phone' })
        const tablet = await login(a, { device: 'tablet' })
        const res = await request(b).post('/sessions/revoke-others').set(cookieHeader(phone)).expect(200)
        expect(res.body).toEqual({ revoked: 2 })
        for (const app of [a, b]) {
          expect(await statusWith(app, laptop)).toBe(401)
          expect(await statusWith(app, tablet)).toBe(401)
          expect(await statusWith(app, phone)).toBe(200)
        }
      })

      test("revokeAllSessions ends every session of that user, from any instance, and no one else's", async () => {
        const tokens = [await login(a, { id: 'alice' }), await login(b, { id: 'alice' })]
        const bob = await login(a, { id: 'bob' })
        expect(await authB.revokeAllSessions('alice')).toBe(2)
        for (const app of [a, b]) {
          for (const token of tokens) expect(await statusWith(app, token)).toBe(401)
          expect(await statusWith(app, bob)).toBe(200)
        }
      })

      test('a login with the fingerprint of an existing session replaces it', async () => {
        const first = await login(a, { fingerprint: 'my-laptop', device: 'laptop' })
        const second = await login(b, { fingerprint: 'my-laptop', device: 'laptop, again' })
        expect(await statusWith(a, first)).toBe(401)
        const list = (await request(a).get('/sessions').set(cookieHeader(second))).body as { metadata: DeviceMeta }[]
        expect(list.map((item) => item.metadata.device)).toEqual(['laptop, again'])
      })

      test("logging in again on a session issues a fresh token and replaces the session, keeping the device's fingerprint and id", async () => {
        const first = await login(a)
        const before = (await request(a).get('/me').set(cookieHeader(first))).body.session
        const res = await request(b).post('/login').set(cookieHeader(first)).send({}).expect(200)
        const second = sessionCookie(res) as string
        expect(second).not.toBe(first)
        expect(await statusWith(a, first)).toBe(401)
        const after = (await request(a).get('/me').set(cookieHeader(second)).expect(200)).body.session
        expect(after.fingerprint).toBe(before.fingerprint)
        // One device, one session: its id is its fingerprint's.
        expect(after.id).toBe(before.id)
        expect((after as { createdAt: number }).createdAt).toBeGreaterThanOrEqual((before as { createdAt: number }).createdAt)
        expect((await request(a).get('/sessions').set(cookieHeader(second))).body).toHaveLength(1)
      })
    })
  })
}
