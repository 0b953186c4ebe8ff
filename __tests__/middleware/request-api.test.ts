// req.auth and the middleware's own calls, in memory, on Express 4 and 5: the edges of the request API.
import type { Request } from 'express'
import request from 'supertest'
import { MemoryCache } from 'sessionvault/cache'
import { UsageError } from 'sessionvault'
import { asyncHandler } from 'sessionvault/middleware'
import { sessions } from 'sessionvault/middleware'
import { EXPRESS_MAJORS } from '../helpers/express-majors'
import { Clock, cookieHeader, login, SECRET, sessionCookie, setCookieLines, statusWith, testApp, type TestUser } from './helpers'

const clock = new Clock()
const newCache = () => new MemoryCache({ ttlMs: 60_000, now: clock.now })

describe.each(EXPRESS_MAJORS)('on $name', (express) => {
  test('without a session, req.auth has no user, lists nothing and revokes nothing', async () => {
    const { app } = testApp(newCache(), {}, express)
    await request(app).get('/me').expect(401)
    expect((await request(app).get('/sessions').expect(200)).body).toEqual([])
    expect((await request(app).delete('/sessions/whatever').expect(200)).body).toEqual({ revoked: false })
    expect((await request(app).post('/sessions/revoke-others').expect(200)).body).toEqual({ revoked: 0 })
  })

  test('a logout without a session still clears the cookie', async () => {
    const res = await request(testApp(newCache(), {}, express).app)
      .post('/logout')
      .expect(200)
    expect(sessionCookie(res)).toBe('')
  })

  test('revoking the current session by its id logs the request out', async () => {
    const { app } = testApp(newCache(), {}, express)
    const token = await login(app)
    const id = (await request(app).get('/me').set(cookieHeader(token))).body.session.id as string
    const res = await request(app).delete(`/sessions/${id}`).set(cookieHeader(token)).expect(200)
    expect(res.body).toEqual({ revoked: true })
    expect(sessionCookie(res)).toBe('')
    expect(await statusWith(app, token)).toBe(401)
  })

  test('a user that deserializeUser no longer knows is logged out', async () => {
    const banned = new Set<string>()
    const deserializeUser = (stored: unknown) => (banned.has((stored as TestUser).id) ? undefined : (stored as TestUser))
    const { app } = testApp(newCache(), { deserializeUser }, express)
    const token = await login(app, { id: 'mallory' })
    expect(await statusWith(app, token)).toBe(200)
    banned.add('mallory')
    expect(await statusWith(app, token)).toBe(401)
  })

  test('serializeUser decides what is stored; the session carries it to every request', async () => {
    const { app } = testApp(
      newCache(),
      {
        serializeUser: (user) => ({ id: user.id }),
        deserializeUser: (stored) => ({ ...(stored as { id: string }), name: 'from store' }),
      },
      express,
    )
    const token = await login(app, { id: 'alice', name: 'Alice' })
    expect((await request(app).get('/me').set(cookieHeader(token))).body.user).toEqual({ id: 'alice', name: 'from store' })
  })

  test("updateUser reaches every session of the user on its next request, and no other user's", async () => {
    const { app, auth } = testApp(newCache(), { now: clock.now, ttlMs: 60_000, renewAfterMs: 30_000 }, express)
    const laptop = await login(app, { id: 'alice', name: 'Alice', device: 'laptop' })
    const phone = await login(app, { id: 'alice', name: 'Alice', device: 'phone' })
    const bob = await login(app, { id: 'bob', name: 'Bob' })
    await auth.updateUser({ id: 'alice', name: 'Alice Liddell' })
    for (const token of [laptop, phone])
      expect((await request(app).get('/me').set(cookieHeader(token))).body.user.name).toBe('Alice Liddell')
    expect((await request(app).get('/me').set(cookieHeader(bob))).body.user.name).toBe('Bob')
  })

  /** What a call made while handling a request threw, as `{ name, code, option }`. */
  async function failureOf(call: (auth: ReturnType<typeof sessions<TestUser>>, req: Request) => Promise<unknown>, userId?: () => string) {
    const auth = sessions<TestUser>({ cache: newCache(), secret: SECRET, ...(userId ? { userId } : {}) })
    const app = express.create()
    app.use(auth)
    app.post(
      '/call',
      asyncHandler(async (req, res) => {
        const error: unknown = await call(auth, req).then(
          () => undefined,
          (caught: unknown) => caught,
        )
        res.json(
          error instanceof UsageError ? { name: error.name, code: error.code, option: error.option ?? null } : { error: String(error) },
        )
      }),
    )
    return (await request(app).post('/call').expect(200)).body as unknown
  }

  test('a userId hook that returns no usable id fails the login with a UsageError naming it', async () => {
    const failure = await failureOf(
      (auth, req) => auth.of(req).login({ id: 'x', name: 'X' }),
      () => '',
    )
    expect(failure).toEqual({ name: 'UsageError', code: 'INVALID_USE', option: 'userId' })
  })

  test('a login with an unusable fingerprint fails with a UsageError', async () => {
    const failure = await failureOf((auth, req) => auth.of(req).login({ id: 'x', name: 'X' }, { fingerprint: 'f'.repeat(129) }))
    expect(failure).toEqual({ name: 'UsageError', code: 'INVALID_USE', option: null })
  })

  test('revokeAllSessions and updateUser without a usable user id fail with a UsageError', async () => {
    expect(await failureOf((auth) => auth.revokeAllSessions(''))).toMatchObject({ code: 'INVALID_USE' })
    expect(
      await failureOf(
        (auth) => auth.updateUser({ id: 'x', name: 'X' }),
        () => '',
      ),
    ).toEqual({ name: 'UsageError', code: 'INVALID_USE', option: 'userId' })
  })

  test('of(req) refuses a request the middleware has not seen, with a UsageError', () => {
    const auth = sessions({ cache: newCache(), secret: SECRET })
    expect(() => auth.of({} as Request)).toThrow(UsageError)
    expect(() => auth.of({} as Request)).toThrow(/has not seen/)
  })

  test('a login after the response has started fails before storing anything', async () => {
    const cache = newCache()
    const auth = sessions<TestUser>({ cache, secret: SECRET })
    const app = express.create()
    app.use(auth)
    let failure: unknown
    app.get(
      '/late',
      asyncHandler(async (req, res) => {
        res.flushHeaders()
        failure = await auth
          .of(req)
          .login({ id: 'late', name: 'Late' })
          .catch((error: unknown) => error)
        res.end()
      }),
    )
    await request(app).get('/late')
    expect(failure).toBeInstanceOf(UsageError)
    expect(String(failure)).toMatch(/after the response headers were sent/)
    expect(cache.size).toBe(0)
  })

  test('a login that returns the token in the body (cookie: false) marks the response no-store', async () => {
    const res = await request(testApp(newCache(), {}, express).app)
      .post('/login')
      .send({ cookie: 'no' })
      .expect(200)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(setCookieLines(res)).toEqual([])
  })

  test('a bearer header with anything after the token is refused', async () => {
    const { app } = testApp(newCache(), {}, express)
    const { token } = (await request(app).post('/login').send({ cookie: 'no' }).expect(200)).body as { token: string }
    await request(app).get('/me').set('Authorization', `Bearer ${token}`).expect(200)
    for (const header of [`Bearer ${token} junk`, `Bearer ${token}.`, `Bearer  ${token}`, `Bearer ${token}\tx`]) {
      await request(app).get('/me').set('Authorization', header).expect(401)
    }
  })

  test('a correctly signed token that opens no session is refused without clearing the cookie', async () => {
    // With no grace, a request that left with the old token before a renewal arrives after it: its
    // answer must not erase the renewed cookie the browser has meanwhile.
    const { app } = testApp(newCache(), { now: clock.now, ttlMs: 60_000, renewAfterMs: 30_000, rotationGraceMs: 0 }, express)
    const token = await login(app)
    clock.advance(30_000)
    const renewed = sessionCookie(await request(app).get('/me').set(cookieHeader(token)).expect(200))
    expect(renewed).toEqual(expect.any(String))
    await request(app)
      .get('/me')
      .set(cookieHeader(renewed as string))
      .expect(200)
    const late = await request(app).get('/me').set(cookieHeader(token)).expect(401)
    expect(setCookieLines(late)).toEqual([])
  })
})
