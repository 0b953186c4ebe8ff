// What the security review found, reproduced through real requests: secrets in logs, planted
// cookies, cacheable tokens, weak options, borrowed fingerprints, one rule for user ids,
// bounded sessions per user, stale copies of a user.
import { inspect } from 'node:util'
import express from 'express'
import type { ExpressApp } from '../helpers/express-majors'
import request from 'supertest'
import { MemoryCache } from 'sessionvault/cache'
import { isOptionError } from 'sessionvault'
import { RedisCache } from 'sessionvault/cache'
import { privateRedis, standaloneBackend, useBackend } from '../helpers/redis'
import { sessions } from 'sessionvault/middleware'
import { signToken } from '../../lib/middleware/signing'
import { createId, createSecret, joinToken, TOKEN_LENGTH, userKeyOf } from '../../lib/middleware/token'
import { CredentialsCache } from '../../lib/middleware/credentials-cache'
import { ANY } from 'sessionvault/cache'
import {
  Clock,
  cookieHeader,
  login,
  OLD_SECRET,
  SECRET,
  sessionCookie,
  setCookieLines,
  statusWith,
  testApp,
  type TestUser,
} from './helpers'
import { thrownBy } from '../helpers/thrown'

const MINUTE = 60_000
const newCache = () => new MemoryCache({ ttlMs: 60 * MINUTE })

describe('nothing the library hands the app prints or serialises a secret', () => {
  test('req.auth, logged in and not, through util.inspect, console.log and JSON.stringify', async () => {
    const auth = sessions<TestUser>({ cache: newCache(), secret: SECRET, cookie: { secure: false } })
    const app = express()
    app.use(express.json())
    app.use(auth)
    const printed: string[] = []
    app.post('/login', async (req, res) => {
      printed.push(inspect(req.auth, { depth: 10 }), JSON.stringify(req.auth))
      await auth.of(req).login({ id: 'alice', name: 'Alice' })
      printed.push(inspect(req.auth, { depth: 10 }), JSON.stringify(req.auth))
      res.end()
    })
    app.get('/me', (req, res) => {
      printed.push(inspect(req.auth, { depth: 10, showHidden: true }), JSON.stringify(req.auth))
      res.json(req.auth)
    })
    const token = sessionCookie(await request(app).post('/login').expect(200)) as string
    const me = await request(app).get('/me').set(cookieHeader(token)).expect(200)
    printed.push(me.text, inspect(auth, { depth: 10, showHidden: true }))
    for (const text of printed) {
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain(token.split('.')[2])
    }
    expect(JSON.parse(me.text)).toMatchObject({ user: { id: 'alice' }, session: { userId: 'alice' } })
    expect(printed[2]).toContain('alice')
  })
})

describe('errors name no token', () => {
  test('with Redis stopped, the error onUnavailable gets names neither the token nor its secret', async () => {
    const redis = await privateRedis()
    try {
      const seen: unknown[] = []
      const cache = new RedisCache({ client: redis.client, namespace: 'sessions', ttlMs: 60 * MINUTE, tagDepth: 3, commandTimeoutMs: 300 })
      const { app } = testApp(cache, {
        onUnavailable: (error, _req, res) => {
          seen.push(error)
          res.status(503).end()
        },
      })
      const token = await login(app)
      await redis.server.stop()
      await request(app).get('/me').set(cookieHeader(token)).expect(503)
      expect(seen).toHaveLength(1)
      const shown = [String(seen[0]), inspect(seen[0], { depth: 10, showHidden: true }), JSON.stringify(seen[0])].join('\n')
      // It does say where: the record's key, user key and session id, which open nothing without the secret.
      expect(shown).toContain(token.split('.')[1])
      expect(shown).not.toContain(token.split('.')[2])
      expect(shown).not.toContain(token.slice(0, TOKEN_LENGTH))
    } finally {
      await redis.stop()
    }
  })
})

