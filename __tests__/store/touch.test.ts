// Touch, as Redis sees it: one small script that renews a session's TTL without a read and
// without resending the session, written only once touchAfterMs has passed, never reviving a
// session that ended. On a server of this file's own, so that MONITOR and commandstats see only
// this file's commands.
import type { SessionData } from 'express-session'
import request from 'supertest'
import { TOUCH_SCRIPT } from '../../lib/cache/lua/touch'
import { RedisSessionStore } from 'sessionvault/store'
import { usePrivateServer } from '../helpers/redis'
import { eventually } from '../helpers/waiting'
import { clientCommands, recordCommands, type SentCommand } from '../helpers/command-log'
import { cookieOf, sessionApp, sidOf } from './apps'
import { redisKeyOf, sessionRedisKey, storedIdFor, userEntryCacheKey } from './redis-keys'
import { sessionData, userOf } from './session-data'

const HOUR = 3_600_000

const redis = usePrivateServer()

/** The names of the commands clients sent (not those scripts ran), upper case. */
const sentNames = (commands: SentCommand[]) => clientCommands(commands).map(([name]) => name?.toUpperCase())
/** The names of the commands scripts ran, upper case. */
const scriptNames = (commands: SentCommand[]) =>
  commands.filter((command) => command.fromScript).map(({ args: [name] }) => name?.toUpperCase())

describe('a touch', () => {
  test('is one EVALSHA and no GET, and renews the TTL without resending the session', async () => {
    const store = new RedisSessionStore({ client: redis.client })
    await store.set('warm-up', sessionData({}, HOUR))
    await store.touch('warm-up', sessionData({}, HOUR)) // loads the script, so EVALSHA finds it
    await store.set('s1', sessionData({ views: 1 }, 60_000))
    const key = sessionRedisKey('s1')
    const before = (await redis.client.get(key)) as string
    expect(await redis.client.pTTL(key)).toBeLessThanOrEqual(60_000)

    const sent = await recordCommands(redis.server.url, () => store.touch('s1', sessionData({ views: 1 }, HOUR)))

    expect(clientCommands(sent).map((args) => args.slice(0, 2))).toEqual([['EVALSHA', TOUCH_SCRIPT.sha1]])
    // Only the header's expiry is rewritten, in place: the session text is neither read nor sent.
    expect(scriptNames(sent)).toEqual(expect.arrayContaining(['SETRANGE', 'PEXPIRE']))
    expect(scriptNames(sent)).not.toContain('GET')
    expect(scriptNames(sent)).not.toContain('SET')
    expect(await redis.client.pTTL(key)).toBeGreaterThan(HOUR - 60_000)
    const after = (await redis.client.get(key)) as string
    expect(after.slice(14)).toBe(before.slice(14))
    expect(Number(after.slice(0, 13))).toBeGreaterThan(Number(before.slice(0, 13)) + HOUR - 120_000)
  })

  test("through express-session with userOf: express-session's GET, then one EVALSHA for the session and its user's entry", async () => {
    const store = new RedisSessionStore({ client: redis.client, userOf, touchAfterMs: 0 })
    const app = sessionApp(store)
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    await request(app).get('/me').set('Cookie', cookie).expect(200) // loads the touch script

    const sent = await recordCommands(redis.server.url, async () => {
      for (let i = 0; i < 10; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)
    })

    expect(sentNames(sent)).toEqual(Array.from({ length: 10 }, () => ['GET', 'EVALSHA']).flat())
    // Each touch rewrites the expiry of both records.
    const id = storedIdFor(sidOf(cookie))
    const rewritten = sent
      .filter((command) => command.fromScript && command.args[0]?.toUpperCase() === 'SETRANGE')
      .map((command) => command.args[1])
    expect(rewritten).toEqual(
      Array.from({ length: 10 }, () => [redisKeyOf(userEntryCacheKey('ada', id)), sessionRedisKey(sidOf(cookie))]).flat(),
    )
    expect(await redis.client.pTTL(redisKeyOf(userEntryCacheKey('ada', id)))).toBeGreaterThan(HOUR - 60_000)
  })

  test('never brings back a destroyed session, nor its user’s entry', async () => {
    const store = new RedisSessionStore({ client: redis.client, userOf, touchAfterMs: 0 })
    const app = sessionApp(store)
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    const sid = sidOf(cookie)
    const slowRequest = (await store.get(sid)) as SessionData
    await request(app).post('/logout').set('Cookie', cookie).expect(200)

    await store.touch(sid, slowRequest)

    expect(await redis.client.get(sessionRedisKey(sid))).toMatch(/^\d{13}x$/)
    expect(await redis.client.exists(redisKeyOf(userEntryCacheKey('ada', storedIdFor(sid))))).toBe(0)
    expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body).toMatchObject({ userId: null })
    expect(await store.listUserSessions('ada')).toEqual([])
  })

  test('never brings back an expired session', async () => {
    const store = new RedisSessionStore({ client: redis.client, userOf })
    await store.set('s1', sessionData({ userId: 'ada' }, 200))
    const loaded = (await store.get('s1')) as SessionData
    const key = sessionRedisKey('s1')
    await eventually(async () => (await redis.client.pTTL(key)) === -2, 5_000, 'the session to expire')

    loaded.cookie.expires = new Date(Date.now() + HOUR)
    await store.touch('s1', loaded)

    expect(await redis.client.exists(key)).toBe(0)
    expect(await store.get('s1')).toBeNull()
    expect(await store.length()).toBe(0)
  })
})

