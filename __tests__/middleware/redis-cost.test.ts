// What each request costs in Redis commands, counted by the server itself (INFO commandstats).
import { createServer, type Server } from 'node:http'
import type { Express } from 'express'
import request from 'supertest'
import { signToken } from '../../lib/middleware/signing'
import { createToken } from '../../lib/middleware/token'
import { redisCli } from '../helpers/redis-server'
import { login, OLD_SECRET, sessionCookie, testApp, withCookie } from './helpers'
import { standaloneBackend } from './redis-backends'

let backend: Awaited<ReturnType<typeof standaloneBackend>>
let app: Express
let server: Server

beforeAll(async () => {
  backend = await standaloneBackend()
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

describe('a token that is not valid costs no Redis command and means "not logged in"', () => {
  let valid: string
  beforeAll(async () => {
    valid = await login(app)
  })

  const cases: [string, () => [string, string]][] = [
    ['a forged cookie', () => withCookie(`${createToken()}.${createToken()}`)],
    ['a truncated cookie', () => withCookie(valid.slice(0, -1))],
    ['a cookie re-signed with another secret', () => withCookie(signToken(valid.slice(0, 43), OLD_SECRET))],
    ['a 100 kB cookie', () => withCookie(valid + 'x'.repeat(100_000))],
    ['a malformed cookie', () => withCookie('%E0%A4%A; not-a-token')],
    ['a forged bearer token', () => ['Authorization', `Bearer ${createToken()}.${createToken()}`]],
    ['a 100 kB bearer token', () => ['Authorization', `Bearer ${valid}${'x'.repeat(100_000)}`]],
  ]

  test.each(cases)('%s', async (_, header) => {
    let res: request.Response | undefined
    const commands = await commandsDuring(async () => {
      res = await request(server).get('/me').set(...header())
    })
    expect(res?.status).toBe(401)
    expect(commands).toEqual({})
  })

  test('a rejected cookie is cleared, so the browser stops sending it', async () => {
    const res = await request(server).get('/me').set(...withCookie(valid.slice(0, -1))).expect(401)
    expect(sessionCookie(res)).toBe('')
  })
})

test('an authenticated request costs one Redis command: a GET', async () => {
  const token = await login(app)
  const commands = await commandsDuring(() => request(server).get('/me').set(...withCookie(token)).expect(200))
  expect(commands).toEqual({ get: 1 })
})

test('a request without any token costs nothing', async () => {
  expect(await commandsDuring(() => request(server).get('/me').expect(401))).toEqual({})
})
