/**
 * What RedisCache leaves in Redis, read straight from Redis: key names, index members and
 * scores, TTLs, round trips, and on Cluster which slot holds what.
 */
import { ANY, RedisCache } from '../../lib'
import { connectCluster, flushAll, privateRedis, type ClusterClient, type PrivateRedis, type StandaloneClient } from '../helpers/clients'
import { clientCommands, recordCommands } from '../helpers/command-log'
import type { RedisServerHandle } from '../../scripts/redis-server'
import { encodeTestKey, encodeTestPart } from './layout-spec'

const HOUR = 3_600_000

describe('on standalone Redis', () => {
  let own: PrivateRedis
  let server: RedisServerHandle
  let redis: StandaloneClient
  let cache: RedisCache

  beforeAll(async () => {
    // A private server: these tests count commands and must not see other clients' traffic.
    own = await privateRedis()
    ;({ server, client: redis } = own)
  })
  afterAll(() => own.stop())
  beforeEach(async () => {
    await redis.flushAll()
    cache = new RedisCache({ client: redis, ttlMs: HOUR, namespace: 'test' })
  })

  async function serverTimeMs(): Promise<number> {
    const [seconds, micros] = await redis.time()
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  }

  test('a record is one value key plus one index per proper prefix, named by base64url segments', async () => {
    await cache.put(['user', 42, 'session', 'a:b'], { ok: true })
    const value = encodeTestKey(['test', 'user', 42, 'session', 'a:b'], 1)
    expect(value).toBe(`{${encodeTestPart('test')}}:${encodeTestPart('user')}:${encodeTestPart(42)}:${encodeTestPart('session')}:${encodeTestPart('a:b')}`)
    expect((await redis.keys('*')).sort()).toEqual(
      [
        value,
        `_index:${encodeTestKey(['test'], 1)}`,
        `_index:${encodeTestKey(['test', 'user'], 1)}`,
        `_index:${encodeTestKey(['test', 'user', 42], 1)}`,
        `_index:${encodeTestKey(['test', 'user', 42, 'session'], 1)}`,
      ].sort(),
    )
    expect(await redis.get(value)).toBe('{"ok":true}')
    expect(await redis.zRange(`_index:${encodeTestKey(['test', 'user'], 1)}`, 0, -1)).toEqual([
      [42, 'session', 'a:b'].map(encodeTestPart).join(':'),
    ])
    expect(await redis.zRange(`_index:${encodeTestKey(['test', 'user', 42, 'session'], 1)}`, 0, -1)).toEqual([encodeTestPart('a:b')])
  })

  test('indexFrom writes index entries only for prefixes at least that long', async () => {
    await cache.put(['user', 42, 'session', 'x'], 1, { indexFrom: 3 })
    expect((await redis.keys('_index:*')).sort()).toEqual(
      [`_index:${encodeTestKey(['test', 'user', 42], 1)}`, `_index:${encodeTestKey(['test', 'user', 42, 'session'], 1)}`].sort(),
    )
  })

  test('index scores are expiry times in Redis server ms, and the value has the same PTTL', async () => {
    const before = await serverTimeMs()
    await cache.put(['a', 'b'], 1, { ttlMs: 60_000 })
    const after = await serverTimeMs()
    const score = await redis.zScore(`_index:${encodeTestKey(['test', 'a'], 1)}`, encodeTestPart('b'))
    expect(score).toBeGreaterThanOrEqual(before + 60_000)
    expect(score).toBeLessThanOrEqual(after + 60_000)
    const pttl = await redis.pTTL(encodeTestKey(['test', 'a', 'b'], 1))
    expect(pttl).toBeGreaterThan(59_000)
    expect(pttl).toBeLessThanOrEqual(60_000)
  })

  test("an index's TTL does not shrink when a shorter-lived record joins it", async () => {
    const index = `_index:${encodeTestKey(['test', 'a'], 1)}`
    await cache.put(['a', 'long'], 1, { ttlMs: 60_000 })
    await cache.put(['a', 'short'], 2, { ttlMs: 1_000 })
    expect(await redis.pTTL(index)).toBeGreaterThan(59_000)
    await cache.put(['a', 'longer'], 3, { ttlMs: 120_000 })
    expect(await redis.pTTL(index)).toBeGreaterThan(119_000)
  })

  const commandsSentBy = async (run: () => Promise<unknown>) => clientCommands(await recordCommands(server.url, run))

  test('a put is one round trip: a single EVALSHA', async () => {
    await cache.put(['warm', 'up'], 0) // loads the script once
    const sent = await commandsSentBy(async () => {
      await cache.put(['user', 1, 'session', 'x'], { big: 'x'.repeat(1000) })
      await cache.putMany([
        { key: ['a', 1], value: 1 },
        { key: ['b', 2, 3], value: 2 },
      ])
    })
    expect(sent.map((args) => args[0])).toEqual(['EVALSHA', 'EVALSHA'])
  })

  test('a get is one GET', async () => {
    await cache.put('k', 1)
    const sent = await commandsSentBy(() => cache.get('k'))
    expect(sent).toEqual([['GET', encodeTestKey(['test', 'k'], 1)]])
  })

  test('all() scans only the index of the literal prefix', async () => {
    await cache.putMany(Array.from({ length: 50 }, (_, i) => ({ key: ['other', i], value: i })))
    await cache.put(['mine', 1], 1)
    await cache.all(['mine', ANY]) // loads the script once
    const sent = await commandsSentBy(() => cache.all(['mine', ANY]))
    const indexes = sent.flatMap((args) => args.filter((arg) => arg.startsWith('_index:')))
    expect(new Set(indexes)).toEqual(new Set([`_index:${encodeTestKey(['test', 'mine'], 1)}`]))
    expect(sent.map((args) => args[0])).toEqual(['EVALSHA', 'MGET'])
  })

  test('a delete removes the value and every index member', async () => {
    await cache.put(['a', 'b', 'c'], 1)
    await cache.put(['a', 'keep'], 2)
    await cache.delete(['a', 'b', 'c'])
    expect(await redis.exists(encodeTestKey(['test', 'a', 'b', 'c'], 1))).toBe(0)
    expect(await redis.zRange(`_index:${encodeTestKey(['test'], 1)}`, 0, -1)).toEqual([[ 'a', 'keep'].map(encodeTestPart).join(':')])
    expect(await redis.exists(`_index:${encodeTestKey(['test', 'a', 'b'], 1)}`)).toBe(0)
  })
})

