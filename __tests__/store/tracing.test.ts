/**
 * The store's `sessionvault:store` tracing channel and `stats()`, on a real Redis: each method
 * publishes its events with `{ layer, operation, durationMs }` and nothing else: no session id,
 * no session data, no user id.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { tracingChannel } from 'node:diagnostics_channel'
import type { SessionData } from 'express-session'
import { CACHE_CHANNEL, MemoryCache, RedisSessionStore, STORE_CHANNEL } from 'sessionvault'
import { connectStandalone, flushAll, type StandaloneClient } from '../helpers/redis'
import { recordTraces, type TraceRecorder } from '../helpers/trace-recorder'
import { sessionData } from './session-data'

const HOUR = 3_600_000
const SID = 'sid-that-must-never-be-traced-91ab'
const USER = 'user-that-must-never-be-traced-5c0d'
const VIEWS = 123_456_789

let client: StandaloneClient
let traces: TraceRecorder
beforeAll(async () => {
  client = await connectStandalone()
})
afterAll(() => client.destroy())
beforeEach(async () => {
  await flushAll(client)
  traces = recordTraces(STORE_CHANNEL)
})
afterEach(() => traces.stop())

test('every store method publishes start, end, asyncStart and asyncEnd, naming only itself', async () => {
  const store = new RedisSessionStore({ client, userOf: (session: SessionData) => session.userId, touchAfterMs: 0 })
  try {
    await store.set(SID, sessionData({ userId: USER, views: VIEWS }, HOUR))
    const loaded = (await store.get(SID)) as SessionData
    await store.touch(SID, loaded)
    await store.all()
    await store.length()
    await store.ids()
    const [listed] = await store.listUserSessions(USER)
    await store.destroyUserSession(USER, (listed as { id: string }).id)
    await store.set(SID, sessionData({ userId: USER, views: VIEWS }, HOUR))
    await store.destroyUserSessions(USER)
    await store.set(SID, sessionData({ userId: USER, views: VIEWS }, HOUR))
    await store.destroy(SID)
    await store.clear()

    const operations = [
      'set',
      'get',
      'touch',
      'all',
      'length',
      'ids',
      'listUserSessions',
      'destroyUserSession',
      'set',
      'destroyUserSessions',
      'set',
      'destroy',
      'clear',
    ]
    const calls = traces.calls()
    expect(calls.map(({ context }) => context['operation'])).toEqual(operations)
    for (const { context, events } of calls) {
      expect(events).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
      expect(Object.keys(context).sort()).toEqual(['durationMs', 'layer', 'operation', 'result'])
      expect(context).toMatchObject({ layer: 'store', result: undefined })
      expect(context['durationMs']).toBeGreaterThanOrEqual(0)
    }
    const published = traces.serialized()
    for (const secret of [SID, store.storedId(SID), USER, String(VIEWS)]) expect(published).not.toContain(secret)

    const stats = store.stats()
    expect(stats.operations).toEqual({
      get: 1,
      set: 3,
      touch: 1,
      destroy: 1,
      all: 1,
      length: 1,
      ids: 1,
      clear: 1,
      listUserSessions: 1,
      destroyUserSession: 1,
      destroyUserSessions: 1,
    })
    expect(stats.cache?.operations.getTimed).toBeGreaterThan(0)
  } finally {
    await store.close()
  }
})

test('a store touch counts once per call, even when touchAfterMs leaves nothing to write', async () => {
  const store = new RedisSessionStore({ client, touchAfterMs: HOUR })
  try {
    await store.set(SID, sessionData({ views: VIEWS }, HOUR))
    const loaded = (await store.get(SID)) as SessionData
    for (let i = 0; i < 3; i++) {
      // As express-session's touch does on every request: the cookie's expiry rolls forward.
      loaded.cookie.expires = new Date(Date.now() + HOUR)
      await store.touch(SID, loaded)
    }
    const stats = store.stats()
    expect(stats.operations.touch).toBe(3)
    expect([stats.cache?.operations.touch, stats.cache?.operations.touchMany]).toEqual([0, 0])
    expect(traces.calls().filter(({ context }) => context['operation'] === 'touch')).toHaveLength(3)
  } finally {
    await store.close()
  }
})

test('a call that fails publishes error with the error the caller gets', async () => {
  const store = new RedisSessionStore({ client })
  try {
    const failure = await store.listUserSessions(USER).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Error)
    const [call] = traces.calls()
    expect(call?.events).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    expect(call?.context).toMatchObject({ layer: 'store', operation: 'listUserSessions', error: failure })
    expect(traces.serialized()).not.toContain(USER)
  } finally {
    await store.close()
  }
})

test('a store on a MemoryCache publishes its own operations; the MemoryCache publishes nothing', async () => {
  const cacheTraces = recordTraces(CACHE_CHANNEL)
  const store = new RedisSessionStore({ cache: new MemoryCache({ ttlMs: HOUR }) })
  try {
    await store.set(SID, sessionData({ views: VIEWS }, HOUR))
    await store.get(SID)
    expect(traces.calls().map(({ context, events }) => [context['operation'], events.length])).toEqual([
      ['set', 4],
      ['get', 4],
    ])
    expect(cacheTraces.events).toEqual([])
    expect(store.stats().cache?.operations).toMatchObject({ put: 0, putIf: 1, getTimed: 1 })
  } finally {
    cacheTraces.stop()
    await store.close()
  }
})

test("an AsyncLocalStorage bound to the store channel's start reaches the cache calls underneath: they nest inside the store call", async () => {
  const spans = new AsyncLocalStorage<string>()
  const storeStart = tracingChannel(STORE_CHANNEL).start
  let calls = 0
  // As an APM agent opens a span: the store call's context becomes the store of what runs inside it.
  storeStart.bindStore(spans, (context) => `store ${String((context as { operation?: string }).operation)} #${++calls}`)
  const cacheCalls: [unknown, string | undefined][] = []
  const cacheStart = tracingChannel(CACHE_CHANNEL).start
  const onCacheStart = (context: unknown) => void cacheCalls.push([(context as { operation?: string }).operation, spans.getStore()])
  cacheStart.subscribe(onCacheStart)
  const store = new RedisSessionStore({ client, nearCache: { maxEntries: 10 } })
  try {
    await store.set(SID, sessionData({ views: VIEWS }, HOUR))
    await store.get(SID)
    expect(spans.getStore()).toBeUndefined()
    expect(cacheCalls.length).toBeGreaterThanOrEqual(2)
    // Every cache call ran inside the store call that made it, the save's first, then the read's.
    expect(cacheCalls.map(([, span]) => span)).toEqual([...cacheCalls.slice(0, -1).map(() => 'store set #1'), 'store get #2'])
    expect(cacheCalls.at(-1)?.[0]).toBe('getTimed')
  } finally {
    cacheStart.unsubscribe(onCacheStart)
    storeStart.unbindStore(spans)
    await store.close()
  }
})
