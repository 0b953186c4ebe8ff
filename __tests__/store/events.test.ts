// The store's session events: created at a session's first save, ended with its reason (logout,
// revoked, evicted, expired), on a MemoryCache and on a real Redis; expired sessions reported
// once by a sweep that runs only while someone listens for `ended`.
import type { SessionData } from 'express-session'
import { MemoryCache } from 'sessionvault/cache'
import { RedisCache } from 'sessionvault/cache'
import type { StoreSessionCreated, StoreSessionEnded } from 'sessionvault/store'
import { RedisSessionStore } from 'sessionvault/store'
import { recordCommands } from '../helpers/command-log'
import { EXPIRY_HOLD_MARGIN_MS } from '../../lib/defaults'
import { eventually, sleep } from '../helpers/waiting'
import { dumpRedis, usePrivateServer } from '../helpers/redis'
import { sessionCacheKey } from './redis-keys'
import { sessionData } from './session-data'
import request from 'supertest'
import { cookieOf, sessionApp } from './apps'
import { Clock } from '../middleware/helpers'

const HOUR = 3_600_000
const SWEEP_MS = 50
const userOf = (session: SessionData) => session.userId

const server = usePrivateServer()

interface Heard {
  created: StoreSessionCreated[]
  ended: StoreSessionEnded[]
}

function listen(store: RedisSessionStore): Heard {
  const heard: Heard = { created: [], ended: [] }
  store.on('created', (event) => heard.created.push(event))
  store.on('ended', (event) => heard.ended.push(event))
  return heard
}

const backends: [string, (clock: Clock) => RedisSessionStore][] = [
  [
    'on a MemoryCache',
    (clock) =>
      new RedisSessionStore({
        cache: new MemoryCache({ ttlMs: HOUR, now: clock.now }),
        userOf,
        now: clock.now,
        expirySweepMs: SWEEP_MS,
        maxSessionsPerUser: 2,
      }),
  ],
  [
    'on Redis',
    (clock) => new RedisSessionStore({ client: server.client, userOf, now: clock.now, expirySweepMs: SWEEP_MS, maxSessionsPerUser: 2 }),
  ],
]

describe.each(backends)('store events %s', (_name, storeFor) => {
  let clock: Clock
  let store: RedisSessionStore
  let heard: Heard
  beforeEach(() => {
    clock = new Clock(Date.now())
    store = storeFor(clock)
    heard = listen(store)
  })
  afterEach(() => store.close())

  test('a first save emits created with the stored id, the user, the time and the expiry; later saves do not', async () => {
    await store.set('sid-1', sessionData({ userId: 'ada' }, HOUR))
    expect(heard.created).toEqual([
      { sessionId: store.storedId('sid-1'), userId: 'ada', at: clock.time, expiresAt: expect.any(Number) as number },
    ])
    const loaded = (await store.get('sid-1')) as SessionData
    await store.set('sid-1', { ...loaded, views: 2 })
    expect(heard.created).toHaveLength(1)
  })

  test('destroy emits ended with reason logout and the user, once; destroying it again emits nothing', async () => {
    await store.set('sid-1', sessionData({ userId: 42 }, HOUR))
    await store.destroy('sid-1')
    await store.destroy('sid-1')
    expect(heard.ended).toEqual([{ sessionId: store.storedId('sid-1'), userId: '42', at: clock.time, reason: 'logout' }])
  })

  test('destroyUserSession and destroyUserSessions emit ended with reason revoked, per session', async () => {
    for (const sid of ['a', 'b']) await store.set(sid, sessionData({ userId: 'ada' }, HOUR))
    expect(await store.destroyUserSession('ada', store.storedId('a'))).toBe(true)
    expect(await store.destroyUserSessions('ada')).toBe(1)
    expect(heard.ended.map((event) => [event.sessionId, event.userId, event.reason])).toEqual([
      [store.storedId('a'), 'ada', 'revoked'],
      [store.storedId('b'), 'ada', 'revoked'],
    ])
  })

  test('a save beyond maxSessionsPerUser emits ended with reason evicted for the session idle longest', async () => {
    await store.set('old', sessionData({ userId: 'ada' }, HOUR / 2))
    for (const sid of ['mid', 'new']) await store.set(sid, sessionData({ userId: 'ada' }, HOUR))
    expect(heard.ended).toEqual([{ sessionId: store.storedId('old'), userId: 'ada', at: clock.time, reason: 'evicted' }])
  })

  test('a save that finds the session over (TTL 0) emits ended with reason expired', async () => {
    await store.set('sid-1', sessionData({ userId: 'ada' }, HOUR))
    await store.set('sid-1', sessionData({ userId: 'ada' }, -1_000))
    expect(heard.ended).toEqual([{ sessionId: store.storedId('sid-1'), userId: 'ada', at: clock.time, reason: 'expired' }])
  })

  test('a touch that finds the session over (TTL 0) emits ended with reason expired', async () => {
    await store.set('sid-1', sessionData({ userId: 'ada' }, HOUR))
    await store.touch('sid-1', sessionData({ userId: 'ada' }, -1_000))
    expect(heard.ended).toEqual([{ sessionId: store.storedId('sid-1'), userId: 'ada', at: clock.time, reason: 'expired' }])
    expect(await store.get('sid-1')).toBeNull()
  })

  test('clear() emits ended with reason revoked for every session', async () => {
    for (const sid of ['a', 'b']) await store.set(sid, sessionData({}, HOUR))
    await store.clear()
    expect(heard.ended.map((event) => [event.sessionId, event.reason]).sort()).toEqual(
      [
        [store.storedId('a'), 'revoked'],
        [store.storedId('b'), 'revoked'],
      ].sort(),
    )
  })
})

