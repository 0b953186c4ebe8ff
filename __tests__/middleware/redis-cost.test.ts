// What each request costs in Redis commands, counted by the server itself (INFO commandstats), on
// a Redis of the suite's own so that no other client's commands are counted.
import { createServer, type Server } from 'node:http'
import type { ExpressApp } from '../helpers/express-majors'
import request from 'supertest'
import { signToken } from '../../lib/middleware/signing'
import { createId, createSecret, joinToken, TOKEN_LENGTH } from '../../lib/middleware/token'
import { clientCommands, recordCommands } from '../helpers/command-log'
import { redisCli } from '../../scripts/redis-server'
import { Clock, cookieHeader, login, OLD_SECRET, sessionCookie, testApp } from './helpers'
import { privateBackend } from '../helpers/redis'

let backend: Awaited<ReturnType<typeof privateBackend>>
let app: ExpressApp
let server: Server

beforeAll(async () => {
  backend = await privateBackend()
  app = testApp(await backend.cache()).app
  // Node refuses headers over 16 kB before any middleware runs; let 100 kB ones reach ours.
  server = createServer({ maxHeaderSize: 256 * 1024 }, app)
})
afterAll(() => backend.stop())

/** Commands the server ran during `run`, by name, leaving out the counting itself. */
async function commandsDuring(run: () => Promise<unknown>): Promise<Record<string, number>> {
  await redisCli(backend.server.port, 'CONFIG', 'RESETSTAT')
  await run()
  const stats = await redisCli(backend.server.port, 'INFO', 'commandstats')
  const counts: Record<string, number> = {}
  for (const [, name, calls] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const base = (name as string).split('|')[0]
    if (base !== 'config' && base !== 'info') counts[name as string] = Number(calls)
  }
  return counts
}

/** Commands clients sent during `run` (one per round trip, but for those sent together), by name. */
async function clientCommandsDuring(run: () => Promise<unknown>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const [name] of clientCommands(await recordCommands(backend.server.url, run)))
    counts[name as string] = (counts[name as string] ?? 0) + 1
  return counts
}

describe('a token that is not valid costs no Redis command and means "not logged in"', () => {
  let valid: string
  beforeAll(async () => {
    valid = await login(app)
  })

  /** A token of the right shape that nobody issued, with a signature of the right shape. */
  const forged = () => `${joinToken({ userKey: createId(), sessionId: createId(), secret: createSecret() })}.${createSecret()}`
  const cases: [string, () => Record<string, string>][] = [
    ['a forged cookie', () => cookieHeader(forged())],
    ['a truncated cookie', () => cookieHeader(valid.slice(0, -1))],
    ['a cookie re-signed with another secret', () => cookieHeader(signToken(valid.slice(0, TOKEN_LENGTH), OLD_SECRET))],
    ['a 100 kB cookie', () => cookieHeader(valid + 'x'.repeat(100_000))],
    ['a malformed cookie', () => cookieHeader('%E0%A4%A; not-a-token')],
    ['a forged bearer token', () => ({ Authorization: `Bearer ${forged()}` })],
    ['a 100 kB bearer token', () => ({ Authorization: `Bearer ${valid}${'x'.repeat(100_000)}` })],
    ['a bearer token with trailing junk', () => ({ Authorization: `Bearer ${valid} junk` })],
  ]

  test.each(cases)('%s', async (_, header) => {
    let res: request.Response | undefined
    const commands = await commandsDuring(async () => {
      res = await request(server).get('/me').set(header())
    })
    expect(res?.status).toBe(401)
    expect(commands).toEqual({})
  })

  test('a rejected cookie is cleared, so the browser stops sending it', async () => {
    const res = await request(server)
      .get('/me')
      .set(cookieHeader(valid.slice(0, -1)))
      .expect(401)
    expect(sessionCookie(res)).toBe('')
  })
})

test('an authenticated request costs one Redis command: a GET', async () => {
  const token = await login(app)
  const commands = await commandsDuring(() => request(server).get('/me').set(cookieHeader(token)).expect(200))
  expect(commands).toEqual({ get: 1 })
})

test('a renewing request costs a GET and one compare-and-set script; the first request with the new token, one more', async () => {
  const clock = new Clock()
  const timed = testApp(await backend.cache(), { now: clock.now, ttlMs: 60_000, renewAfterMs: 30_000 }).app
  const [warmUp, token] = [await login(timed), await login(timed, { id: 'bob' })]
  clock.advance(30_000)
  // The first renewal loads the scripts; the one counted runs them by their hash, as they always will after.
  await request(timed).get('/me').set(cookieHeader(warmUp)).expect(200)
  let renewed = ''
  const renewal = await clientCommandsDuring(async () => {
    renewed = sessionCookie(await request(timed).get('/me').set(cookieHeader(token)).expect(200)) as string
  })
  expect(renewal).toEqual({ GET: 1, EVALSHA: 1 })
  const adoption = await clientCommandsDuring(() => request(timed).get('/me').set(cookieHeader(renewed)).expect(200))
  expect(adoption).toEqual({ GET: 1, EVALSHA: 1 })
  const after = await clientCommandsDuring(() => request(timed).get('/me').set(cookieHeader(renewed)).expect(200))
  expect(after).toEqual({ GET: 1 })
})

test("a login costs one round trip: one script writes the new session, whatever the user's session count", async () => {
  for (let i = 0; i < 30; i++) await login(app, { id: 'dave', device: `d${i}` })
  const commands = await clientCommandsDuring(() => login(app, { id: 'dave', device: 'laptop' }))
  expect(commands).toEqual({ EVALSHA: 1 })
})

test('a logout costs one script', async () => {
  // The first logout loads the script; the one counted runs it by its hash.
  await request(server)
    .post('/logout')
    .set(cookieHeader(await login(app, { id: 'erin' })))
    .expect(200)
  const token = await login(app, { id: 'erin' })
  const commands = await clientCommandsDuring(() => request(server).post('/logout').set(cookieHeader(token)).expect(200))
  expect(commands).toEqual({ GET: 1, EVALSHA: 1 })
})

test('listing the sessions costs one script, which reads the index and the sessions', async () => {
  const token = await login(app, { id: 'carol', device: 'laptop' })
  await login(app, { id: 'carol', device: 'phone' })
  await request(server).get('/sessions').set(cookieHeader(token)).expect(200)
  const commands = await clientCommandsDuring(() => request(server).get('/sessions').set(cookieHeader(token)).expect(200))
  expect(commands).toEqual({ GET: 1, EVALSHA: 1 })
})

test('a request without any token costs nothing', async () => {
  expect(await commandsDuring(() => request(server).get('/me').expect(401))).toEqual({})
})
