// Rotating the signing secret logs no one out: old cookies are accepted and re-signed.
import request from 'supertest'
import { TOKEN_LENGTH } from '../../lib/middleware/token'
import { MemoryCache } from 'sessionvault/cache'
import { verifyToken } from '../../lib/middleware/signing'
import { Clock, cookieHeader, login, OLD_SECRET, SECRET, sessionCookie, setCookieLines, statusWith, testApp } from './helpers'

const clock = new Clock()
const cache = new MemoryCache({ ttlMs: 60_000, now: clock.now })
const options = { now: clock.now }
const before = testApp(cache, { ...options, secret: OLD_SECRET }).app
const during = testApp(cache, { ...options, secret: [SECRET, OLD_SECRET] }).app
const after = testApp(cache, { ...options, secret: SECRET }).app

test('a cookie signed with the previous secret is accepted and re-issued under the new one, for the rest of its life', async () => {
  const old = await login(before)
  clock.advance(5 * 60_000)
  const res = await request(during).get('/me').set(cookieHeader(old)).expect(200)
  const resigned = sessionCookie(res) as string
  expect(resigned.slice(0, 43)).toBe(old.slice(0, 43))
  expect(verifyToken(resigned, [SECRET])).toBeDefined()
  expect(setCookieLines(res)[0]).toMatch(/Max-Age=1500;/)

  expect(await statusWith(after, resigned)).toBe(200)
  expect(await statusWith(after, old)).toBe(401)
})

test('a cookie signed with the current secret is not re-issued', async () => {
  const current = await login(during)
  const res = await request(during).get('/me').set(cookieHeader(current)).expect(200)
  expect(setCookieLines(res)).toEqual([])
})

test('a bearer token signed with the previous secret is re-issued in the Session-Token header', async () => {
  const { token } = (await request(before).post('/login').send({ cookie: 'no' }).expect(200)).body as { token: string }
  const res = await request(during).get('/me').set('Authorization', `Bearer ${token}`).expect(200)
  const resigned = res.headers['session-token'] as string
  expect(verifyToken(resigned, [SECRET])?.token).toBe(token.slice(0, TOKEN_LENGTH))
  await request(after).get('/me').set('Authorization', `Bearer ${resigned}`).expect(200)
})
