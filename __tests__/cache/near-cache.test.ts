/**
 * The near-cache on real Redis: hot reads cost no round trip, and a change made through any
 * other connection (another app server) evicts the copy at once.
 */
import { OptionError, RedisCache, type RedisClient } from 'sessionvault'
import { connectCluster, flushAll, usePrivateServer, type StandaloneClient } from '../helpers/redis'
import { sleep } from '../helpers/waiting'
import { clientCommands, recordCommands } from '../helpers/command-log'
import { INVALIDATION_SEEN_WITHIN_MS } from '../helpers/invalidation'
import { whileLive } from '../helpers/while-live'
import { NOT_IN_MEMORY, peekShared, peekSharedTimed, readShared, readSharedTimed } from '../../lib/cache/shared-read'

const options = { ttlMs: 60_000, namespace: 'near', tagDepth: 2 }

/** Polls `read` until `done(value)`; returns how long that took. Fails after `limitMs`. */
async function msUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, limitMs = 2_000): Promise<number> {
  const started = performance.now()
  while (!done(await read())) {
    if (performance.now() - started > limitMs) throw new Error(`still not changed after ${limitMs} ms`)
    await sleep(1)
  }
  return performance.now() - started
}

describe('on standalone Redis', () => {
  // A private server: one test counts commands.
  const own = usePrivateServer()
  let serverB: StandaloneClient
  let cacheA: RedisCache
  let cacheB: RedisCache

  beforeAll(async () => {
    serverB = await own.redis.connect()
  })
  beforeEach(() => {
    cacheA = new RedisCache({ ...options, client: own.client, nearCache: { maxEntries: 1_000 } })
    cacheB = new RedisCache({ ...options, client: serverB, nearCache: { maxEntries: 1_000 } })
  })
  afterEach(() => Promise.all([cacheA.close(), cacheB.close()]))

  /** The near-cache connects in the background; a hot read is one that follows a tracked read. */
  async function warm(cache: RedisCache, key: (string | number)[]): Promise<void> {
    await msUntil(
      async () => {
        await cache.get(key)
        return cache.nearCacheStats?.size ?? 0
      },
      (size) => size > 0,
    )
  }

  test('a hot record is read from memory: no Redis command at all', async () => {
    await cacheA.put(['user', 1], { name: 'Ada' })
    await warm(cacheA, ['user', 1])
    const sent = clientCommands(
      await recordCommands(own.server.url, async () => {
        for (let i = 0; i < 100; i++) expect(await cacheA.get(['user', 1])).toEqual({ name: 'Ada' })
      }),
    )
    expect(sent).toEqual([])
    expect(cacheA.nearCacheStats?.hits).toBeGreaterThanOrEqual(100)
  })

  test('hot reads made together are answered together from memory; one whose copy is evicted meanwhile reads Redis', async () => {
    await cacheA.put('k', { n: 1 })
    await warm(cacheA, ['k'])
    const sent = clientCommands(
      await recordCommands(own.server.url, async () => {
        expect(await Promise.all(Array.from({ length: 100 }, () => cacheA.get('k')))).toEqual(Array.from({ length: 100 }, () => ({ n: 1 })))
      }),
    )
    expect(sent).toEqual([])
    // A hit is answered on the next turn of the event loop; this write evicts the copy before then.
    const read = cacheA.get('k')
    await cacheA.put('k', { n: 2 })
    expect(await read).toEqual({ n: 2 })
  })

  test('each read returns its own copy: mutating it does not change the cache', async () => {
    await cacheA.put('k', { n: 1 })
    await warm(cacheA, ['k'])
    const first = (await cacheA.get('k')) as { n: number }
    first.n = 2
    expect(await cacheA.get('k')).toEqual({ n: 1 })
  })

  test('a shared read decodes a hot copy once and hands out a frozen value, which no change can reach; get still copies', async () => {
    await cacheA.put('shared', { user: { name: 'Ada' }, tags: ['a'] })
    await warm(cacheA, ['shared'])
    const first = (await readShared(cacheA, 'shared')) as { user: { name: string }; tags: string[] }
    expect(await readShared(cacheA, 'shared')).toBe(first)
    expect(Object.isFrozen(first) && Object.isFrozen(first.user) && Object.isFrozen(first.tags)).toBe(true)
    expect(() => {
      first.user.name = 'Eve'
    }).toThrow(TypeError)
    expect(() => first.tags.push('b')).toThrow(TypeError)
    const copy = (await cacheA.get('shared')) as { user: { name: string } }
    expect(copy).not.toBe(first)
    copy.user.name = 'Eve'
    expect(await readShared(cacheA, 'shared')).toEqual({ user: { name: 'Ada' }, tags: ['a'] })
  })

  test('a timed shared read gives what getTimed gives, frozen and shared, and a peek gives the same from memory at once', async () => {
    await cacheA.put('timed', { user: { name: 'Ada' } }, { ttlMs: 60_000 })
    await warm(cacheA, ['timed'])
    // Not decoded yet: a peek does not read.
    expect(peekSharedTimed(cacheA, 'timed')).toBe(NOT_IN_MEMORY)
    const timed = await readSharedTimed(cacheA, 'timed')
    expect(timed).toEqual(await cacheA.getTimed('timed'))
    expect(Object.isFrozen(timed) && Object.isFrozen(timed?.value)).toBe(true)
    expect(await readSharedTimed(cacheA, 'timed')).toBe(timed)
    const { hits } = cacheA.stats().nearCache as { hits: number }
    const getTimedCalls = cacheA.stats().operations.getTimed
    expect(peekSharedTimed(cacheA, 'timed')).toBe(timed)
    expect(peekShared(cacheA, 'timed')).toBe(timed?.value)
    expect(cacheA.stats().nearCache?.hits).toBe(hits + 2)
    expect(cacheA.stats().operations.getTimed).toBe(getTimedCalls + 1)
    // A change evicts the copy: the next peek misses, the next read gives the new record.
    await cacheA.put('timed', { user: { name: 'Grace' } }, { ttlMs: 60_000 })
    expect(peekSharedTimed(cacheA, 'timed')).toBe(NOT_IN_MEMORY)
    expect((await readSharedTimed(cacheA, 'timed'))?.value).toEqual({ user: { name: 'Grace' } })
  })

  test('a shared read sees a change on another server as get does, at once', async () => {
    await cacheA.put(['user', 4], { v: 1 })
    await warm(cacheB, ['user', 4])
    expect(await readShared(cacheB, ['user', 4])).toEqual({ v: 1 })
    await cacheA.put(['user', 4], { v: 2 })
    const elapsed = await msUntil(
      () => readShared(cacheB, ['user', 4]),
      (value) => (value as { v: number } | undefined)?.v === 2,
    )
    expect(elapsed).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
    await cacheA.delete(['user', 4])
    await msUntil(
      () => readShared(cacheB, ['user', 4]),
      (value) => value === undefined,
    )
  })

  test('a delete on another server is seen at once, and never a stale read after', async () => {
    await cacheA.put(['user', 2], 'session')
    await warm(cacheB, ['user', 2])
    await cacheA.delete(['user', 2])
    const elapsed = await msUntil(
      () => cacheB.get(['user', 2]),
      (value) => value === undefined,
    )
    expect(elapsed).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
    for (let i = 0; i < 50; i++) expect(await cacheB.get(['user', 2])).toBeUndefined()
  })

  test('a change on another server is seen at once', async () => {
    await cacheA.put(['user', 3], 'v1')
    await warm(cacheB, ['user', 3])
    await cacheA.put(['user', 3], 'v2')
    const elapsed = await msUntil(
      () => cacheB.get(['user', 3]),
      (value) => value === 'v2',
    )
    expect(elapsed).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
  })

  test("the cache's own writes are read back at once", async () => {
    await cacheA.put('mine', 1)
    await warm(cacheA, ['mine'])
    for (let i = 2; i < 50; i++) {
      await cacheA.put('mine', i)
      expect(await cacheA.get('mine')).toBe(i)
    }
    await cacheA.delete('mine')
    expect(await cacheA.get('mine')).toBeUndefined()
  })

  test('a copy expires with its record, even before Redis says so', async () => {
    const writtenAt = Date.now()
    await cacheA.put('short', 1, { ttlMs: 300 })
    // Only a record that still lives can be copied; Redis runs on this machine's clock.
    await whileLive(Date.now, writtenAt + 300, () => warm(cacheA, ['short']))
    // Twice the TTL and more.
    await sleep(700)
    expect(await cacheA.get('short')).toBeUndefined()
  })

  test("a touch on another server is seen at once: the copy gives the record's new expiry", async () => {
    await cacheA.put(['user', 4], 'session', { ttlMs: 60_000 })
    await warm(cacheB, ['user', 4])
    const before = (await cacheB.getTimed(['user', 4]))?.expiresAtMs as number
    expect(await cacheA.touch(['user', 4], { ttlMs: 120_000 })).toBe(true)
    const elapsed = await msUntil(
      async () => (await cacheB.getTimed(['user', 4]))?.expiresAtMs,
      (expiresAtMs) => expiresAtMs !== undefined && expiresAtMs > before + 30_000,
    )
    expect(elapsed).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
    expect(await cacheB.getTimed(['user', 4])).toEqual(await cacheA.getTimed(['user', 4]))
  })

  test('a tombstone left on another server is seen at once as no record', async () => {
    await cacheA.put(['user', 5], 'session')
    await warm(cacheB, ['user', 5])
    expect(await cacheA.delete(['user', 5], { tombstoneMs: 60_000 })).toBe(true)
    expect(
      await msUntil(
        () => cacheB.get(['user', 5]),
        (value) => value === undefined,
      ),
    ).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
    expect(await cacheB.getTimed(['user', 5])).toBeUndefined()
  })

  test('a FLUSHALL empties every near-cache', async () => {
    await cacheA.put('k', 1)
    await warm(cacheB, ['k'])
    await own.client.flushAll()
    await msUntil(
      () => cacheB.get('k'),
      (value) => value === undefined,
      1_000,
    )
  })

  test('it is bounded by maxEntries', async () => {
    const small = new RedisCache({ ...options, client: own.client, nearCache: { maxEntries: 5 } })
    try {
      await small.putMany(Array.from({ length: 20 }, (_, i) => ({ key: ['n', i], value: i })))
      await warm(small, ['n', 0])
      for (let i = 0; i < 20; i++) await small.get(['n', i])
      expect(small.nearCacheStats?.size).toBe(5)
    } finally {
      await small.close()
    }
  })

  test('a bad nearCache option fails at construction, naming it', () => {
    expect(() => new RedisCache({ ...options, client: own.client, nearCache: { maxEntries: 0 } })).toThrow(/`nearCache.maxEntries`/)
    const noDuplicate = { sendCommand: own.client.sendCommand.bind(own.client) } as unknown as RedisClient
    expect(() => new RedisCache({ ...options, client: noDuplicate, nearCache: { maxEntries: 1 } })).toThrow(OptionError)
  })
})

