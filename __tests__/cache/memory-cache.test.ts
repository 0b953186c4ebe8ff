import { ANY, MemoryCache } from '../../lib'
import { describeCacheConformance } from './conformance'

describeCacheConformance('MemoryCache', async (options) => {
  let now = 1_700_000_000_000
  const cache = new MemoryCache({ ...options, now: () => now })
  return {
    cache,
    advance: async (ms) => {
      now += ms
    },
  }
})

describe('MemoryCache', () => {
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
    now = 1_000
    expect(await cache.get('k')).toBeUndefined()
  })
})