describe('on a 3-master Redis Cluster', () => {
  let cluster: ClusterClient
  beforeAll(async () => {
    cluster = await connectCluster()
  })
  afterAll(() => cluster.close())
  beforeEach(() => flushAll(cluster))

  const slotOf = async (key: string) => Number(await cluster.sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key]))

  test("one user's records and their deep indexes share one slot", async () => {
    const cache = new RedisCache({ client: cluster, ttlMs: HOUR, namespace: 'test', tagDepth: 3 })
    await cache.put(['user', 7, 'session', 'a'], 1)
    await cache.put(['user', 7, 'session', 'b'], 2)
    await cache.put(['user', 7], 'profile')
    const names = [
      encodeTestKey(['test', 'user', 7, 'session', 'a'], 3),
      encodeTestKey(['test', 'user', 7, 'session', 'b'], 3),
      encodeTestKey(['test', 'user', 7], 3),
      `_index:${encodeTestKey(['test', 'user', 7], 3)}`,
      `_index:${encodeTestKey(['test', 'user', 7, 'session'], 3)}`,
    ]
    for (const name of names) expect(await cluster.exists(name)).toBe(1)
    expect(new Set(await Promise.all(names.map(slotOf))).size).toBe(1)
  })

  test('shallow indexes are spread over buckets in several slots', async () => {
    const cache = new RedisCache({ client: cluster, ttlMs: HOUR, namespace: 'test', tagDepth: 3, shallowIndexBuckets: 16 })
    await cache.putMany(Array.from({ length: 200 }, (_, i) => ({ key: ['user', i, 'session', 's'], value: i })))
    const buckets = Array.from({ length: 16 }, (_, b) => `_index:{${encodeTestPart('test')}:${encodeTestPart('user')}#${b}}`)
    const used = []
    for (const bucket of buckets) if ((await cluster.exists(bucket)) === 1) used.push(bucket)
    expect(used.length).toBeGreaterThanOrEqual(12)
    const slots = new Set(await Promise.all(used.map(slotOf)))
    expect(slots.size).toBe(used.length)
    const members = (await Promise.all(used.map((bucket) => cluster.zCard(bucket)))).reduce((a, b) => a + b, 0)
    expect(members).toBe(200)
  })

  test("a putIf that fails leaves the record's shallow index scores as they were", async () => {
    const cache = new RedisCache({ client: cluster, ttlMs: HOUR, namespace: 'test', tagDepth: 3, shallowIndexBuckets: 1 })
    await cache.put(['user', 1, 'session', 'a'], 'v', { ttlMs: 60_000 })
    const bucket = `_index:{${encodeTestPart('test')}:${encodeTestPart('user')}#0}`
    const member = [1, 'session', 'a'].map(encodeTestPart).join(':')
    const before = await cluster.zScore(bucket, member)
    expect(await cache.putIf(['user', 1, 'session', 'a'], 'w', { absent: true, ttlMs: 1_000 })).toBe(false)
    expect(await cluster.zScore(bucket, member)).toBe(before)
    expect(await cache.keys(['user', ANY, 'session', ANY])).toEqual([['user', 1, 'session', 'a']])
  })
})