describe('closing', () => {
  const own = usePrivateServer()

  /** The server's connections that have client tracking on: the near-cache's own. */
  async function trackingConnections(): Promise<number> {
    const list = await own.client.clientList()
    return list.filter((connection) => connection.flags.includes('t')).length
  }

  // node-redis finishes a connection it was asked to close midway; close() must wait for it
  // and end it, else that connection holds the process open (jest would never exit).
  test('close() right after construction, while the near-cache is still connecting, leaves no connection behind', async () => {
    const caches = Array.from({ length: 5 }, () => new RedisCache({ ...options, client: own.client, nearCache: { maxEntries: 10 } }))
    await Promise.all(caches.map((cache) => cache.close()))
    await msUntil(trackingConnections, (count) => count === 0)
    // A connection that escaped close() would show up here, once its handshake is done.
    await sleep(200)
    expect(await trackingConnections()).toBe(0)
  })

  test('close() twice is harmless', async () => {
    const cache = new RedisCache({ ...options, client: own.client, nearCache: { maxEntries: 10 } })
    await cache.put('k', 1)
    await cache.close()
    await cache.close()
    expect(await cache.get('k')).toBe(1)
  })
})

describe('when the near-cache loses its connection', () => {
  const own = usePrivateServer(['--appendonly', 'yes'])

  test('copies are dropped, reads fail within the timeout, and caching resumes after Redis returns', async () => {
    const cache = new RedisCache({ ...options, client: own.client, commandTimeoutMs: 300, nearCache: { maxEntries: 10 } })
    try {
      await cache.put('k', 'before')
      await msUntil(
        async () => (await cache.get('k'), cache.nearCacheStats?.size ?? 0),
        (size) => size > 0,
      )
      await own.server.stop()
      // Dropped as soon as the client sees its connection close (until then nothing has changed
      // in Redis, so the copy is still right), and reads then go to Redis and fail.
      await msUntil(
        async () => cache.nearCacheStats?.size ?? 0,
        (size) => size === 0,
        5_000,
      )
      await expect(cache.get('k')).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
      expect(cache.nearCacheStats?.size).toBe(0)
      await own.server.restart()
      await msUntil(
        () => cache.get('k').catch(() => 'down'),
        (value) => value === 'before',
        10_000,
      )
      await msUntil(
        async () => (await cache.get('k'), cache.nearCacheStats?.size ?? 0),
        (size) => size > 0,
        10_000,
      )
    } finally {
      await cache.close()
    }
  })
})

test('on a 3-master Redis Cluster, a revoke on one server is seen by the other at once, for keys on every master', async () => {
  const [clusterA, clusterB] = await Promise.all([connectCluster(), connectCluster()])
  const cacheA = new RedisCache({ ...options, client: clusterA, nearCache: { maxEntries: 1_000 } })
  const cacheB = new RedisCache({ ...options, client: clusterB, nearCache: { maxEntries: 1_000 } })
  try {
    await flushAll(clusterA)
    const keys = Array.from({ length: 12 }, (_, i) => ['user', i])
    await cacheA.putMany(keys.map((key) => ({ key, value: 'session' })))
    for (const key of keys) {
      await msUntil(
        async () => (await cacheB.get(key), cacheB.nearCacheStats?.size ?? 0),
        (size) => size > keys.indexOf(key),
      )
    }
    for (const key of keys) {
      await cacheA.delete(key)
      expect(
        await msUntil(
          () => cacheB.get(key),
          (value) => value === undefined,
        ),
      ).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
    }
  } finally {
    await Promise.all([cacheA.close(), cacheB.close()])
    await Promise.all([clusterA.close(), clusterB.close()])
  }
})
