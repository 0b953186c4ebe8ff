// connect-redis's public surface, side by side with connect-redis 9 on this worker's standalone
// Redis: its fields with the same meanings and defaults, later assignments honoured where it
// honours them (or refused with a TypeError saying why), and a promise from every method.
import { RedisStore } from 'connect-redis'
import type { SessionData } from 'express-session'
import { MemoryCache } from 'sessionvault/cache'
import { OptionError } from 'sessionvault'
import { RedisSessionStore } from 'sessionvault/store'
import { connectStandalone, flushAll, type StandaloneClient } from '../helpers/redis'
import { sessionRedisKey } from './redis-keys'
import { sessionData } from './session-data'

let client: StandaloneClient
beforeAll(async () => {
  client = await connectStandalone()
})
afterAll(() => client?.destroy())
beforeEach(() => flushAll(client))

/** Seconds left on a key, as Redis reports them. */
const ttlOf = (key: string) => client.ttl(key)

describe('fields', () => {
  test('a store built with only a client reports the same fields as connect-redis', () => {
    const ours = new RedisSessionStore({ client })
    const theirs = new RedisStore({ client })
    const fields = (store: RedisSessionStore | RedisStore) => ({
      client: store.client,
      prefix: store.prefix,
      scanCount: store.scanCount,
      serializer: store.serializer,
      ttl: store.ttl,
      disableTouch: store.disableTouch,
      disableTTL: store.disableTTL,
    })
    expect(fields(ours)).toEqual(fields(theirs))
    expect(fields(ours)).toEqual({
      client,
      prefix: 'sess:',
      scanCount: 100,
      serializer: JSON,
      ttl: 86_400,
      disableTouch: false,
      disableTTL: false,
    })
  })

  test('the options given are reported as given', () => {
    const serializer = {
      parse: (text: string) => JSON.parse(text) as SessionData,
      stringify: (session: SessionData) => JSON.stringify(session),
    }
    const ttl = (session: SessionData) => (session.userId === undefined ? 60 : 3_600)
    const options = { client, prefix: 'myapp:', scanCount: 500, serializer, ttl, disableTouch: true, disableTTL: true }
    const ours = new RedisSessionStore(options)
    expect([ours.prefix, ours.scanCount, ours.serializer, ours.ttl, ours.disableTouch, ours.disableTTL]).toEqual([
      'myapp:',
      500,
      serializer,
      ttl,
      true,
      true,
    ])
  })

  test('a store built on a cache has no client and no prefix', () => {
    const store = new RedisSessionStore({ cache: new MemoryCache({ ttlMs: 60_000 }) })
    expect([store.client, store.prefix]).toEqual([undefined, undefined])
  })

  test('a scanCount that is not a whole number is refused at construction, naming it', () => {
    expect(() => new RedisSessionStore({ client, scanCount: 1.5 })).toThrow(OptionError)
    expect(() => new RedisSessionStore({ client, scanCount: 1.5 })).toThrow(/scanCount/)
  })
})

describe('assignments after construction', () => {
  test('ttl = 60 applies to the next save, as in connect-redis', async () => {
    const ours = new RedisSessionStore({ client })
    const theirs = new RedisStore({ client })
    ours.ttl = 60
    theirs.ttl = 60
    await ours.set('sid', sessionData({ views: 1 }))
    await theirs.set('sid', sessionData({ views: 1 }))
    const [oursLeft, theirsLeft] = [await ttlOf(sessionRedisKey('sid')), await ttlOf('sess:sid')]
    expect(oursLeft).toBeGreaterThan(50)
    expect(oursLeft).toBeLessThanOrEqual(60)
    expect(theirsLeft).toBeGreaterThan(50)
    expect(theirsLeft).toBeLessThanOrEqual(60)
    expect(ours.ttl).toBe(60)
  })

  test('a ttl function assigned later wins over the cookie, as the option does', async () => {
    const store = new RedisSessionStore({ client })
    store.ttl = () => 30
    await store.set('sid', sessionData({}, 3_600_000))
    expect(await ttlOf(sessionRedisKey('sid'))).toBeLessThanOrEqual(30)
  })

  test('disableTouch = true makes the next touch write nothing', async () => {
    const store = new RedisSessionStore({ client, touchAfterMs: 0 })
    await store.set('sid', sessionData({}, 60_000))
    store.disableTouch = true
    await store.touch('sid', sessionData({}, 3_600_000))
    expect(await ttlOf(sessionRedisKey('sid'))).toBeLessThanOrEqual(60)
    store.disableTouch = false
    await store.touch('sid', sessionData({}, 3_600_000))
    expect(await ttlOf(sessionRedisKey('sid'))).toBeGreaterThan(3_000)
  })

  test('disableTTL = true makes the next save keep the session for good (about 100 years)', async () => {
    const store = new RedisSessionStore({ client })
    store.disableTTL = true
    await store.set('sid', sessionData({}, 60_000))
    expect(await ttlOf(sessionRedisKey('sid'))).toBeGreaterThan(50 * 365 * 86_400)
  })

  test('a serializer assigned later writes and reads from the next call on', async () => {
    const store = new RedisSessionStore({ client })
    const reversed = {
      stringify: (session: SessionData) => [...JSON.stringify(session)].reverse().join(''),
      parse: (text: string) => JSON.parse([...text].reverse().join('')) as SessionData,
    }
    store.serializer = reversed
    await store.set('sid', sessionData({ views: 7 }))
    expect(await client.get(sessionRedisKey('sid'))).toContain('}')
    expect(await store.get('sid')).toMatchObject({ views: 7 })
    store.serializer = JSON
    await expect(store.get('sid')).rejects.toMatchObject({ name: 'CacheError', code: 'UNDECODABLE_VALUE' })
  })

  test.each([
    ['ttl', -1],
    ['ttl', '60'],
    ['disableTouch', 'yes'],
    ['disableTTL', 1],
    ['serializer', { parse: JSON.parse }],
  ])('a bad %s is refused with an OptionError naming it, and the old value stays', (field, value) => {
    const store = new RedisSessionStore({ client })
    const before = (store as unknown as Record<string, unknown>)[field]
    expect(() => Object.assign(store, { [field]: value })).toThrow(OptionError)
    expect(() => Object.assign(store, { [field]: value })).toThrow(new RegExp(field))
    expect((store as unknown as Record<string, unknown>)[field]).toBe(before)
  })

  test.each([
    ['client', /constructed with/],
    ['prefix', /constructed with/],
    ['scanCount', /never runs SCAN/],
  ])('assigning %s throws a TypeError saying why, and changes nothing', (field, why) => {
    const store = new RedisSessionStore({ client })
    const before = (store as unknown as Record<string, unknown>)[field]
    expect(() => Object.assign(store, { [field]: 'other' })).toThrow(TypeError)
    expect(() => Object.assign(store, { [field]: 'other' })).toThrow(why)
    expect((store as unknown as Record<string, unknown>)[field]).toBe(before)
  })

  test('TypeScript refuses those assignments too', () => {
    const store = new RedisSessionStore({ client })
    // @ts-expect-error: the setter takes `never`
    expect(() => (store.prefix = 'other:')).toThrow(TypeError)
  })
})