describe('expired events from the sweep', () => {
  test('on a MemoryCache: an expired session is reported once, at its expiry, by the injected clock', async () => {
    const clock = new Clock(Date.now())
    const store = new RedisSessionStore({
      cache: new MemoryCache({ ttlMs: HOUR, now: clock.now }),
      now: clock.now,
      expirySweepMs: SWEEP_MS,
    })
    const heard = listen(store)
    try {
      await store.set('short', sessionData({}, 1_000))
      const expiresAt = (await store.cache.getTimed(sessionCacheKey(store.storedId('short'))))?.expiresAtMs as number
      clock.advance(expiresAt - clock.time)
      await eventually(() => heard.ended.length > 0, 5_000, 'the expired event')
      // A few more sweeps: it is not reported again.
      await new Promise((resolve) => setTimeout(resolve, 5 * SWEEP_MS))
      expect(heard.ended).toEqual([{ sessionId: store.storedId('short'), userId: undefined, at: expiresAt, reason: 'expired' }])
    } finally {
      await store.close()
    }
  })

  test('on Redis: two stores listening, sessions expiring: each reported once in all, at the expiry Redis recorded', async () => {
    const stores = [
      new RedisSessionStore({ client: server.client, expirySweepMs: SWEEP_MS }),
      new RedisSessionStore({ client: await server.redis.connect(), expirySweepMs: SWEEP_MS }),
    ]
    const heard = stores.map(listen)
    try {
      const [first] = stores as [RedisSessionStore]
      const sids = Array.from({ length: 20 }, (_, i) => `short-${i}`)
      const expiries = new Map<string, number>()
      for (const sid of sids) {
        await first.set(sid, sessionData({}, 2_000))
        const stored = await first.cache.getTimed(sessionCacheKey(first.storedId(sid)))
        expiries.set(first.storedId(sid), stored?.expiresAtMs ?? Number.NaN)
      }
      const all = () => heard.flatMap((h) => h.ended)
      await eventually(() => all().length >= sids.length, 10_000, 'every expired event')
      await new Promise((resolve) => setTimeout(resolve, 5 * SWEEP_MS))
      expect(all()).toHaveLength(sids.length)
      for (const event of all()) {
        expect(event.reason).toBe('expired')
        expect(event.at).toBe(expiries.get(event.sessionId))
      }
      expect(new Set(all().map((event) => event.sessionId))).toEqual(new Set(expiries.keys()))
    } finally {
      await Promise.all(stores.map((store) => store.close()))
    }
  })

  test('with userOf, on Redis: two stores listening; sessions with a user are reported with it, the others without, each once in all', async () => {
    const stores = [
      new RedisSessionStore({ client: server.client, userOf, expirySweepMs: SWEEP_MS }),
      new RedisSessionStore({ client: await server.redis.connect(), userOf, expirySweepMs: SWEEP_MS }),
    ]
    const heard = stores.map(listen)
    try {
      const [first] = stores as [RedisSessionStore]
      const expected = new Map<string, string | undefined>()
      for (let i = 0; i < 20; i++) {
        const userId = i % 2 === 0 ? `user-${i % 3}` : undefined
        await first.set(`short-${i}`, sessionData(userId === undefined ? {} : { userId }, 300))
        expected.set(first.storedId(`short-${i}`), userId)
      }
      const all = () => heard.flatMap((h) => h.ended)
      await eventually(() => all().length >= expected.size, 10_000, 'every expired event')
      await new Promise((resolve) => setTimeout(resolve, 5 * SWEEP_MS))
      expect(all()).toHaveLength(expected.size)
      expect(new Map(all().map((event) => [event.sessionId, event.userId]))).toEqual(expected)
      expect(all().every((event) => event.reason === 'expired')).toBe(true)
    } finally {
      await Promise.all(stores.map((store) => store.close()))
    }
  })

  test('with userOf and hashUserIds, an expired session is reported without its user: its entry names only a hash', async () => {
    const store = new RedisSessionStore({ client: server.client, userOf, hashUserIds: true, expirySweepMs: SWEEP_MS })
    const heard = listen(store)
    try {
      await store.set('hashed', sessionData({ userId: 'ada' }, 200))
      await eventually(() => heard.ended.length > 0, 5_000, 'the expired event')
      expect(heard.ended.map((event) => [event.sessionId, event.userId, event.reason])).toEqual([
        [store.storedId('hashed'), undefined, 'expired'],
      ])
    } finally {
      await store.close()
    }
  })

  test("on a MemoryCache: a session saved shorter than its user's entry is reported once, without its user, and not again when the entry expires", async () => {
    const clock = new Clock(Date.now())
    const store = new RedisSessionStore({
      cache: new MemoryCache({ ttlMs: HOUR, now: clock.now }),
      userOf,
      now: clock.now,
      expirySweepMs: SWEEP_MS,
    })
    const heard = listen(store)
    try {
      await store.set('shortened', sessionData({ userId: 'ada' }, HOUR))
      await store.set('shortened', sessionData({ userId: 'ada' }, 1_000))
      clock.advance(1_000)
      // Its entry lives on: the session waits out the hold before it is taken as one with no user.
      await new Promise((resolve) => setTimeout(resolve, 5 * SWEEP_MS))
      expect(heard.ended).toEqual([])
      // Past the hold (and the few milliseconds the session's cookie was computed after the clock read).
      clock.advance(SWEEP_MS + EXPIRY_HOLD_MARGIN_MS + 100)
      await eventually(() => heard.ended.length > 0, 5_000, 'the expired event')
      expect(heard.ended.map((event) => [event.sessionId, event.userId, event.reason])).toEqual([
        [store.storedId('shortened'), undefined, 'expired'],
      ])
      clock.advance(HOUR)
      await new Promise((resolve) => setTimeout(resolve, 5 * SWEEP_MS))
      expect(heard.ended).toHaveLength(1)
    } finally {
      await store.close()
    }
  })

  test.each(backends)(
    "with userOf, %s: a user's entry that falls due a moment before its session is written again, and the session is reported with its user, without the hold",
    async (_name, storeFor) => {
      const clock = new Clock(Date.now())
      const store = storeFor(clock)
      const heard = listen(store)
      try {
        await store.set('late', sessionData({ userId: 'ada' }, 1_000))
        const storedId = store.storedId('late')
        const session = (await store.cache.getTimed(sessionCacheKey(storedId)))?.expiresAtMs as number
        // As on Cluster, where the entry is written first, in its own slot: due 300 ms before the session.
        await store.cache.batch({ put: [{ key: ['u', 'ada', storedId], value: '' }] }, { ttlMs: 300 })
        // A MemoryCache keeps expired records for claims from the first sweep on.
        await sleep(2 * SWEEP_MS)
        clock.advance(450)
        await eventually(
          // Due with the session, to the few milliseconds the sweep's estimate of Redis's now allows.
          async () => Math.abs(((await store.cache.getTimed(['u', 'ada', storedId]))?.expiresAtMs ?? 0) - session) <= 50,
          5_000,
          'the entry written again',
        )
        expect(heard.ended).toEqual([])
        clock.advance(session + 1 - clock.time)
        await eventually(() => heard.ended.length > 0, 2_000, 'the expired event, well within the hold')
        expect(heard.ended).toEqual([{ sessionId: storedId, userId: 'ada', at: session, reason: 'expired' }])
      } finally {
        await store.close()
      }
    },
  )

  const liveBackends: [string, () => RedisSessionStore][] = [
    ['on a MemoryCache', () => new RedisSessionStore({ cache: new MemoryCache({ ttlMs: HOUR }), userOf, expirySweepMs: SWEEP_MS })],
    ['on Redis', () => new RedisSessionStore({ client: server.client, userOf, expirySweepMs: SWEEP_MS })],
  ]

  /** The `ended` event of `storedId`, once it comes. */
  async function endedOf(heard: Heard, storedId: string, timeoutMs = 10_000): Promise<StoreSessionEnded[]> {
    await eventually(() => heard.ended.some((event) => event.sessionId === storedId), timeoutMs, `the ended event of ${storedId}`)
    return heard.ended.filter((event) => event.sessionId === storedId)
  }

  test.each(liveBackends)(
    "%s: a loaded session saved under another user drops the old user's entry, and its expiry names the new user",
    async (_name, open) => {
      const store = open()
      const heard = listen(store)
      try {
        await store.set('switched', sessionData({ userId: 'ada' }, HOUR))
        const loaded = (await store.get('switched')) as SessionData
        loaded.userId = 'bob'
        loaded.cookie.expires = new Date(Date.now() + 1_000)
        await store.set('switched', loaded)
        const storedId = store.storedId('switched')
        expect(await store.cache.getTimed(['u', 'ada', storedId])).toBeUndefined()
        expect(await store.listUserSessions('ada')).toEqual([])
        expect((await endedOf(heard, storedId)).map((event) => [event.userId, event.reason])).toEqual([['bob', 'expired']])
      } finally {
        await store.close()
      }
    },
  )

  test.each(liveBackends)(
    '%s: a loaded session saved with no user (a logout without destroy) is reported with none',
    async (_name, open) => {
      const store = open()
      const heard = listen(store)
      try {
        await store.set('left', sessionData({ userId: 'ada' }, HOUR))
        const loaded = (await store.get('left')) as SessionData
        delete loaded.userId
        loaded.cookie.expires = new Date(Date.now() + 1_000)
        await store.set('left', loaded)
        const storedId = store.storedId('left')
        expect(await store.cache.getTimed(['u', 'ada', storedId])).toBeUndefined()
        expect((await endedOf(heard, storedId)).map((event) => [event.userId, event.reason])).toEqual([[undefined, 'expired']])
      } finally {
        await store.close()
      }
    },
  )

  test.each(liveBackends)(
    "%s: saved directly (no load) with no user, 200 ms after a save with one: the old user's entry is not written again, the session is reported with no user",
    async (_name, open) => {
      const store = open()
      const heard = listen(store)
      try {
        await store.set('direct', sessionData({ userId: 'ada' }, 1_000))
        await sleep(200)
        await store.set('direct', sessionData({}, 1_000))
        const ended = await endedOf(heard, store.storedId('direct'))
        expect(ended.map((event) => [event.userId, event.reason])).toEqual([[undefined, 'expired']])
      } finally {
        await store.close()
      }
    },
  )

  // On Redis, whose indexes keep expired entries for a listener added later (a MemoryCache keeps them from its first sweep on).
  test.each(liveBackends.slice(1))(
    "%s: an old user's entry due well before its session, swept together (a listener added late), does not name its user",
    async (_name, open) => {
      const store = open()
      try {
        await store.set('stale', sessionData({ userId: 'ada' }, 300))
        await store.set('stale', sessionData({}, 1_500))
        const storedId = store.storedId('stale')
        await eventually(async () => (await store.cache.getTimed(['s', storedId])) === undefined, 5_000, 'the session to expire')
        const heard = listen(store)
        expect((await endedOf(heard, storedId)).map((event) => [event.userId, event.reason])).toEqual([[undefined, 'expired']])
      } finally {
        await store.close()
      }
    },
  )

  test("an index keeps an expired session's entry through writes to it, so a listener added later still hears it", async () => {
    // One bucket: every save writes (and prunes) the index that holds the expired session.
    const cache = new RedisCache<string>({ client: server.client, namespace: 'kept', ttlMs: HOUR, tagDepth: 2, buckets: 1 })
    const store = new RedisSessionStore({ cache, expirySweepMs: SWEEP_MS })
    try {
      await store.set('expiring', sessionData({}, 200))
      await eventually(
        async () => (await cache.getTimed(sessionCacheKey(store.storedId('expiring')))) === undefined,
        5_000,
        'the session to expire',
      )
      for (let i = 0; i < 10; i++) await store.set(`other-${i}`, sessionData({}, HOUR))
      expect(await store.ids()).not.toContain(store.storedId('expiring'))
      const heard = listen(store)
      await eventually(() => heard.ended.length > 0, 5_000, 'the expired event')
      expect(heard.ended.map((event) => [event.sessionId, event.reason])).toEqual([[store.storedId('expiring'), 'expired']])
      // The index lives a minute past its longest-lived member, for the sweep.
      expect(await server.client.pTTL('kept:_i:{.s#0}')).toBeGreaterThan(HOUR)
    } finally {
      await store.close()
    }
  })

  test('on a cache whose indexes hold other records too (tagDepth 1, one bucket), only sessions are reported', async () => {
    const cache = new RedisCache<string>({ client: server.client, namespace: 'mixed', ttlMs: HOUR, tagDepth: 1, buckets: 1 })
    const store = new RedisSessionStore({ cache, userOf, expirySweepMs: SWEEP_MS })
    const heard = listen(store)
    try {
      for (const sid of ['a', 'b']) await store.set(sid, sessionData({ userId: 'ada' }, 200))
      await eventually(() => heard.ended.length >= 2, 5_000, 'the expired events')
      // Sweeps enough to have reported the users' entries, were they taken for sessions.
      await new Promise((resolve) => setTimeout(resolve, 10 * SWEEP_MS))
      expect(heard.ended.map((event) => [event.sessionId, event.reason]).sort()).toEqual(
        [
          [store.storedId('a'), 'expired'],
          [store.storedId('b'), 'expired'],
        ].sort(),
      )
    } finally {
      await store.close()
    }
  })

  test('a destroyed session is not reported as expired later', async () => {
    const store = new RedisSessionStore({ client: server.client, expirySweepMs: SWEEP_MS })
    const heard = listen(store)
    try {
      await store.set('gone', sessionData({}, 300))
      await store.destroy('gone')
      await store.set('marker', sessionData({}, 300))
      await eventually(() => heard.ended.some((event) => event.reason === 'expired'), 10_000, 'the marker session to expire')
      expect(heard.ended.map((event) => [event.sessionId, event.reason])).toEqual([
        [store.storedId('gone'), 'logout'],
        [store.storedId('marker'), 'expired'],
      ])
    } finally {
      await store.close()
    }
  })

  test('with no ended listener, no sweep reaches Redis; with one, sweeps do; once it is removed, they stop', async () => {
    const store = new RedisSessionStore({ client: server.client, expirySweepMs: SWEEP_MS })
    const sweeps = async () =>
      (await recordCommands(server.redis.server.url, () => new Promise((resolve) => setTimeout(resolve, 10 * SWEEP_MS)))).filter(
        (command) => command.args.includes('ZRANGEBYSCORE'),
      )
    try {
      store.on('created', () => undefined)
      expect(await sweeps()).toEqual([])
      const listener = () => undefined
      store.on('ended', listener)
      expect((await sweeps()).length).toBeGreaterThan(0)
      store.off('ended', listener)
      // A sweep already under way may finish.
      await new Promise((resolve) => setTimeout(resolve, 2 * SWEEP_MS))
      expect(await sweeps()).toEqual([])
    } finally {
      await store.close()
    }
  })
})

