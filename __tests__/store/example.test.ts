// The express-session example works as its README says, on two instances sharing this worker's
// standalone Redis (flushed before each test), each with a client of its own.
import type { SessionData } from 'express-session'
import request from 'supertest'
import { createApp } from '../../examples/express-session/app'
import { RedisSessionStore } from 'sessionvault/store'
import { connectStandalone, flushAll, type StandaloneClient } from '../helpers/redis'
import { cookieOf } from './apps'

let clientOne: StandaloneClient
let clientTwo: StandaloneClient
beforeAll(async () => {
  ;[clientOne, clientTwo] = await Promise.all([connectStandalone(), connectStandalone()])
})
afterAll(() => {
  clientOne?.destroy()
  clientTwo?.destroy()
})
beforeEach(() => flushAll(clientOne))

function instance(name: string, client: StandaloneClient) {
  const store = new RedisSessionStore({
    client,
    prefix: 'myapp:',
    userOf: (session: SessionData) => session.user?.id,
    touchAfterMs: 60_000,
  })
  return createApp({ store, secret: 'example secret', secureCookie: false, instance: name })
}

test('a login on one instance lists its sessions on the other, and signing out everywhere ends them all', async () => {
  const [one, two] = [instance('one', clientOne), instance('two', clientTwo)]

  const laptop = cookieOf(await request(one).post('/login').type('form').send({ name: 'Ada' }).set('User-Agent', 'laptop').expect(303))
  const phone = cookieOf(await request(two).post('/login').type('form').send({ name: 'Ada' }).set('User-Agent', 'phone').expect(303))

  const page = await request(two).get('/').set('Cookie', laptop).expect(200)
  expect(page.text).toContain('Answered by <b>two</b>')
  expect(page.text).toContain('Signed in as <b>Ada</b>')
  expect(page.text).toMatch(/laptop \(this one\)/)
  expect(page.text).toContain('<li>phone,')

  await request(one).post('/logout-everywhere').set('Cookie', phone).expect(303)
  for (const cookie of [laptop, phone]) expect((await request(two).get('/').set('Cookie', cookie)).text).toContain('Sign in')
})

test('a name that is not one is refused', async () => {
  const app = instance('one', clientOne)
  await request(app).post('/login').type('form').send({ name: '<script>' }).expect(400)
})