describe('promises', () => {
  /** Each method with the arguments before its callback. */
  const calls: [string, (store: RedisSessionStore, callback?: (error: unknown, value?: unknown) => void) => unknown][] = [
    ['get', (store, callback) => (callback ? store.get('sid', callback) : store.get('sid'))],
    [
      'set',
      (store, callback) => (callback ? store.set('sid', sessionData({ views: 1 }), callback) : store.set('sid', sessionData({ views: 1 }))),
    ],
    ['touch', (store, callback) => (callback ? store.touch('sid', sessionData({}), callback) : store.touch('sid', sessionData({})))],
    ['destroy', (store, callback) => (callback ? store.destroy('sid', callback) : store.destroy('sid'))],
    ['all', (store, callback) => (callback ? store.all(callback) : store.all())],
    ['length', (store, callback) => (callback ? store.length(callback) : store.length())],
    ['ids', (store, callback) => (callback ? store.ids(callback) : store.ids())],
    ['clear', (store, callback) => (callback ? store.clear(callback) : store.clear())],
  ]

  test.each(calls)(
    '%s returns a promise with a callback or without, and calls the callback once, before its promise settles',
    async (_name, call) => {
      const store = new RedisSessionStore({ client, touchAfterMs: 0 })
      const without = call(store)
      expect(without).toBeInstanceOf(Promise)
      await without
      const callback = jest.fn()
      const withCallback = call(store, callback)
      expect(withCallback).toBeInstanceOf(Promise)
      await expect(withCallback).resolves.toBeUndefined()
      expect(callback).toHaveBeenCalledTimes(1)
      expect(callback.mock.calls[0]?.[0]).toBeNull()
      await new Promise((resolve) => setImmediate(resolve))
      expect(callback).toHaveBeenCalledTimes(1)
    },
  )

  test('await store.set(sid, session, callback) waits for the save and its callback, as with connect-redis', async () => {
    const store = new RedisSessionStore({ client })
    let saved = false
    await store.set('sid', sessionData({ views: 3 }), (error) => {
      saved = error === null
    })
    expect(saved).toBe(true)
  })

  test.each(calls)(
    '%s, failing with a callback, gives the error to the callback once and leaves no unhandled rejection',
    async (_name, call) => {
      // A client of its own, closed: every command fails at once.
      const closed = await connectStandalone()
      const store = new RedisSessionStore({ client: closed, touchAfterMs: 0 })
      closed.destroy()
      const rejections: unknown[] = []
      const onRejection = (reason: unknown) => void rejections.push(reason)
      process.on('unhandledRejection', onRejection)
      try {
        const callback = jest.fn()
        await call(store, callback)
        expect(callback).toHaveBeenCalledTimes(1)
        expect(callback.mock.calls[0]?.[0]).toBeInstanceOf(Error)
        // Without the callback, the same call rejects.
        await expect(call(store)).rejects.toBeInstanceOf(Error)
        // Unhandled rejections are reported after the microtask queue drains.
        await new Promise((resolve) => setImmediate(resolve))
        expect(rejections).toEqual([])
      } finally {
        process.off('unhandledRejection', onRejection)
        await store.close()
      }
    },
  )
})
