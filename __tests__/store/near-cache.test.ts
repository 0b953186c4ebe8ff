/**
 * RedisSessionStore with `nearCache`, two stores as two app servers would have: a hot session
 * is read with no Redis command, and a destroy or save on one store reaches the other at once.
 * A read the near-cache can answer is answered from memory on the next turn, without the
 * promise chain and deadline of a read that goes to Redis: it keeps every promise of one.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { SessionData } from 'express-session'
import { CacheError, MemoryCache, RedisSessionStore, STORE_CHANNEL } from 'sessionvault'
import { type StandaloneClient, usePrivateServer } from '../helpers/redis'
import { sleep } from '../helpers/waiting'
import { clientCommands, recordCommands } from '../helpers/command-log'
import { INVALIDATION_SEEN_WITHIN_MS } from '../helpers/invalidation'
import { recordTraces } from '../helpers/trace-recorder'
import { sessionCacheKey, storedIdFor, userEntryCacheKey } from './redis-keys'

// A private server: one test counts commands.
const own = usePrivateServer()
let clientB: StandaloneClient
let storeA: RedisSessionStore
let storeB: RedisSessionStore

const session = (views: number) =>
  ({ cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, views }) as unknown as SessionData

beforeAll(async () => {
  clientB = await own.redis.connect()
})
beforeEach(async () => {
  storeA = new RedisSessionStore({ client: own.client, nearCache: { maxEntries: 100 } })
  storeB = new RedisSessionStore({ client: clientB, nearCache: { maxEntries: 100 } })
})
afterEach(() => Promise.all([storeA.close(), storeB.close()]))

/** Reads on B until `done`; returns how long that took. */
async function msUntil(done: (found: SessionData | null) => boolean, limitMs = 2_000): Promise<number> {
  const started = performance.now()
  while (!done(await storeB.get('sid'))) {
    if (performance.now() - started > limitMs) throw new Error('B never saw the change')
    await sleep(1)
  }
  return performance.now() - started
}

/** Reads on `store` until a read is served from its near-cache (it connects in the background). */
async function warm(store: RedisSessionStore, sid = 'sid'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await store.get(sid).catch(() => undefined)
    const sent = clientCommands(await recordCommands(own.redis.server.url, () => store.get(sid).catch(() => undefined)))
    if (sent.length === 0) return
    await sleep(5)
  }
  throw new Error('the near-cache never served a read')
}

const warmB = () => warm(storeB)

/** What `run` sent to Redis, from any client. */
const commandsOf = async (run: () => Promise<unknown>) => clientCommands(await recordCommands(own.redis.server.url, run))

test('a hot session is read with no Redis command', async () => {
  await storeA.set('sid', session(1))
  await warmB()
  const sent = clientCommands(
    await recordCommands(own.redis.server.url, async () => {
      for (let i = 0; i < 50; i++) expect(await storeB.get('sid')).toMatchObject({ views: 1 })
    }),
  )
  expect(sent).toEqual([])
})

test('a destroy on one server is seen by the other at once, and never a stale read after', async () => {
  await storeA.set('sid', session(1))
  await warmB()
  await storeA.destroy('sid')
  expect(await msUntil((found) => found === null)).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
  for (let i = 0; i < 20; i++) expect(await storeB.get('sid')).toBeNull()
})

test('a save on one server is seen by the other at once', async () => {
  await storeA.set('sid', session(1))
  await warmB()
  await storeA.set('sid', session(2))
  expect(await msUntil((found) => (found as { views?: number } | null)?.views === 2)).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
})

test('nearCache cannot be combined with a given cache', () => {
  expect(() => new RedisSessionStore({ cache: new MemoryCache({ ttlMs: 1000 }), nearCache: { maxEntries: 1 } } as never)).toThrow(
    /`nearCache`/,
  )
})