test('with userOf, a store that listens for ended keeps nothing more than one that does not: the same keys and values, whatever its sweeps', async () => {
  const clock = new Clock(Date.now())
  const storeAt = (prefix: string) =>
    new RedisSessionStore({ client: server.client, prefix, userOf, now: clock.now, expirySweepMs: SWEEP_MS })
  const listening = storeAt('listening:')
  listening.on('ended', () => undefined)
  const quiet = storeAt('quiet:')
  const sessions = ['a', 'b', 'c'].map((sid, i) => [sid, sessionData({ userId: `user-${i % 2}` }, HOUR)] as const)
  for (const store of [listening, quiet]) for (const [sid, data] of sessions) await store.set(sid, data)
  await sleep(SWEEP_MS * 4)
  // Expiry times (taken from Redis's clock at each write) left out, and with them the order of an index's members.
  const withoutTimes = (value: string) =>
    value.startsWith('[')
      ? JSON.stringify((JSON.parse(value) as { value: string }[]).map((member) => member.value).sort())
      : value.replace(/\d{13}/g, '<ms>')
  const under = async (prefix: string) =>
    new Map(
      [...(await dumpRedis(server.client))]
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, value]) => [key.slice(prefix.length), withoutTimes(value)]),
    )
  const kept = await under('listening:')
  expect(kept).toEqual(await under('quiet:'))
  // Per session, its record and its user's entry; the rest are the indexes they are in.
  const values = [...kept.keys()].filter((key) => !key.startsWith('_'))
  expect(values).toHaveLength(sessions.length * 2)
  await Promise.all([listening.close(), quiet.close()])
})