describe('a planted cookie of the session name', () => {
  let app: ExpressApp
  let token: string
  beforeEach(async () => {
    app = testApp(newCache()).app
    token = await login(app)
  })

  test.each([
    ['unsigned', () => 'planted-by-a-sibling-subdomain'],
    [
      'signed with a secret the app does not know',
      () => signToken(joinToken({ userKey: userKeyOf('mallory'), sessionId: createId(), secret: createSecret() }), OLD_SECRET),
    ],
  ])('%s, sent before or after the real one, neither signs the user out nor is used', async (_, planted) => {
    for (const header of [`session=${planted()}; session=${token}`, `session=${token}; session=${planted()}`]) {
      const res = await request(app).get('/me').set('Cookie', header).expect(200)
      expect(res.body.user.id).toBe('alice')
      expect(setCookieLines(res)).toEqual([])
    }
  })

  test('alone, an unsigned cookie is cleared; beside another, nothing is cleared', async () => {
    expect(sessionCookie(await request(app).get('/me').set('Cookie', 'session=junk').expect(401))).toBe('')
    expect(setCookieLines(await request(app).get('/me').set('Cookie', 'session=junk; session=more-junk').expect(401))).toEqual([])
  })
})

describe('every response that carries a token has Cache-Control: no-store', () => {
  const clock = new Clock()
  const { app: base, auth } = testApp(newCache(), { now: clock.now, ttlMs: 30 * MINUTE, renewAfterMs: 15 * MINUTE })
  const app = express()
  app.get('/public', (_req, res, next) => {
    // A route that marks its page cacheable, as a CDN-fronted page would.
    res.set('Cache-Control', 'public, max-age=600')
    next()
  })
  app.use(base)
  app.get('/public', (req, res) => res.json({ user: auth.of(req).user ?? null }))

  test('a renewal on a route that set its page public', async () => {
    const token = await login(base)
    clock.advance(15 * MINUTE)
    const res = await request(app).get('/public').set(cookieHeader(token)).expect(200)
    expect(sessionCookie(res)).toEqual(expect.any(String))
    expect(res.headers['cache-control']).toBe('no-store')
  })

  test('a renewal sent to a bearer client, in the Session-Token header', async () => {
    const { token } = (await request(base).post('/login').send({ cookie: 'no' }).expect(200)).body as { token: string }
    expect(setCookieLines(await request(base).post('/login').send({ cookie: 'no' }))).toEqual([])
    clock.advance(15 * MINUTE)
    const res = await request(app).get('/public').set('Authorization', `Bearer ${token}`).expect(200)
    expect(res.headers['session-token']).toEqual(expect.any(String))
    expect(res.headers['cache-control']).toBe('no-store')
  })

  test('a login, with a cookie or with the token in the body', async () => {
    for (const body of [{}, { cookie: 'no' }])
      expect((await request(base).post('/login').send(body).expect(200)).headers['cache-control']).toBe('no-store')
  })

  test("a request that hands out no token keeps the route's own Cache-Control", async () => {
    const token = await login(base)
    expect((await request(app).get('/public').set(cookieHeader(token)).expect(200)).headers['cache-control']).toBe('public, max-age=600')
  })
})

