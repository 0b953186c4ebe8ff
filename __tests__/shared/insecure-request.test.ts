/**
 * A Secure session cookie set in answer to a plain-HTTP request is lost without a word (the
 * browser drops it, or express-session withholds it). Each layer then emits one warning per
 * process, with the code SESSIONVAULT_INSECURE_REQUEST, on real Express apps over plain HTTP on
 * a real Redis; none behind a trusted proxy that says the request came over HTTPS.
 *
 * The warning is once per process, so the tests of a layer run in order: first those that must
 * not warn, then the one that warns once and then no more.
 */
import session from 'express-session'
import request from 'supertest'
import { asyncHandler, RedisCache, RedisSessionStore, sessions } from 'sessionvault'
import { INSECURE_REQUEST_WARNING } from '../../lib/shared/insecure-request'
import { connectStandalone, type StandaloneClient } from '../helpers/redis'
import { EXPRESS_5, type ExpressApp } from '../helpers/express-majors'
import { SECRET } from '../middleware/helpers'

let client: StandaloneClient
// Jest gives each test file a process object of its own, which Node's `warning` events do not
// reach: the calls to `process.emitWarning` are watched instead (and still go through).
let emitWarning: jest.SpiedFunction<typeof process.emitWarning>

beforeAll(async () => {
  client = await connectStandalone()
  emitWarning = jest.spyOn(process, 'emitWarning')
})
afterAll(async () => {
  emitWarning.mockRestore()
  await client.close()
})
beforeEach(() => {
  emitWarning.mockClear()
})

/** The messages of the warnings with our code emitted since the test began. */
const warningsSoFar = (): string[] =>
  emitWarning.mock.calls
    .filter(([, options]) => (options as { code?: string } | undefined)?.code === INSECURE_REQUEST_WARNING)
    .map(([message]) => String(message))

describe('the token middleware', () => {
  let app: ExpressApp
  beforeAll(() => {
    const cache = new RedisCache({ client, ttlMs: 60_000, namespace: 'insecure-tokens', tagDepth: 3 })
    const auth = sessions({ cache, secret: SECRET })
    app = EXPRESS_5.create()
    app.set('trust proxy', 'loopback')
    app.use(auth)
    app.post(
      '/login',
      asyncHandler(async (req, res) => {
        await req.auth.login({ id: 'ada' })
        res.json({ ok: true })
      }),
    )
  })

  test('no warning behind a trusted proxy that says the request came over HTTPS', async () => {
    const res = await request(app).post('/login').set('Host', 'app.example.com').set('X-Forwarded-Proto', 'https').expect(200)
    expect(String(res.headers['set-cookie'])).toMatch(/^__Host-session=.*; Secure/)
    expect(warningsSoFar()).toEqual([])
  })

  test('no warning on plain HTTP to localhost, where browsers keep Secure cookies', async () => {
    await request(app).post('/login').set('Host', 'localhost:3000').expect(200)
    await request(app).post('/login').set('Host', '127.0.0.1:3000').expect(200)
    expect(warningsSoFar()).toEqual([])
  })

  test('a login over plain HTTP to another host warns once, saying what to change; the next does not', async () => {
    const res = await request(app).post('/login').set('Host', 'app.example.com').expect(200)
    expect(String(res.headers['set-cookie'])).toMatch(/; Secure/)
    const [message, ...more] = warningsSoFar()
    expect(more).toEqual([])
    expect(message).toMatch(
      /^sessions\(\): a Secure session cookie was set .* not arrive over HTTPS .*"app\.example\.com".*browsers drop it/,
    )
    expect(message).toContain("app.set('trust proxy'")
    expect(message).toContain('cookie.secure to false')
    await request(app).post('/login').set('Host', 'app.example.com').expect(200)
    expect(warningsSoFar()).toHaveLength(1)
  })
})

describe('the express-session store', () => {
  let app: ExpressApp
  let store: RedisSessionStore
  beforeAll(() => {
    store = new RedisSessionStore({ client, prefix: 'insecure-store' })
    app = EXPRESS_5.create()
    app.set('trust proxy', 'loopback')
    app.use(session({ store, secret: 'test secret', resave: false, saveUninitialized: false, cookie: { secure: true } }))
    app.post('/login', (req, res) => {
      ;(req.session as unknown as { userId: string }).userId = 'ada'
      res.json({ ok: true })
    })
  })
  afterAll(() => store.close())

  test('no warning behind a trusted proxy that says the request came over HTTPS', async () => {
    const res = await request(app).post('/login').set('X-Forwarded-Proto', 'https').expect(200)
    expect(String(res.headers['set-cookie'])).toMatch(/^connect\.sid=.*; Secure/)
    expect(warningsSoFar()).toEqual([])
  })

  test('a login over plain HTTP, whose cookie express-session withholds, warns once; the next does not', async () => {
    const res = await request(app).post('/login').expect(200)
    expect(res.headers['set-cookie']).toBeUndefined()
    const [message, ...more] = warningsSoFar()
    expect(more).toEqual([])
    expect(message).toMatch(/^RedisSessionStore: a session whose cookie is Secure was saved .* express-session does not send that cookie/)
    expect(message).toContain("app.set('trust proxy'")
    await request(app).post('/login').expect(200)
    expect(warningsSoFar()).toHaveLength(1)
  })
})
