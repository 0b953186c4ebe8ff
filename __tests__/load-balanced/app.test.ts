// One demo instance in process, on either session layer (a MemoryCache stands in for Redis):
// the routes behind the pages, without nginx or child processes.
import request from 'supertest'
import type { Cache } from 'sessionvault/cache'
import { MemoryCache } from 'sessionvault/cache'
import { CacheError } from 'sessionvault'
import { CACHE_OPERATIONS } from '../../lib/cache/cache-stats'
import { createInstanceApp } from '../../examples/load-balanced/app'
import type { AuthMode, DemoAuth } from '../../examples/load-balanced/auth'
import { expressSessionAuth } from '../../examples/load-balanced/express-session-auth'
import { tokenAuth } from '../../examples/load-balanced/token-auth'

const SECRET = 'demo-test-secret-0123456789abcdefghijklmnop'

function authFor(mode: AuthMode, cache: Cache): DemoAuth {
  return mode === 'token'
    ? tokenAuth({ cache, secret: SECRET, timeoutMs: 1_000 })
    : expressSessionAuth({ backend: { cache }, secret: SECRET, timeoutMs: 1_000 })
}

function appFor(mode: AuthMode, cache: Cache = new MemoryCache({ ttlMs: 60_000 })) {
  return createInstanceApp({ instance: 'instance-7', detail: 'test', auth: authFor(mode, cache), redisReady: () => true })
}

/** A cache whose Redis is out of reach: every call fails as RedisCache's do. */
function unreachableCache(): Cache {
  const down = (): Promise<never> => Promise.reject(new CacheError('REDIS_UNAVAILABLE', 'no answer within 1000 ms', { operation: 'get' }))
  const cache: Cache = new MemoryCache({ ttlMs: 60_000 })
  // Every operation the cache counts and traces: one added later fails here too.
  for (const operation of CACHE_OPERATIONS) cache[operation] = down
  return cache
}

async function signIn(agent: ReturnType<typeof request.agent>, name: string, userAgent: string) {
  await agent.post('/login').set('User-Agent', userAgent).type('form').send({ name }).expect(303).expect('Location', '/')
}

describe.each<AuthMode>(['token', 'express-session'])('an instance on %s sessions', (mode) => {
  test('every answer names the instance, a 404 too, and is never cached', async () => {
    const app = appFor(mode)
    for (const path of ['/', '/api/me', '/healthz', '/nowhere']) {
      const res = await request(app).get(path)
      expect(res.headers['x-served-by']).toBe('instance-7')
      expect(res.headers['cache-control']).toBe('no-store')
    }
    expect((await request(app).get('/nowhere')).status).toBe(404)
  })

  test('a visitor gets the sign-in form; a signed-in user their name and devices', async () => {
    const app = appFor(mode)
    expect((await request(app).get('/').expect(200)).text).toContain('<form method="post" action="/login" class="login">')
    const laptop = request.agent(app)
    await signIn(laptop, 'alice', 'Firefox/133.0 (X11; Linux)')
    const page = (await laptop.get('/').expect(200)).text
    expect(page).toContain('Signed in as <span id="user">alice</span>')
    expect(page).toContain('Firefox 133 on Linux')
    expect((await laptop.get('/api/me').expect(200)).body).toEqual({ instance: 'instance-7', mode, user: 'alice' })
  })

  test('a name that is empty, too long or full of symbols is refused with the form again', async () => {
    const app = appFor(mode)
    for (const name of ['', '   ', 'x'.repeat(33), '<script>']) {
      const res = await request(app).post('/login').type('form').send({ name }).expect(400)
      expect(res.text).toContain('A name is 1 to 32 letters')
    }
  })

  test('revoking a device signs that browser out and leaves this one signed in', async () => {
    const app = appFor(mode)
    const [laptop, phone] = [request.agent(app), request.agent(app)]
    await signIn(laptop, 'alice', 'laptop')
    await signIn(phone, 'alice', 'phone')
    const id = /<tr data-session-id="([^"]+)">/.exec((await laptop.get('/')).text)?.[1]
    expect(id).toBeDefined()
    await laptop.post(`/devices/${encodeURIComponent(id!)}/revoke`).expect(303)
    expect((await phone.get('/api/me')).body.user).toBeNull()
    expect((await laptop.get('/api/me')).body.user).toBe('alice')
  })

  test("another user's session cannot be revoked", async () => {
    const app = appFor(mode)
    const [alice, bob] = [request.agent(app), request.agent(app)]
    await signIn(alice, 'alice', 'a')
    await signIn(bob, 'bob', 'b')
    const bobsId = /<tr data-session-id="([^"]+)" class="current">/.exec((await bob.get('/')).text)?.[1]
    await alice.post(`/devices/${encodeURIComponent(bobsId!)}/revoke`).expect(303)
    expect((await bob.get('/api/me')).body.user).toBe('bob')
  })

  test('"sign out everywhere else" ends every other session of the user, not other users\'', async () => {
    const app = appFor(mode)
    const [laptop, phone, tablet, bob] = [request.agent(app), request.agent(app), request.agent(app), request.agent(app)]
    await signIn(laptop, 'alice', 'laptop')
    await signIn(phone, 'alice', 'phone')
    await signIn(tablet, 'alice', 'tablet')
    await signIn(bob, 'bob', 'bob')
    await laptop.post('/devices/revoke-others').expect(303)
    expect((await phone.get('/api/me')).body.user).toBeNull()
    expect((await tablet.get('/api/me')).body.user).toBeNull()
    expect((await laptop.get('/api/me')).body.user).toBe('alice')
    expect((await bob.get('/api/me')).body.user).toBe('bob')
  })

  test('sign-out ends the session', async () => {
    const app = appFor(mode)
    const laptop = request.agent(app)
    await signIn(laptop, 'alice', 'laptop')
    await laptop.post('/logout').expect(303)
    expect((await laptop.get('/api/me')).body.user).toBeNull()
  })

  test('with Redis out of reach, a sign-in answers 503 from this instance: no crash, no hang', async () => {
    const res = await request(appFor(mode, unreachableCache()))
      .post('/login')
      .type('form')
      .send({ name: 'alice' })
      .set('Accept', 'text/html')
    expect(res.status).toBe(503)
    expect(res.headers['x-served-by']).toBe('instance-7')
  })
})
