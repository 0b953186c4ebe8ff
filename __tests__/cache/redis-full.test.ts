/**
 * When Redis is full (used memory over `maxmemory`, policy `noeviction`), a write that needs
 * memory fails with a CacheError, while reads and whatever frees memory or needs none still
 * work: a session can still be read, kept alive (touch) and ended (delete, with or without a
 * tombstone). On a private server, since these tests fill it.
 */
import { ANY, CacheError, RedisCache } from 'sessionvault'
import { rejectionOf } from '../helpers/thrown'
import { usePrivateServer } from '../helpers/redis'
import { specPlace, specReadStored } from './layout-spec'
import { standaloneInspector, type RedisInspector } from './redis-inspector'

const OOM = /OOM command not allowed when used memory > 'maxmemory'/

const redis = usePrivateServer(['--maxmemory-policy', 'noeviction'])
let inspect: RedisInspector
let cache: RedisCache

beforeAll(() => {
  inspect = standaloneInspector(redis.client)
})

beforeEach(async () => {
  cache = new RedisCache({ client: redis.client, ttlMs: 60_000, namespace: 'full' })
  await cache.putMany([
    { key: ['s', 'a'], value: { user: 1 } },
    { key: ['s', 'b'], value: { user: 2 } },
  ])
  // Full: any memory in use is more than this.
  await redis.client.configSet('maxmemory', '1')
})
afterEach(() => redis.client.configSet('maxmemory', '0'))

const place = (key: (string | number)[]) => specPlace(key, { namespace: 'full' })

describe('when Redis is full', () => {
  test('put, putMany, putIf and a batch that puts fail with REDIS_ERROR (OOM), and write nothing', async () => {
    const writes: [string, () => Promise<unknown>][] = [
      ['put', () => cache.put(['s', 'a'], 'new')],
      ['put', () => cache.putMany([{ key: ['s', 'c'], value: 'c' }])],
      ['putIf', () => cache.putIf(['s', 'c'], 'c', { absent: true })],
      ['batch', () => cache.batch({ put: [{ key: ['s', 'c'], value: 'c' }], delete: [['s', 'b']] })],
    ]
    const keys = await inspect.scan()
    for (const [operation, write] of writes) {
      const error = await rejectionOf(write(), CacheError)
      expect(error).toMatchObject({ name: 'CacheError', code: 'REDIS_ERROR', operation })
      expect(error.message).toMatch(OOM)
    }
    expect(await inspect.scan()).toEqual(keys)
    expect(await cache.get(['s', 'a'])).toEqual({ user: 1 })
    expect(await cache.get(['s', 'b'])).toEqual({ user: 2 })
  })

  test('get, getTimed and the listings still answer', async () => {
    expect(await cache.get(['s', 'a'])).toEqual({ user: 1 })
    expect((await cache.getTimed(['s', 'b']))?.value).toEqual({ user: 2 })
    expect(await cache.keys(['s', ANY])).toEqual([
      ['s', 'a'],
      ['s', 'b'],
    ])
    expect((await cache.all(['s', ANY])).map((record) => record.value)).toEqual([{ user: 1 }, { user: 2 }])
    expect(await cache.count(['s', ANY])).toBe(2)
    expect(await cache.countUnder(['s'])).toBe(2)
  })

  test('touch still gives a record a new TTL', async () => {
    expect(await cache.touch(['s', 'a'], { ttlMs: 120_000 })).toBe(true)
    expect(
      await cache.touchMany(
        [
          ['s', 'a'],
          ['s', 'b'],
        ],
        { ttlMs: 120_000 },
      ),
    ).toBe(2)
    const { valueKey, indexKey, member } = place(['s', 'a'])
    const pttl = await inspect.pttl(valueKey)
    expect(pttl).toBeGreaterThan(60_000)
    expect(pttl).toBeLessThanOrEqual(120_000)
    const { expiresAtMs } = specReadStored((await inspect.get(valueKey)) as string)
    expect(await inspect.zscore(indexKey, member)).toBe(expiresAtMs)
    expect(await cache.get(['s', 'a'])).toEqual({ user: 1 })
  })

  test('delete still ends a record, leaving nothing', async () => {
    expect(await cache.delete(['s', 'a'])).toBe(true)
    expect(await cache.get(['s', 'a'])).toBeUndefined()
    expect(await inspect.scan(place(['s', 'a']).valueKey)).toEqual([])
    expect(await cache.keys(['s', ANY])).toEqual([['s', 'b']])
  })

  test('delete with tombstoneMs still ends a record, leaving its tombstone', async () => {
    expect(await cache.delete(['s', 'a'], { tombstoneMs: 30_000 })).toBe(true)
    expect(await cache.get(['s', 'a'])).toBeUndefined()
    expect(specReadStored((await inspect.get(place(['s', 'a']).valueKey)) as string)).toMatchObject({ mark: 'x', value: '' })
    await redis.client.configSet('maxmemory', '0')
    expect(await cache.putIf(['s', 'a'], 'late', { unlessDeleted: true })).toBe(false)
  })

  test('touch and delete work even before their scripts are loaded, and put still fails', async () => {
    await redis.client.scriptFlush()
    expect(await cache.touch(['s', 'a'])).toBe(true)
    expect(await cache.delete(['s', 'b'], { tombstoneMs: 30_000 })).toBe(true)
    expect(await cache.delete(['s', 'a'])).toBe(true)
    const error = await rejectionOf(cache.put(['s', 'c'], 'c'), CacheError)
    expect(error).toMatchObject({ code: 'REDIS_ERROR', operation: 'put' })
    expect(error.message).toMatch(OOM)
  })

  test('once memory is freed, puts work again', async () => {
    await expect(cache.put(['s', 'c'], 'c')).rejects.toMatchObject({ code: 'REDIS_ERROR' })
    await redis.client.configSet('maxmemory', '0')
    await cache.put(['s', 'c'], 'c')
    expect(await cache.get(['s', 'c'])).toBe('c')
  })
})
