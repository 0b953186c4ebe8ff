/**
 * The middleware's `sessionvault:middleware` tracing channel and `stats()`, on a real Redis: each
 * operation publishes its events with `{ layer, operation, durationMs }` (and, for a request's
 * session read, whether it found and renewed the session); no token, user or session id is ever
 * in a context.
 */
import request from 'supertest'
import { MIDDLEWARE_CHANNEL } from 'sessionvault'
import { recordTraces, type TraceRecorder } from '../helpers/trace-recorder'
import { Clock, cookieHeader, sessionCookie, testApp } from './helpers'
import { standaloneBackend, useBackend } from '../helpers/redis'

const MINUTE = 60_000
const timing = { ttlMs: 30 * MINUTE, renewAfterMs: 15 * MINUTE, rotationGraceMs: 10_000 }
const USER = { id: 'user-7d2e', name: 'Name-That-Must-Not-Be-Traced' }

const redis = useBackend(standaloneBackend)
let traces: TraceRecorder
beforeEach(() => {
  traces = recordTraces(MIDDLEWARE_CHANNEL)
})
afterEach(() => traces.stop())

test('login, a request, a renewal, the device list, revocations and logout each publish their events, with no token, user or session id', async () => {
  const clock = new Clock()
  const { app, auth } = testApp(await redis.cache(), { ...timing, now: clock.now })
  const login = await request(app).post('/login').send({ id: USER.id, name: USER.name }).expect(200)
  const token = sessionCookie(login) as string
  const { session } = login.body as { session: { id: string } }
  await request(app).post('/login').send({ id: USER.id, name: USER.name, fingerprint: 'other-device' }).expect(200)
  await request(app).get('/me').set(cookieHeader(token)).expect(200)
  clock.advance(16 * MINUTE)
  const renewal = await request(app).get('/me').set(cookieHeader(token)).expect(200)
  const renewed = sessionCookie(renewal) as string
  await request(app).get('/sessions').set(cookieHeader(renewed)).expect(200)
  await request(app).post('/sessions/revoke-others').set(cookieHeader(renewed)).expect(200)
  await request(app).post('/logout').set(cookieHeader(renewed)).expect(200)
  await request(app).get('/me').set(cookieHeader(renewed)).expect(401)
  await auth.updateUser({ ...USER, name: 'Renamed' })
  await auth.revokeAllSessions(USER.id)

  const calls = traces.calls()
  expect(calls.map(({ context }) => context['operation'])).toEqual([
    'login',
    'login',
    'authenticate',
    // The renewal runs inside the request's session read: it starts after it and ends before it.
    'authenticate',
    'renew',
    'authenticate',
    'listSessions',
    'authenticate',
    'revokeOtherSessions',
    'authenticate',
    'logout',
    'authenticate',
    'updateUser',
    'revokeAllSessions',
  ])
  const outcomes = calls
    .filter(({ context }) => context['operation'] === 'authenticate')
    .map(({ context }) => [context['found'], context['renewed']])
  expect(outcomes).toEqual([
    [true, false],
    [true, true],
    [true, false],
    [true, false],
    [true, false],
    [false, false],
  ])
  for (const { context, events } of calls) {
    expect(events).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    const extra = context['operation'] === 'authenticate' ? ['found', 'renewed'] : []
    expect(Object.keys(context).sort()).toEqual(['durationMs', 'layer', 'operation', 'result', ...extra].sort())
    expect(context).toMatchObject({ layer: 'middleware', result: undefined })
    expect(context['durationMs']).toBeGreaterThanOrEqual(0)
  }
  const renewalEvents = traces.events.filter(({ context }) => context['operation'] !== 'login').slice(4, 12)
  expect(renewalEvents.map(({ event, context }) => `${String(context['operation'])}:${event}`)).toEqual([
    // `end`: the call has returned its promise (the read is under way); the renewal comes after the read.
    'authenticate:start',
    'authenticate:end',
    'renew:start',
    'renew:end',
    'renew:asyncStart',
    'renew:asyncEnd',
    'authenticate:asyncStart',
    'authenticate:asyncEnd',
  ])
  const published = traces.serialized()
  for (const secret of [token, renewed, token.split('.')[0] as string, session.id, USER.id, USER.name])
    expect(published).not.toContain(secret)

  expect(auth.stats().operations).toEqual({
    authenticate: 6,
    renew: 1,
    login: 2,
    logout: 1,
    listSessions: 1,
    revokeSession: 0,
    revokeOtherSessions: 1,
    revokeAllSessions: 1,
    updateUser: 1,
  })
  expect(auth.stats().cache?.operations.get).toBeGreaterThanOrEqual(6)
})

test('a call that fails publishes error with the error the caller gets', async () => {
  const { auth } = testApp(await redis.cache(), timing)
  const failure = await auth.revokeAllSessions('').catch((error: unknown) => error)
  expect(failure).toBeInstanceOf(Error)
  const [call] = traces.calls()
  expect(call?.events).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
  expect(call?.context).toMatchObject({ layer: 'middleware', operation: 'revokeAllSessions', error: failure })
})

test('a request without a signed token reads nothing, and publishes nothing', async () => {
  const { app, auth } = testApp(await redis.cache(), timing)
  await request(app).get('/me').expect(401)
  await request(app).get('/me').set(cookieHeader('forged.token')).expect(401)
  expect(traces.events).toEqual([])
  expect(auth.stats().operations.authenticate).toBe(0)
})
