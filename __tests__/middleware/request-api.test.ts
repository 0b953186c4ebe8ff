// req.auth and the middleware's own calls, in memory: the edges of the request API.
import express from 'express'
import request from 'supertest'
import { MemoryCache } from '../../lib/cache/memory-cache'
import { OptionError } from '../../lib/errors'
import { sessions } from '../../lib/middleware/sessions'
import { Clock, login, SECRET, sessionCookie, statusWith, testApp, withCookie, type TestUser } from './helpers'

const clock = new Clock()
const newCache = () => new MemoryCache({ ttlMs: 60_000, now: clock.now })

test('without a session, req.auth has no user, lists nothing and revokes nothing', async () => {
  const { app } = testApp(newCache())
  await request(app).get('/me').expect(401)
  expect((await request(app).get('/sessions').expect(200)).body).toEqual([])
  expect((await request(app).delete('/sessions/whatever').expect(200)).body).toEqual({ revoked: false })
  expect((await request(app).post('/sessions/revoke-others').expect(200)).body).toEqual({ revoked: 0 })
})

test('a logout without a session still clears the cookie', async () => {
  const res = await request(testApp(newCache()).app).post('/logout').expect(200)
  expect(sessionCookie(res)).toBe('')
})

test('revoking the current session by its id logs the request out', async () => {
  const { app } = testApp(newCache())
  const token = await login(app)
  const id = (await request(app).get('/me').set(...withCookie(token))).body.session.id as string
  const res = await request(app).delete(`/sessions/${id}`).set(...withCookie(token)).expect(200)
  expect(res.body).toEqual({ revoked: true })
  expect(sessionCookie(res)).toBe('')
  expect(await statusWith(app, token)).toBe(401)
})

test('a user that deserializeUser no longer knows is logged out', async () => {
  const banned = new Set<string>()
  const { app } = testApp(newCache(), { deserializeUser: (stored) => (banned.has((stored as TestUser).id) ? undefined : (stored as TestUser)) })
  const token = await login(app, { id: 'mallory' })
  expect(await statusWith(app, token)).toBe(200)
  banned.add('mallory')
  expect(await statusWith(app, token)).toBe(401)
})

test('serializeUser decides what is stored; the session carries it to every request', async () => {
  const { app } = testApp(newCache(), {
    serializeUser: (user) => ({ id: user.id }),
    deserializeUser: (stored) => ({ ...(stored as { id: string }), name: 'from store' }),
  })
  const token = await login(app, { id: 'alice', name: 'Alice' })
  expect((await request(app).get('/me').set(...withCookie(token))).body.user).toEqual({ id: 'alice', name: 'from store' })
})

test('updateUser reaches every session of the user at its next renewal', async () => {
  const { app, auth } = testApp(newCache(), { now: clock.now, ttlMs: 60_000, renewAfterMs: 30_000 })
  const token = await login(app, { id: 'alice', name: 'Alice' })
  await auth.updateUser({ id: 'alice', name: 'Alice Liddell' })
  expect((await request(app).get('/me').set(...withCookie(token))).body.user.name).toBe('Alice')
  clock.advance(30_000)
  expect((await request(app).get('/me').set(...withCookie(token))).body.user.name).toBe('Alice Liddell')
})

test('a userId hook that returns no usable id fails the login with an OptionError naming it', async () => {
  const auth = sessions<TestUser>({ cache: newCache(), secret: SECRET, userId: () => '' })
  const app = express()
  app.use(auth)
  app.post('/login', async (req, res) => {
    const error: unknown = await auth.of(req).login({ id: 'x', name: 'X' }).catch((caught: unknown) => caught)
    res.json({ option: error instanceof OptionError ? error.option : null })
  })
  expect((await request(app).post('/login').expect(200)).body).toEqual({ option: 'userId' })
})

test('of(req) refuses a request the middleware has not seen', () => {
  const auth = sessions({ cache: newCache(), secret: SECRET })
  expect(() => auth.of({} as express.Request)).toThrow(/has not seen/)
})

test('a login after the response has started fails before storing anything', async () => {
  const cache = newCache()
  const auth = sessions<TestUser>({ cache, secret: SECRET })
  const app = express()
  app.use(auth)
  let failure: unknown
  app.get('/late', async (req, res) => {
    res.flushHeaders()
    failure = await auth.of(req).login({ id: 'late', name: 'Late' }).catch((error: unknown) => error)
    res.end()
  })
  await request(app).get('/late')
  expect(String(failure)).toMatch(/after the response headers were sent/)
  expect(cache.size).toBe(0)
})
