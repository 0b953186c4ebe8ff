/**
 * What RedisCache promises about the clients it accepts, on each client family: which clients
 * it refuses and how, error replies, the offline queue, and the near-cache's invalidations.
 * (The conformance suite runs on every family in redis-cache.test.ts and redis-cache-clients.test.ts.)
 */
import IORedis from 'ioredis'
import { CacheError, OptionError, RedisCache, type RedisClient } from 'sessionvault'
import { ALL_FAMILIES, type ClientFamily, type FamilyClient } from '../helpers/client-families'
import { connectCluster, connectStandalone, flushAll, type StandaloneClient } from '../helpers/redis'
import { eventually } from '../helpers/waiting'
import { redisUrl } from '../helpers/env'
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy'
import { fulfils, thrownBy } from '../helpers/thrown'
import { specPlace } from './layout-spec'

const SUPPORTED = 'supported: node-redis 5/6 createClient/createCluster/createSentinel, ioredis 5 Redis/Cluster'

describe('a client the cache does not support is refused at construction, naming the option and the supported clients', () => {
  test.each([
    ['a plain object', {}],
    ['null', null],
    ['a promise of a client (connect() not awaited)', Promise.resolve({})],
    ['a node-redis 4 client (sendCommand, but no withCommandOptions)', { sendCommand: async () => 'OK', duplicate: () => ({}) }],
  ])('%s', (_, client) => {
    const error = thrownBy(() => new RedisCache({ client: client as RedisClient, ttlMs: 1_000 }))
    expect(error).toBeInstanceOf(OptionError)
    expect((error as OptionError).message).toContain('`client`')
    expect((error as OptionError).message).toContain(SUPPORTED)
  })

  test('an ioredis client with keyPrefix (the namespace plays that role)', () => {
    const client = new IORedis(redisUrl(), { lazyConnect: true, keyPrefix: 'app:' })
    const error = thrownBy(() => new RedisCache({ client, ttlMs: 1_000 }))
    expect(error).toBeInstanceOf(OptionError)
    expect((error as OptionError).message).toMatch(/`client`.*keyPrefix/)
  })

  test('a near-cache on an ioredis client', () => {
    const client = new IORedis(redisUrl(), { lazyConnect: true })
    const error = thrownBy(() => new RedisCache({ client, ttlMs: 1_000, nearCache: { maxEntries: 10 } }))
    expect(error).toBeInstanceOf(OptionError)
    expect((error as OptionError).message).toMatch(/`nearCache`.*node-redis/)
  })
})

describe.each(ALL_FAMILIES.map((family) => [family.name, family] as const))('on %s', (_, family) => {
  let admin: StandaloneClient
  let under: FamilyClient
  beforeAll(async () => {
    ;[admin, under] = await Promise.all([connectStandalone(), family.standalone()])
  })
  afterAll(async () => {
    await under.close()
    admin.destroy()
  })
  beforeEach(() => flushAll(admin))

  test("an error reply (a key of the wrong type) is REDIS_ERROR with Redis's message", async () => {
    const cache = new RedisCache({ client: under.client, ttlMs: 60_000, namespace: 'errors' })
    await admin.set(specPlace(['user', 1], { namespace: 'errors' }).indexKey, 'not a sorted set')
    const put = cache.put(['user', 1], 2)
    await expect(put).rejects.toBeInstanceOf(CacheError)
    await expect(put).rejects.toMatchObject({ code: 'REDIS_ERROR', message: expect.stringMatching(/WRONGTYPE/) })
  })

  describe('while the connection to Redis is cut', () => {
    let proxy: FaultProxy
    let own: FamilyClient
    beforeAll(async () => {
      const { hostname, port } = new URL(redisUrl())
      proxy = await startFaultProxy({ target: { host: hostname, port: Number(port) } })
      own = await family.standalone(proxy.url)
    })
    afterAll(async () => {
      await own.close()
      await proxy.close()
    })

    // Redis keeps running (and keeps its scripts), so a write held back would succeed if sent late.
    test('a write that timed out while the client was offline is dropped, not run once the client reconnects', async () => {
      const cache = new RedisCache({ client: own.client, ttlMs: 60_000, commandTimeoutMs: 300 })
      await cache.put('k', 'before')
      proxy.cut()
      // Once a read fails the client has seen the connection go: later commands wait offline.
      await eventually(async () => !(await fulfils(cache.get('k'))), 5_000, 'the client to go offline')
      const started = Date.now()
      await expect(cache.put('k', 'during')).rejects.toMatchObject({ name: 'CacheError', code: 'REDIS_UNAVAILABLE' })
      expect(Date.now() - started).toBeLessThan(1_500)
      proxy.heal()
      // A command sent after the reconnect goes out after whatever the client still held offline.
      await eventually(() => fulfils(cache.get('k')), 10_000, 'the cache to recover')
      expect(await cache.get('k')).toBe('before')
      await cache.put('k', 'after')
      expect(await cache.get('k')).toBe('after')
    })
  })
})

describe.each(ALL_FAMILIES.filter((family) => family.nearCache).map((family) => [family.name, family] as const))(
  'a near-cache on %s',
  (_, family) => {
    const topologies: [
      string,
      (family: ClientFamily) => Promise<FamilyClient>,
      () => Promise<RedisClient & { close(): Promise<unknown> }>,
    ][] = [
      ['standalone Redis', (f) => f.standalone(), connectStandalone],
      ['a 3-master Redis Cluster', (f) => f.cluster(), connectCluster],
    ]
    test.each(topologies)("on %s, serves hot reads and sees another server's change and delete", async (_, connect, connectWriter) => {
      const [under, writerClient] = await Promise.all([connect(family), connectWriter()])
      const reader = new RedisCache({ ttlMs: 60_000, client: under.client, namespace: 'near', nearCache: { maxEntries: 10 } })
      const writer = new RedisCache({ ttlMs: 60_000, client: writerClient, namespace: 'near' })
      try {
        await writer.put('hot', 1)
        await eventually(async () => (await reader.get('hot'), (reader.nearCacheStats?.size ?? 0) > 0), 5_000, 'a tracked read')
        const hits = reader.nearCacheStats?.hits ?? 0
        expect(await reader.get('hot')).toBe(1)
        expect(reader.nearCacheStats?.hits).toBe(hits + 1)
        await writer.put('hot', 2)
        await eventually(async () => (await reader.get('hot')) === 2, 1_000, 'the change to reach the near-cache')
        await writer.delete('hot')
        await eventually(async () => (await reader.get('hot')) === undefined, 1_000, 'the delete to reach the near-cache')
      } finally {
        await reader.close()
        await under.close()
        await writerClient.close()
      }
    })
  },
)