describe('touchAfterMs', () => {
  // A browser-session cookie (no maxAge), so the store's `ttl` decides the TTL and its `now`
  // option moves time for it: no waiting.
  test.each([
    { ttl: 100, windowMs: 10_000, what: 'a tenth of the TTL' },
    { ttl: 86_400, windowMs: 60_000, what: 'at most a minute' },
  ])('by default, requests within $what write nothing, and the first one after writes one touch', async ({ ttl, windowMs }) => {
    let offsetMs = 0
    const store = new RedisSessionStore({ client: redis.client, ttl, now: () => Date.now() + offsetMs })
    const app = sessionApp(store, { maxAgeMs: null })
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    await store.touch('warm-up', sessionData({})) // loads the touch script (and finds nothing to touch)

    const within = await recordCommands(redis.server.url, async () => {
      for (const at of [0, windowMs / 2, windowMs - 3_000]) {
        offsetMs = at
        for (let i = 0; i < 5; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)
      }
    })
    expect(sentNames(within)).toEqual(Array<string>(15).fill('GET'))

    offsetMs = windowMs + 1_000
    const after = await recordCommands(redis.server.url, () => request(app).get('/me').set('Cookie', cookie).expect(200))
    expect(sentNames(after)).toEqual(['GET', 'EVALSHA'])
    expect(scriptNames(after)).toContain('PEXPIRE')
  })

  test('touchAfterMs: 0 touches on every request (as connect-redis does)', async () => {
    const app = sessionApp(new RedisSessionStore({ client: redis.client, touchAfterMs: 0 }))
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    await request(app).get('/me').set('Cookie', cookie).expect(200) // loads the touch script
    const sent = await recordCommands(redis.server.url, async () => {
      for (let i = 0; i < 20; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)
    })
    expect(sentNames(sent)).toEqual(Array.from({ length: 20 }, () => ['GET', 'EVALSHA']).flat())
  })

  test('with touchAfterMs: 60_000, 100 requests inside the window read the session and write nothing', async () => {
    const store = new RedisSessionStore({ client: redis.client, touchAfterMs: 60_000 })
    const app = sessionApp(store, { rolling: true })
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    await redis.client.configResetStat()

    for (let i = 0; i < 100; i++) await request(app).get('/me').set('Cookie', cookie).expect(200)

    const info = await redis.client.info('commandstats')
    const calls = [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].filter(([, name]) => !/^(config|info)\b/.test(name ?? ''))
    expect(Object.fromEntries(calls.map(([, name, count]) => [name, Number(count)]))).toEqual({ get: 100 })
  })
})