describe("a login that regenerates the session, as express-session's docs advise, which express-session then saves twice", () => {
  test('is one created event, and keeps the creation time of its first save (absoluteTtlMs counts from there)', async () => {
    const clock = new Clock(Date.now())
    const store = new RedisSessionStore({ client: server.client, userOf, now: clock.now, absoluteTtlMs: HOUR })
    const heard = listen(store)
    // Each save a second after the one before, so that a creation time taken again shows.
    const saves: { sid: string; at: number }[] = []
    const set = store.set.bind(store)
    store.set = async (sid: string, session: SessionData, callback?: (error?: unknown) => void) => {
      clock.advance(1_000)
      saves.push({ sid, at: clock.now() })
      await set(sid, session)
        .then(() => callback?.())
        .catch((error: unknown) => callback?.(error))
    }
    const app = sessionApp(store, { maxAgeMs: 10 * HOUR })
    const first = await request(app).post('/login-regenerated/ada').expect(200)
    // The double save this is about: the login's, then express-session's own at the end.
    expect(saves.map(({ sid }) => sid)).toEqual([saves[0]!.sid, saves[0]!.sid])
    await request(app).post('/login-regenerated/ada').expect(200)
    expect(heard.created.map((event) => event.userId)).toEqual(['ada', 'ada'])
    expect(heard.ended).toEqual([])
    expect(await store.listUserSessions('ada')).toHaveLength(2)
    // Its creation time is its first save's: absoluteTtlMs counts from there, not from the second.
    const cookie = cookieOf(first)
    clock.time = saves[0]!.at + HOUR - 1
    expect((await request(app).get('/me').set('Cookie', cookie)).body).toMatchObject({ userId: 'ada' })
    clock.time = saves[0]!.at + HOUR + 500
    expect((await request(app).get('/me').set('Cookie', cookie)).body).toMatchObject({ userId: null })
    await store.close()
  })
})

test('expirySweepMs must be a whole number of milliseconds, 1 or more: the error names it', () => {
  for (const expirySweepMs of [0, -1, 1.5, Number.NaN]) {
    expect(() => new RedisSessionStore({ cache: new MemoryCache({ ttlMs: HOUR }), expirySweepMs })).toThrow(/expirySweepMs/)
  }
})
