// The token-sessions example works end to end (in memory; the flows suites cover Redis).
import request from 'supertest'
import { MemoryCache } from 'sessionvault/cache'
import { createApp } from '../../examples/token-sessions/app'
import { cookieHeader, SECRET, sessionCookie } from './helpers'

const app = createApp({ cache: new MemoryCache({ ttlMs: 60_000 }), secret: SECRET, secureCookie: false })

async function signIn(userAgent: string): Promise<string> {
  const res = await request(app)
    .post('/login')
    .set('User-Agent', userAgent)
    .type('form')
    .send({ name: 'alice', password: 'wonderland' })
    .expect(303)
  return sessionCookie(res) as string
}

test('the login form is shown to a visitor, and a wrong password is refused', async () => {
  expect((await request(app).get('/').expect(200)).text).toContain('<form method="post" action="/login">')
  await request(app).post('/login').type('form').send({ name: 'alice', password: 'nope' }).expect(401)
})

test('after signing in on two browsers, each lists both devices and can sign the other out', async () => {
  const firefox = await signIn('Firefox <script>')
  const safari = await signIn('Safari')
  const home = (await request(app).get('/').set(cookieHeader(firefox)).expect(200)).text
  expect(home).toContain('Hello, alice')
  expect(home).toContain('Firefox &#60;script&#62;')
  expect(home).toContain('Safari')
  const id = /action="\/devices\/([^/]+)\/sign-out"/.exec(home)?.[1] as string
  await request(app).post(`/devices/${id}/sign-out`).set(cookieHeader(firefox)).expect(303)
  expect((await request(app).get('/').set(cookieHeader(safari))).text).toContain('Sign in')
})

test('signing out ends the session', async () => {
  const token = await signIn('Firefox')
  await request(app).post('/logout').set(cookieHeader(token)).expect(303)
  expect((await request(app).get('/').set(cookieHeader(token))).text).toContain('Sign in')
})
