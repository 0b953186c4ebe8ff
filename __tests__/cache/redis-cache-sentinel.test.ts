/**
 * RedisCache through Redis Sentinel: the client asks a real sentinel for the master, and the
 * whole conformance suite passes, with and without the near-cache; on node-redis 5 and on
 * ioredis (its `sentinels` option) too.
 */
import IORedis from 'ioredis'
import { createSentinel as createSentinel5 } from 'redis5'
import { RedisCache } from 'sessionvault'
import { eventually } from '../helpers/waiting'
import { SENTINEL_MASTER, sentinelRedis, type SentinelClient, type SentinelRedis } from '../helpers/redis'
import { describeCacheConformance } from './conformance'
import { redisHarness, sentinelInspector } from './redis-inspector'

let redis: SentinelRedis
let client: SentinelClient
const opened: RedisCache[] = []

beforeAll(async () => {
  redis = await sentinelRedis()
  client = redis.client
})
afterAll(async () => {
  await Promise.all(opened.map((cache) => cache.close()))
  await redis.stop()
})
beforeEach(async () => {
  await client.sendCommand(false, ['FLUSHALL'])
})

describe('through Redis Sentinel', () => {
  describeCacheConformance('RedisCache', async (options) => redisHarness(new RedisCache({ ...options, client }), sentinelInspector(client)))
})

describe('through Redis Sentinel, with a near-cache', () => {
  describeCacheConformance('RedisCache', async (options) => {
    const cache = new RedisCache({ ...options, client, nearCache: { maxEntries: 100 } })
    opened.push(cache)
    return redisHarness(cache, sentinelInspector(client))
  })
})

describe('through Redis Sentinel, on node-redis 5', () => {
  let client5: ReturnType<typeof createSentinel5>
  beforeAll(async () => {
    client5 = createSentinel5({ name: SENTINEL_MASTER, sentinelRootNodes: [{ host: '127.0.0.1', port: redis.sentinel.port }] })
    client5.on('error', () => undefined)
    await client5.connect()
  })
  afterAll(() => client5.close())
  describeCacheConformance('RedisCache', async (options) =>
    redisHarness(new RedisCache({ ...options, client: client5 }), sentinelInspector(client)),
  )
})

describe('through Redis Sentinel, on ioredis', () => {
  let io: IORedis
  beforeAll(async () => {
    io = new IORedis({ name: SENTINEL_MASTER, sentinels: [{ host: '127.0.0.1', port: redis.sentinel.port }], lazyConnect: true })
    io.on('error', () => undefined)
    await io.connect()
  })
  afterAll(() => io.disconnect())
  describeCacheConformance('RedisCache', async (options) =>
    redisHarness(new RedisCache({ ...options, client: io }), sentinelInspector(client)),
  )
})

test("through Sentinel, the near-cache serves hot reads and sees other servers' deletes", async () => {
  const reader = new RedisCache({ ttlMs: 60_000, client, nearCache: { maxEntries: 10 } })
  const writer = new RedisCache({ ttlMs: 60_000, client })
  opened.push(reader)
  await writer.put('hot', 1)
  await eventually(async () => (await reader.get('hot'), (reader.nearCacheStats?.size ?? 0) > 0), 5_000, 'a tracked read')
  const hits = reader.nearCacheStats?.hits ?? 0
  expect(await reader.get('hot')).toBe(1)
  expect(reader.nearCacheStats?.hits).toBe(hits + 1)
  await writer.delete('hot')
  await eventually(async () => (await reader.get('hot')) === undefined, 1_000, 'the delete to reach the near-cache')
})
