import { ANY, MemoryCache } from 'sessionvault'
import { describeCacheConformance } from './conformance'

describeCacheConformance('MemoryCache', async (options) => {
  let now = 1_700_000_000_000
  const cache = new MemoryCache({ ...options, now: () => now })
  return {
    cache,
    advance: async (ms) => {
      now += ms
    },
    now: async () => now,
    tagDepth: 1,
  }
})

describe('MemoryCache', () => {
  test('flush(), the former name of settled(), still waits for async writes, with one DeprecationWarning per process', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    try {
      const cache = new MemoryCache({ ttlMs: 1_000, writes: 'async' })
      void cache.put('a', 1)
      await cache.flush()
      expect(await cache.get('a')).toBe(1)
      await cache.flush()
      expect(emitWarning.mock.calls).toEqual([
        [
          expect.stringContaining('cache.flush() is renamed cache.settled()'),
          { type: 'DeprecationWarning', code: 'SESSIONVAULT_DEP_FLUSH' },
        ],
      ])
    } finally {
      emitWarning.mockRestore()
    }
  })

  test('expired records are swept on later writes, so unread keys do not pile up', async () => {
    let now = 0
    const cache = new MemoryCache({ ttlMs: 1_000, now: () => now })
    await cache.putMany(Array.from({ length: 100 }, (_, i) => ({ key: i, value: i })))
    now += 5_000
    await cache.put('fresh', 1)
    expect(cache.size).toBe(1)
    expect(await cache.keys(ANY)).toEqual([['fresh']])
  })

  test('an expiry exactly at now counts as expired', async () => {
    let now = 0
    const cache = new MemoryCache({ ttlMs: 1_000, now: () => now })
    await cache.put('k', 1)
    now = 999
    expect(await cache.get('k')).toBe(1)
    expect(await cache.getTimed('k')).toEqual({ value: 1, expiresAtMs: 1_000 })
    now = 1_000
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.touch('k')).toBe(false)
  })

  test('expiries follow the injected clock exactly: put, touch, putIf and tombstones', async () => {
    let now = 10_000
    const cache = new MemoryCache({ ttlMs: 1_000, now: () => now })
    await cache.put('k', 1, { ttlMs: 500 })
    expect((await cache.getTimed('k'))?.expiresAtMs).toBe(10_500)
    now = 10_400
    expect(await cache.touch('k', { ttlMs: 2_000 })).toBe(true)
    expect((await cache.getTimed('k'))?.expiresAtMs).toBe(12_400)
    expect(await cache.putIf('k', 2, { ifValue: 1, ttlMs: 100 })).toBe(true)
    expect((await cache.getTimed('k'))?.expiresAtMs).toBe(10_500)
    expect(await cache.delete('k', { tombstoneMs: 300 })).toBe(true)
    now = 10_699
    expect(await cache.putIf('k', 3, { unlessDeleted: true })).toBe(false)
    now = 10_700
    expect(await cache.putIf('k', 3, { unlessDeleted: true })).toBe(true)
  })

  test('size counts live records, not tombstones', async () => {
    const cache = new MemoryCache({ ttlMs: 1_000 })
    await cache.putMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ])
    await cache.delete('a', { tombstoneMs: 1_000 })
    expect(cache.size).toBe(1)
  })
})
