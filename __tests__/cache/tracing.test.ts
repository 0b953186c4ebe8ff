/**
 * The cache's `sessionvault:cache` tracing channel and `stats()`, against a real redis-server:
 * every operation publishes start/end/asyncStart/asyncEnd (error when it fails) with its
 * documented context and nothing of the values; the counters move as calls are made.
 */
import { ANY, CACHE_CHANNEL, MemoryCache, RedisCache, isCacheError } from 'sessionvault'
import { connectCluster, connectStandalone, flushAll, privateRedis, type StandaloneClient } from '../helpers/redis'
import { eventually } from '../helpers/waiting'
import { recordTraces, type TraceRecorder } from '../helpers/trace-recorder'

const SECRET_VALUE = 'value-that-must-never-be-traced-4f1c'

let client: StandaloneClient
let traces: TraceRecorder

beforeAll(async () => {
  client = await connectStandalone()
})
afterAll(async () => {
  client.destroy()
})
beforeEach(async () => {
  await flushAll(client)
  traces = recordTraces(CACHE_CHANNEL)
})
afterEach(() => traces.stop())

function cacheOn(namespace: string, extra: Partial<ConstructorParameters<typeof RedisCache>[0]> = {}): RedisCache<string> {
  return new RedisCache<string>({ client, ttlMs: 60_000, namespace, ...extra })
}

const SUCCESS = ['start', 'end', 'asyncStart', 'asyncEnd']

test('every operation publishes start, end, asyncStart and asyncEnd, with its name, namespace, key count and duration', async () => {
  const cache = cacheOn('traced')
  await cache.put(['user', 1, 'a'], SECRET_VALUE)
  await cache.putMany([
    { key: ['user', 1, 'b'], value: SECRET_VALUE },
    { key: ['user', 1, 'c'], value: SECRET_VALUE },
  ])
  await cache.putIf(['user', 1, 'd'], SECRET_VALUE, { absent: true })
  await cache.batch({ put: [{ key: ['user', 1, 'e'], value: SECRET_VALUE }], delete: [['user', 1, 'd']] })
  await cache.get(['user', 1, 'a'])
  await cache.getTimed(['user', 1, 'b'])
  await cache.touch(['user', 1, 'a'])
  await cache.touchMany([
    ['user', 1, 'b'],
    ['user', 1, 'c'],
  ])
  await cache.all(['user', 1, ANY])
  await cache.keys(['user', 1, ANY])
  await cache.count(['user', 1, ANY])
  await cache.countUnder(['user', 1])
  await cache.delete(['user', 1, 'a'])

  const calls = traces.calls()
  expect(calls.map(({ context }) => [context['operation'], context['keyCount']])).toEqual([
    ['put', 1],
    ['putMany', 2],
    ['putIf', 1],
    ['batch', 2],
    ['get', 1],
    ['getTimed', 1],
    ['touch', 1],
    ['touchMany', 2],
    // Listings: the keys found.
    ['all', 4],
    ['keys', 4],
    ['count', 4],
    ['countUnder', 4],
    ['delete', 1],
  ])
  for (const { context, events } of calls) {
    expect(events).toEqual(SUCCESS)
    expect(Object.keys(context).sort()).toEqual(['durationMs', 'keyCount', 'layer', 'namespace', 'operation', 'result'])
    expect(context).toMatchObject({ layer: 'cache', namespace: 'traced', result: undefined })
    expect(context['durationMs']).toBeGreaterThanOrEqual(0)
  }
  expect(traces.serialized()).not.toContain(SECRET_VALUE)
})

test('a call that fails publishes error, with the CacheError the caller gets, then asyncStart and asyncEnd', async () => {
  const cache = cacheOn('traced')
  // A key holding something the cache did not write: reading it is a CacheError.
  await client.set(
    (cache as unknown as { layout: { place(key: unknown[]): { valueKey: string } } }).layout.place(['broken']).valueKey,
    SECRET_VALUE,
  )
  const failure = await cache.get('broken').catch((error: unknown) => error)
  expect(isCacheError(failure) && failure.code).toBe('UNDECODABLE_VALUE')
  const [call] = traces.calls()
  expect(call?.events).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
  expect(call?.context).toMatchObject({ layer: 'cache', operation: 'get', keyCount: 1, error: failure })
  expect(call?.context['durationMs']).toBeGreaterThanOrEqual(0)
  expect(traces.serialized()).not.toContain(SECRET_VALUE)
  expect(cache.stats().errors).toBe(1)
})