describe('weak options fail at construction, naming the option', () => {
  test.each([
    ['32 times the same letter', 'a'.repeat(32)],
    ['a word repeated', 'password'.repeat(4)],
    ['32 NUL characters', '\0'.repeat(32)],
    ['two letters alternating', 'ab'.repeat(20)],
  ])('a secret of %s', (_, secret) => {
    expect(thrownBy(() => sessions({ cache: newCache(), secret }))).toMatchObject({ code: 'INVALID_OPTION', option: 'secret' })
    expect(thrownBy(() => sessions({ cache: newCache(), secret: [SECRET, secret] }))).toMatchObject({ option: 'secret[1]' })
  })

  test('random secrets of 32 hex digits or more pass', () => {
    for (let i = 0; i < 50; i++) expect(() => sessions({ cache: newCache(), secret: createSecret().slice(0, 32) })).not.toThrow()
    expect(() =>
      sessions({ cache: newCache(), secret: Buffer.from(createSecret(), 'base64url').toString('hex').slice(0, 32) }),
    ).not.toThrow()
  })

  test.each([
    ['cookie.domain', { name: 'sid', domain: 'example.com; Secure' }],
    ['cookie.domain', { name: 'sid', domain: 'exa\nmple.com' }],
    ['cookie.path', { name: 'sid', path: '/app;x' }],
    ['cookie.path', { name: 'sid', path: '/a b' }],
    ['cookie.path', { name: 'sid', path: '/\u0001' }],
  ])('%s with a separator or control character', (option, cookie) => {
    const thrown = thrownBy(() => sessions({ cache: newCache(), secret: SECRET, cookie }))
    expect(isOptionError(thrown) && thrown.option).toBe(option)
  })

  test('secure: false under NODE_ENV=production warns once per process', () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const previous = process.env['NODE_ENV']
    try {
      process.env['NODE_ENV'] = 'development'
      sessions({ cache: newCache(), secret: SECRET, cookie: { secure: false } })
      expect(emitWarning).not.toHaveBeenCalled()
      process.env['NODE_ENV'] = 'production'
      sessions({ cache: newCache(), secret: SECRET, cookie: { secure: false } })
      sessions({ cache: newCache(), secret: SECRET, cookie: { secure: false } })
      expect(emitWarning).toHaveBeenCalledTimes(1)
      expect(emitWarning.mock.calls[0]?.[0]).toMatch(/cookie\.secure is false while NODE_ENV is production/)
    } finally {
      process.env['NODE_ENV'] = previous
      emitWarning.mockRestore()
    }
  })
})

describe('logins', () => {
  test("a login never inherits another user's fingerprint; a login of the same user keeps it", async () => {
    const { app } = testApp(newCache())
    const shared = await login(app, { id: 'alice' })
    const alice = (await request(app).get('/me').set(cookieHeader(shared))).body.session as { fingerprint: string }
    const bob = await request(app).post('/login').set(cookieHeader(shared)).send({ id: 'bob' }).expect(200)
    expect(bob.body.session.fingerprint).not.toBe(alice.fingerprint)
    const again = await request(app)
      .post('/login')
      .set(cookieHeader(sessionCookie(bob) as string))
      .send({ id: 'bob' })
      .expect(200)
    expect(again.body.session.fingerprint).toBe(bob.body.session.fingerprint)
  })

  test('42 and "42" are one user: revokeAllSessions with either ends the sessions of the user whose id is the number 42', async () => {
    const auth = sessions<{ id: number }>({ cache: newCache(), secret: SECRET, cookie: { secure: false } })
    const app = express()
    app.use(auth)
    app.post('/login', async (req, res) => res.json(await auth.of(req).login({ id: 42 })))
    app.get('/me', (req, res) => res.status(req.auth.user ? 200 : 401).end())
    const tokens = [sessionCookie(await request(app).post('/login')) as string, sessionCookie(await request(app).post('/login')) as string]
    expect(await auth.revokeAllSessions('42')).toBe(2)
    for (const token of tokens) expect(await statusWith(app, token)).toBe(401)
  })

  test("maxSessionsPerUser: a login beyond it ends the user's oldest session, and only theirs", async () => {
    const clock = new Clock()
    // The cache keeps the middleware's clock, so each session expires a second after the one before.
    const { app } = testApp(new MemoryCache({ ttlMs: 60 * MINUTE, now: clock.now }), { maxSessionsPerUser: 3, now: clock.now })
    const bob = await login(app, { id: 'bob' })
    const tokens: string[] = []
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000)
      tokens.push(await login(app, { id: 'alice', device: `d${i}` }))
    }
    expect(await Promise.all(tokens.map((token) => statusWith(app, token)))).toEqual([401, 401, 200, 200, 200])
    expect(await statusWith(app, bob)).toBe(200)
    const devices = (
      await request(app)
        .get('/sessions')
        .set(cookieHeader(tokens[4] as string))
    ).body as { metadata: { device: string } }[]
    expect(devices.map((device) => device.metadata.device)).toEqual(['d2', 'd3', 'd4'])
  })

  test('maxSessionsPerUser must be a whole number of at least 1', () => {
    for (const bad of [0, -1, 1.5, '3']) {
      expect(thrownBy(() => sessions({ cache: newCache(), secret: SECRET, maxSessionsPerUser: bad as number }))).toMatchObject({
        option: 'maxSessionsPerUser',
      })
    }
  })
})

