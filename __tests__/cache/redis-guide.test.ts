/**
 * The seven tests of the Redis cache guide this layer grew from, ported to RedisCache. They run
 * on a private redis-server because one of them fills its memory.
 */
import { createClient } from 'redis'
import { ANY, CacheError, RedisCache, type RedisCacheOptions } from 'sessionvault'
import { usePrivateServer } from '../helpers/redis'
import { sleep } from '../helpers/waiting'
import { specDecodeSegments, specPlace, specSegment } from './layout-spec'

const redis = usePrivateServer()

const defaults = { namespace: 'test', ttlMs: 3_600_000 }
const cacheWith = (options: Partial<RedisCacheOptions> = {}) => new RedisCache({ ...defaults, client: redis.client, ...options })

/**
 * The records under `prefix` listed in their home index (the sorted set, with tagDepth 1, of the
 * bucket of the prefix's first part), read straight from Redis and decoded, the prefix left out.
 */
async function indexMembers(prefix: [string | number], { liveOnly = false } = {}): Promise<unknown[]> {
  const { indexKey } = specPlace([...prefix, 'any'], { namespace: 'test' })
  const under = `${specSegment(prefix[0])}:`
  // Live: scored after now (this machine's clock is the local Redis's).
  const members = (await redis.client.zRangeByScore(indexKey, liveOnly ? `(${Date.now()}` : '-inf', '+inf')).filter((member) =>
    member.startsWith(under),
  )
  return members.map((member) => {
    const parts = specDecodeSegments(member.slice(under.length))
    return parts.length === 1 ? parts[0] : parts
  })
}

test('can put, get and delete records', async () => {
  const cache = cacheWith()
  expect(await cache.get('key')).toBeUndefined()
  await cache.put('key', 'value')
  expect(await cache.get('key')).toBe('value')
  await cache.delete('key')
  expect(await cache.get('key')).toBeUndefined()
})

test('with writes: async, put and batch return before Redis has them; delete, which answers, waits for it', async () => {
  const writer = createClient({ url: redis.server.url })
  await writer.connect()
  const cache = cacheWith({ writes: 'async', client: writer })
  const reader = cacheWith()
  // Redis holds the writer's writes while paused, and the reader's reads go on: "not yet" is
  // observable without racing a timer (each read below comes milliseconds into a 500 ms pause).
  const pauseWrites = () => redis.client.sendCommand(['CLIENT', 'PAUSE', '500', 'WRITE'])
  try {
    await pauseWrites()
    await cache.put('key', 'value')
    expect(await reader.get('key')).toBeUndefined()
    await cache.settled()
    expect(await reader.get('key')).toBe('value')

    await pauseWrites()
    await cache.batch({ delete: ['key'] })
    expect(await reader.get('key')).toBe('value')
    await cache.settled()
    expect(await reader.get('key')).toBeUndefined()

    await cache.put('key', 'again')
    await cache.settled()
    await pauseWrites()
    const deleted = cache.delete('key')
    expect(await reader.get('key')).toBe('again')
    expect(await deleted).toBe(true)
    expect(await reader.get('key')).toBeUndefined()
  } finally {
    await writer.close()
  }
})

test('delete removes from redis sets', async () => {
  const cache = cacheWith()
  await cache.put(['namespace', 'key1'], 'value')
  await cache.put(['namespace', 'key2'], 'value')
  expect(await indexMembers(['namespace'])).toEqual(['key1', 'key2'])
  await cache.delete(['namespace', 'key1'])
  expect(await indexMembers(['namespace'])).toEqual(['key2'])
})

describe('with redis errors', () => {
  let maxmemory: string
  beforeEach(async () => {
    maxmemory = (await redis.client.configGet('maxmemory'))['maxmemory'] ?? '0'
    await redis.client.configSet('maxmemory', '10')
  })
  afterEach(() => redis.client.configSet('maxmemory', maxmemory))

  test('raises error', async () => {
    const put = cacheWith().put('key', 'value')
    await expect(put).rejects.toBeInstanceOf(CacheError)
    await expect(put).rejects.toMatchObject({ code: 'REDIS_ERROR', operation: 'put' })
    await expect(put).rejects.toThrow("OOM command not allowed when used memory > 'maxmemory'.")
  })
})

test('can put multiple records at once', async () => {
  const cache = cacheWith()
  await cache.putMany([
    { key: 'key1', value: '1' },
    { key: 'key2', value: '2' },
  ])
  expect(await cache.get('key1')).toBe('1')
  expect(await cache.get('key2')).toBe('2')
})

test('can match fetch all', async () => {
  const cache = cacheWith()
  expect(await cache.all(ANY)).toEqual([])
  for (let number = 1; number <= 11; number++) await cache.put(`key${number}`, 'value')
  const items = await cache.all(ANY)
  expect(items).toContainEqual({ key: ['key1'], value: 'value', expiresAtMs: expect.any(Number) })
  expect(items).toContainEqual({ key: ['key2'], value: 'value', expiresAtMs: expect.any(Number) })
  expect(items).toHaveLength(11)
  await cache.put(['namespace', 'key'], 'value')
  await cache.put(['namespace', 'key', 'key2'], 'value')
  expect(await cache.all(['namespace', ANY])).toEqual([{ key: ['namespace', 'key'], value: 'value', expiresAtMs: expect.any(Number) }])
})

test('records auto purge', async () => {
  // The guide's timings (50/100/150 ms) scaled up so that every wait is at least twice the TTL
  // it outlives, and every record read as live has at least twice the time elapsed left.
  const ttl = 300
  const cache = cacheWith({ ttlMs: ttl })
  await cache.put('key', 'value')
  await cache.putMany([
    { key: 'key1', value: '1' },
    { key: ['namespace', 'key2'], value: '2' },
  ])
  expect(await cache.get('key')).toBe('value')
  expect(await cache.get('key1')).toBe('1')
  expect(await cache.get(['namespace', 'key2'])).toBe('2')
  expect(await indexMembers(['namespace'])).toEqual(['key2'])
  await cache.put(['namespace', 'key3'], '3', { ttlMs: 4 * ttl })
  expect(await indexMembers(['namespace'])).toEqual(['key2', 'key3'])

  await sleep(2 * ttl)
  expect(await cache.get('key')).toBeUndefined()
  expect(await cache.get('key1')).toBeUndefined()
  expect(await cache.get(['namespace', 'key2'])).toBeUndefined()
  expect(await cache.get(['namespace', 'key3'])).toBe('3')
  // Members are scored by expiry. A put prunes only members expired more than a minute ago: the
  // expired key2 stays, for an expiry sweep to claim, and reads skip it.
  await cache.put(['namespace', 'key4'], '4', { ttlMs: ttl })
  expect(await indexMembers(['namespace'], { liveOnly: true })).toEqual(['key4', 'key3'])
  expect(await indexMembers(['namespace'])).toEqual(['key2', 'key4', 'key3'])
  expect(await cache.keys(['namespace', ANY])).toEqual([
    ['namespace', 'key3'],
    ['namespace', 'key4'],
  ])

  await sleep(6 * ttl)
  expect(await cache.get(['namespace', 'key3'])).toBeUndefined()
  // all() skips what expired; the entries stay a minute for a sweep.
  expect(await cache.all(['namespace', ANY])).toEqual([])
  expect(await indexMembers(['namespace'], { liveOnly: true })).toEqual([])
  expect(await indexMembers(['namespace'])).toEqual(['key2', 'key4', 'key3'])
})