test('with a near-cache, a get says whether memory answered it (nearCache: hit) or Redis did (miss)', async () => {
  const cache = cacheOn('near', { nearCache: { maxEntries: 100 } })
  try {
    await cache.put('k', SECRET_VALUE)
    await eventually(async () => (await cache.get('k')) === SECRET_VALUE && cache.stats().nearCache?.size === 1, 5_000, 'a near-cache copy')
    traces.clear()
    const before = cache.stats().nearCache
    await cache.get('k')
    await cache.get('missing')
    const after = cache.stats().nearCache
    expect(traces.calls().map(({ context }) => context['nearCache'])).toEqual(['hit', 'miss'])
    expect(after).toEqual({ hits: (before?.hits ?? NaN) + 1, misses: (before?.misses ?? NaN) + 1, size: 1 })
  } finally {
    await cache.close()
  }
})

test('stats() counts each call of each operation once, whatever it calls inside', async () => {
  const cache = cacheOn('counted', { breaker: false })
  await cache.put('a', 'x')
  await cache.putMany([{ key: 'b', value: 'y' }])
  await cache.get('a')
  await cache.get('a')
  await cache.touch('a')
  await cache.count([ANY])
  const stats = cache.stats()
  expect(stats.operations).toMatchObject({ put: 1, putMany: 1, batch: 0, get: 2, getTimed: 0, touch: 1, touchMany: 0, count: 1, keys: 0 })
  expect(stats).toMatchObject({ errors: 0, nearCache: undefined, breaker: undefined })
})

test('a MemoryCache counts its calls the same way, with no near-cache and no breaker', async () => {
  const cache = new MemoryCache<string>({ ttlMs: 60_000 })
  await cache.put('a', 'x')
  await cache.get('a')
  await cache.keys([ANY])
  expect(cache.stats()).toEqual({
    operations: expect.objectContaining({ put: 1, putMany: 0, batch: 0, get: 1, keys: 1, all: 0 }) as unknown,
    errors: 0,
    nearCache: undefined,
    breaker: undefined,
  })
  expect(traces.events).toEqual([])
})

test('on a 3-master Redis Cluster, a write across slots is one call: one set of events, every key counted', async () => {
  const cluster = await connectCluster()
  try {
    await flushAll(cluster)
    // A long command timeout: this is about the events, and a first listing on a fresh cluster loads scripts on every master.
    const cache = new RedisCache<string>({ client: cluster, ttlMs: 60_000, namespace: 'traced', tagDepth: 2, commandTimeoutMs: 10_000 })
    const users = Array.from({ length: 12 }, (_, n) => ['user', n, 'profile'])
    await cache.putMany(users.map((key) => ({ key, value: SECRET_VALUE })))
    await cache.all(['user', ANY, 'profile'])
    expect(traces.calls().map(({ context, events }) => [context['operation'], context['keyCount'], events])).toEqual([
      ['putMany', 12, SUCCESS],
      ['all', 12, SUCCESS],
    ])
    expect(traces.serialized()).not.toContain(SECRET_VALUE)
  } finally {
    cluster.destroy()
  }
})

describe('on a private redis-server that stops answering', () => {
  test('stats() shows the breaker open on its node, and counts the failed calls; closed once Redis is back', async () => {
    const redis = await privateRedis()
    const cache = new RedisCache<string>({ client: redis.client, ttlMs: 60_000, commandTimeoutMs: 300, breaker: { probeIntervalMs: 50 } })
    try {
      await cache.put('k', 'v')
      expect(cache.stats().breaker).toEqual({ state: 'closed', openNodes: [] })
      process.kill(redis.server.pid, 'SIGSTOP')
      try {
        await expect(cache.get('k')).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
        await expect(cache.get('k')).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
        expect(cache.stats().breaker).toEqual({ state: 'open', openNodes: [''] })
        expect(cache.stats().errors).toBe(2)
        const failed = traces.calls().filter(({ events }) => events.includes('error'))
        expect(failed.map(({ context }) => context['operation'])).toEqual(['get', 'get'])
      } finally {
        process.kill(redis.server.pid, 'SIGCONT')
      }
      await eventually(() => cache.stats().breaker?.state === 'closed', 5_000, 'the breaker to close')
      expect(cache.stats().breaker).toEqual({ state: 'closed', openNodes: [] })
    } finally {
      await cache.close()
      await redis.stop()
    }
  }, 20_000)
})