describe('a user with 10,000 sessions, on Redis', () => {
  const backend = useBackend(standaloneBackend)

  test('a login on top of them works, and revokeAllSessions ends them all, in batches, within seconds', async () => {
    const cache = await backend.cache()
    const { app, auth } = testApp(cache, { maxSessionsPerUser: 20_000 })
    // Set up through the middleware's own records, 50 logins at a time (HTTP would take minutes).
    const credentials = new CredentialsCache(
      cache,
      { ttlMs: 30 * MINUTE, renewAfterMs: 15 * MINUTE, rotationGraceMs: 10_000, maxAgeMs: 0 },
      Date.now,
      20_000,
    )
    for (let i = 0; i < 10_000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          credentials.create({ userId: 'ada', user: { id: 'ada', name: 'Ada' }, fingerprint: `f${i + j}`, metadata: {} }),
        ),
      )
    }
    const token = await login(app, { id: 'ada' })
    expect((await request(app).get('/sessions').set(cookieHeader(token))).body).toHaveLength(10_001)
    const started = Date.now()
    expect(await auth.revokeAllSessions('ada')).toBe(10_001)
    // Ten writes of 1,000 deletes and one read: well under a second on an idle machine.
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await statusWith(app, token)).toBe(401)
    expect(await cache.count(['u', userKeyOf('ada'), 's', ANY])).toBe(0)
  }, 60_000)
})

describe('logouts without a session, on Redis', () => {
  test('2,000 cookieless or forged logouts write nothing to Redis', async () => {
    const redis = await privateRedis()
    try {
      const cache = new RedisCache({ client: redis.client, namespace: 'sessions', ttlMs: 60 * MINUTE, tagDepth: 3 })
      const { app } = testApp(cache)
      await login(app)
      const before = await redis.client.dbSize()
      const forged = signToken(joinToken({ userKey: userKeyOf('alice'), sessionId: createId(), secret: createSecret() }), SECRET)
      for (let i = 0; i < 1_000; i++) await request(app).post('/logout').expect(200)
      for (let i = 0; i < 1_000; i++) await request(app).post('/logout').set(cookieHeader(forged)).expect(200)
      expect(await redis.client.dbSize()).toBe(before)
    } finally {
      await redis.stop()
    }
  }, 60_000)
})

describe('updateUser on Redis, two servers, one of them with a near-cache', () => {
  const backend = useBackend(standaloneBackend)

  test('takes effect on the next request of every session of that user, on every server', async () => {
    const a = testApp(await backend.cache({ nearCache: { maxEntries: 100 } }))
    const b = testApp(await backend.cache())
    const laptop = await login(a.app, { id: 'alice', name: 'Alice', device: 'laptop' })
    const phone = await login(b.app, { id: 'alice', name: 'Alice', device: 'phone' })
    // Both sessions are read once on the near-cached server, so it holds copies of them.
    for (const token of [laptop, phone]) expect((await request(a.app).get('/me').set(cookieHeader(token))).body.user.name).toBe('Alice')
    await b.auth.updateUser({ id: 'alice', name: 'Alice (admin: no)' })
    for (const app of [a.app, b.app]) {
      for (const token of [laptop, phone])
        expect((await request(app).get('/me').set(cookieHeader(token))).body.user.name).toBe('Alice (admin: no)')
    }
  })
})