describe('a read answered from memory', () => {
  test('is a fresh object each time: what the app changes in one is not in the next', async () => {
    await storeA.set('sid', session(1))
    await warmB()
    const sent = await commandsOf(async () => {
      const first = (await storeB.get('sid')) as SessionData & { views: number }
      first.views = 99
      expect(await storeB.get('sid')).toMatchObject({ views: 1 })
    })
    expect(sent).toEqual([])
  })

  test('comes on the next turn of the event loop, with every other such read of that turn', async () => {
    await storeA.set('sid', session(1))
    await warmB()
    const order: string[] = []
    await commandsOf(
      () =>
        new Promise<void>((resolve) => {
          void storeB.get('sid', () => order.push('first read'))
          void storeB.get('sid', () => order.push('second read'))
          order.push('called')
          setImmediate(() => {
            order.push('next turn, after')
            resolve()
          })
        }),
    ).then((sent) => expect(sent).toEqual([]))
    expect(order).toEqual(['called', 'first read', 'second read', 'next turn, after'])
  })

  test('is marked as read: a touch inside touchAfterMs writes nothing', async () => {
    const store = new RedisSessionStore({ client: own.client, nearCache: { maxEntries: 100 }, touchAfterMs: 60_000 })
    try {
      await store.set('sid', session(1))
      await warm(store)
      const sent = await commandsOf(async () => {
        const loaded = (await store.get('sid')) as SessionData
        // As express-session does on each request: the cookie's expiry moves on.
        loaded.cookie.expires = new Date(Date.now() + 61_000)
        await store.touch('sid', loaded)
      })
      expect(sent).toEqual([])
    } finally {
      await store.close()
    }
  })

  test("is marked with its user: a save that moves it to another user takes it off the first user's list", async () => {
    const store = new RedisSessionStore({
      client: own.client,
      nearCache: { maxEntries: 100 },
      userOf: (data: SessionData) => (data as { userId?: string }).userId,
    })
    try {
      await store.set('sid', { ...session(1), userId: 'ada' })
      await warm(store)
      let loaded: SessionData | null | undefined
      expect(await commandsOf(async () => (loaded = await store.get('sid')))).toEqual([])
      await store.set('sid', { ...(loaded as SessionData), userId: 'grace' })
      expect(await store.listUserSessions('ada')).toEqual([])
      expect((await store.listUserSessions('grace')).map((entry) => entry.id)).toEqual([store.storedId('sid')])
      expect(await own.client.exists(userEntryRedisKey(store, 'ada', store.storedId('sid')))).toBe(0)
    } finally {
      await store.close()
    }
  })

  test('is null once the session has lived absoluteTtlMs, though its copy is still in memory', async () => {
    // The store's clock runs ahead of Redis's: its lifetime ends while Redis still holds it.
    let aheadMs = 0
    const store = new RedisSessionStore({
      client: own.client,
      nearCache: { maxEntries: 100 },
      absoluteTtlMs: 30_000,
      now: () => Date.now() + aheadMs,
    })
    try {
      await store.set('sid', session(1))
      await warm(store)
      aheadMs = 30_000
      expect(await commandsOf(async () => expect(await store.get('sid')).toBeNull())).toEqual([])
    } finally {
      await store.close()
    }
  })

  test('of a stored session the serializer cannot read is a CacheError naming the key, every time', async () => {
    await storeA.cache.put(sessionCacheKey(storedIdFor('sid')), '{not json')
    await warmB()
    const sent = await commandsOf(async () => {
      for (let i = 0; i < 3; i++) {
        const failure = await storeB.get('sid').then(
          () => undefined,
          (error: unknown) => error,
        )
        expect(failure).toBeInstanceOf(CacheError)
        expect(failure).toMatchObject({ code: 'UNDECODABLE_VALUE', key: sessionCacheKey(storedIdFor('sid')) })
      }
    })
    expect(sent).toEqual([])
  })

  test("goes to its callback, in the caller's async context, and the promise resolves once it has run", async () => {
    await storeA.set('sid', session(1))
    await warmB()
    const context = new AsyncLocalStorage<string>()
    const seen: [unknown, unknown, string | undefined][] = []
    const sent = await commandsOf(() =>
      Promise.all(
        ['first request', 'second request'].map((name) =>
          context.run(name, () => storeB.get('sid', (error, found) => void seen.push([error, found, context.getStore()]))),
        ),
      ).then((settled) => expect(settled).toEqual([undefined, undefined])),
    )
    expect(sent).toEqual([])
    expect(seen).toEqual([
      [null, expect.objectContaining({ views: 1 }), 'first request'],
      [null, expect.objectContaining({ views: 1 }), 'second request'],
    ])
  })

  test('is counted once in stats(), and a traced read has its events (it takes the full path)', async () => {
    await storeA.set('sid', session(1))
    await warmB()
    const before = storeB.stats().operations.get
    expect(await commandsOf(async () => void (await storeB.get('sid')))).toEqual([])
    expect(storeB.stats().operations.get).toBe(before + 1)
    const traces = recordTraces(STORE_CHANNEL)
    try {
      expect(await storeB.get('sid')).toMatchObject({ views: 1 })
      expect(traces.calls().map(({ context, events }) => [context['operation'], events])).toEqual([
        ['get', ['start', 'end', 'asyncStart', 'asyncEnd']],
      ])
      expect(storeB.stats().operations.get).toBe(before + 2)
    } finally {
      traces.stop()
    }
  })
})

/** The Redis key of a user's entry for a session in `store`'s layout. */
function userEntryRedisKey(store: RedisSessionStore, userId: string, storedId: string): string {
  return (store.cache as unknown as { layout: { place(key: unknown[]): { valueKey: string } } }).layout.place(
    userEntryCacheKey(userId, storedId),
  ).valueKey
}
