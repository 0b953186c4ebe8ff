// Option checking: bad options fail at construction, naming the option; `??`, never `||`.
import { createClient, createCluster } from 'redis'
import { MemoryCache } from 'sessionvault/cache'
import { RedisCache } from 'sessionvault/cache'
import { OptionError } from 'sessionvault'
import { RedisSessionStore } from 'sessionvault/store'
import { STORE_TAG_DEPTH } from 'sessionvault/store'
import { resolveStoreOptions, type RedisSessionStoreOptions } from '../../lib/store/store-options'

const cache = new MemoryCache({ ttlMs: 60_000 })
// Never connected: construction must not need Redis.
const client = createClient()
const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] })

function optionAtFault(options: unknown): string | undefined {
  try {
    new RedisSessionStore(options as RedisSessionStoreOptions)
    return undefined
  } catch (error) {
    if (!(error instanceof OptionError)) throw error
    return error.option
  }
}

describe('RedisSessionStore options', () => {
  test('defaults are connect-redis’s where it has the option', () => {
    expect(resolveStoreOptions({ client })).toMatchObject({
      namespace: 'sess',
      ttl: 86_400,
      disableTTL: false,
      disableTouch: false,
      serializer: JSON,
      tombstoneTtlMs: 3_600_000,
      timeoutMs: 2_000,
      whenUnavailable: 'fail',
    })
  })

  test('by default ids are hashed, time is Date.now, expiry sweeps are 1 s apart, and touchAfterMs is left to each session’s TTL', () => {
    const resolved = resolveStoreOptions({ cache })
    expect(resolved).toMatchObject({ hashIds: true, now: Date.now, expirySweepMs: 1_000 })
    // undefined: a tenth of the session's TTL, at most a minute (see the touchAfterMs tests).
    expect(resolved.touchAfterMs).toBeUndefined()
  })

  test('0 means 0, not the default', () => {
    expect(resolveStoreOptions({ cache, ttl: 0, touchAfterMs: 0, tombstoneTtlMs: 0, absoluteTtlMs: 0, timeoutMs: 0 })).toMatchObject({
      ttl: 0,
      touchAfterMs: 0,
      tombstoneTtlMs: 0,
      absoluteTtlMs: 0,
      timeoutMs: 0,
    })
  })

  describe('the former option names in seconds (touchAfter, absoluteTtl, tombstoneTtl)', () => {
    test.each([
      { former: 'touchAfter', name: 'touchAfterMs', code: 'SESSIONVAULT_DEP_TOUCH_AFTER' },
      { former: 'absoluteTtl', name: 'absoluteTtlMs', code: 'SESSIONVAULT_DEP_ABSOLUTE_TTL' },
      { former: 'tombstoneTtl', name: 'tombstoneTtlMs', code: 'SESSIONVAULT_DEP_TOMBSTONE_TTL' },
    ])('$former still works, converted from seconds, with one DeprecationWarning per process naming $name', ({ former, name, code }) => {
      const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
      try {
        expect(resolveStoreOptions({ cache, [former]: 1.5 })).toMatchObject({ [name]: 1_500 })
        expect(resolveStoreOptions({ cache, [former]: 2 })).toMatchObject({ [name]: 2_000 })
        expect(emitWarning.mock.calls).toEqual([
          [expect.stringContaining(`\`${name}\` (milliseconds)`), { type: 'DeprecationWarning', code }],
        ])
      } finally {
        emitWarning.mockRestore()
      }
    })

    test('giving a former name and its new one together is an OptionError naming the former', () => {
      expect(optionAtFault({ cache, touchAfter: 60, touchAfterMs: 60_000 })).toBe('touchAfter')
    })
  })

  test('a store is built with a client or with a cache', () => {
    expect(new RedisSessionStore({ client }).cache).toBeInstanceOf(RedisCache)
    expect(new RedisSessionStore({ cache }).cache).toBe(cache)
  })

  test('prefix is the namespace of the cache the store builds, without its trailing colon', () => {
    expect(new RedisSessionStore({ client }).cache.namespace).toBe('sess')
    expect(new RedisSessionStore({ client, prefix: 'shop:' }).cache.namespace).toBe('shop')
    expect(new RedisSessionStore({ client, prefix: 'shop' }).cache.namespace).toBe('shop')
    expect(new RedisSessionStore({ client, prefix: 'eu/shop.v2:' }).cache.namespace).toBe('eu/shop.v2')
    expect((new RedisSessionStore({ client, prefix: 'shop:' }).cache as RedisCache).keyPattern).toBe('shop:*')
  })

  test.each([
    { what: 'nothing', options: undefined, option: 'client' },
    { what: 'neither client nor cache', options: {}, option: 'client' },
    { what: 'both client and cache', options: { client, cache }, option: 'cache' },
    { what: 'a client that is not one', options: { client: {} }, option: 'client' },
    { what: 'a cache that is not one', options: { cache: {} }, option: 'cache' },
    { what: 'prefix with a cache', options: { cache, prefix: 'x:' }, option: 'prefix' },
    { what: 'legacyPrefix with a cache', options: { cache, legacyPrefix: 'sess:' }, option: 'legacyPrefix' },
    { what: 'an empty prefix', options: { client, prefix: '' }, option: 'prefix' },
    { what: 'a prefix that is only a colon', options: { client, prefix: ':' }, option: 'prefix' },
    { what: 'a prefix with a brace (a cluster hash tag)', options: { client, prefix: '{app}:' }, option: 'prefix' },
    { what: 'a prefix with a glob character', options: { client, prefix: 'app*' }, option: 'prefix' },
    { what: 'a prefix with a space', options: { client, prefix: 'my app:' }, option: 'prefix' },
    { what: 'a prefix of 65 characters', options: { client, prefix: 'a'.repeat(65) }, option: 'prefix' },
    { what: 'a prefix that is not a string', options: { client, prefix: 7 }, option: 'prefix' },
    {
      what: 'a cache without the methods the store uses (getTimed, touchMany…)',
      options: { cache: { get() {}, putIf() {}, keys() {} } },
      option: 'cache',
    },
    { what: 'hashIds not a boolean', options: { cache, hashIds: 'yes' }, option: 'hashIds' },
    { what: 'now not a function', options: { cache, now: 1_700_000_000_000 }, option: 'now' },
    { what: 'a negative ttl', options: { cache, ttl: -1 }, option: 'ttl' },
    { what: 'a ttl that is not a number', options: { cache, ttl: '1d' }, option: 'ttl' },
    { what: 'an infinite ttl', options: { cache, ttl: Infinity }, option: 'ttl' },
    { what: 'disableTTL not a boolean', options: { cache, disableTTL: 'yes' }, option: 'disableTTL' },
    { what: 'disableTouch not a boolean', options: { cache, disableTouch: 1 }, option: 'disableTouch' },
    { what: 'a serializer without parse', options: { cache, serializer: { stringify: JSON.stringify } }, option: 'serializer' },
    { what: 'userOf not a function', options: { cache, userOf: 'userId' }, option: 'userOf' },
    { what: 'a negative touchAfterMs', options: { cache, touchAfterMs: -1 }, option: 'touchAfterMs' },
    { what: 'a fractional touchAfterMs', options: { cache, touchAfterMs: 0.5 }, option: 'touchAfterMs' },
    { what: 'a negative tombstoneTtlMs', options: { cache, tombstoneTtlMs: -1 }, option: 'tombstoneTtlMs' },
    { what: 'a negative absoluteTtlMs', options: { cache, absoluteTtlMs: -1 }, option: 'absoluteTtlMs' },
    { what: 'a negative touchAfter (seconds, the former name)', options: { cache, touchAfter: -1 }, option: 'touchAfter' },
    { what: 'a fractional timeoutMs', options: { cache, timeoutMs: 1.5 }, option: 'timeoutMs' },
    { what: 'an unknown whenUnavailable', options: { cache, whenUnavailable: 'retry' }, option: 'whenUnavailable' },
  ])('$what is an OptionError naming $option', ({ options, option }) => {
    expect(optionAtFault(options)).toBe(option)
  })

  test('a RedisCache on Redis Cluster without the store’s tag depth is an OptionError naming cache', () => {
    const cache = new RedisCache({ client: cluster, ttlMs: 60_000 })
    expect(cache.tagDepth).not.toBe(STORE_TAG_DEPTH)
    expect(optionAtFault({ cache })).toBe('cache')
    expect(() => new RedisSessionStore({ cache })).toThrow(/tagDepth 1: the store needs tagDepth 2/)
  })

  test('a RedisCache on Redis Cluster with STORE_TAG_DEPTH is accepted, and its namespace plays the prefix’s role', () => {
    const cache = new RedisCache({ client: cluster, ttlMs: 60_000, tagDepth: STORE_TAG_DEPTH, namespace: 'shop' })
    expect(new RedisSessionStore({ cache }).cache.namespace).toBe('shop')
  })

  test('a prefix of 64 characters is accepted', () => {
    expect(optionAtFault({ client, prefix: `${'a'.repeat(64)}:` })).toBeUndefined()
  })

  test('on standalone Redis any tag depth will do: every key is in one place', () => {
    expect(optionAtFault({ cache: new RedisCache({ client, ttlMs: 60_000 }) })).toBeUndefined()
  })

  test('client and cache together, or prefix with a cache, do not compile', () => {
    // @ts-expect-error one of client and cache, not both
    expect(optionAtFault({ client, cache } satisfies RedisSessionStoreOptions)).toBe('cache')
    // @ts-expect-error the cache's namespace plays prefix's role
    expect(optionAtFault({ cache, prefix: 'x:' } satisfies RedisSessionStoreOptions)).toBe('prefix')
  })
})
