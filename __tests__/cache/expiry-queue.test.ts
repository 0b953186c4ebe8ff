/**
 * The cache's expiry queue (lib/cache/expiry-queue.ts) beyond what the layers' event tests reach:
 * `minAgeMs` holds back records and abandoned claims, and `claimExpiredKeys` claims named records
 * (a due entry, or a claim whose lease ran out), reports those under a running lease as busy,
 * and takes nothing live or gone; acknowledging some records leaves the others' claims in place.
 * On a MemoryCache, a single Redis and a 3-master Cluster.
 */
import { randomBytes } from 'node:crypto'
import { MemoryCache, RedisCache, type ExpiryQueue, type KeyPart } from 'sessionvault/cache'
import { connectCluster, connectStandalone, type ClusterClient, type StandaloneClient } from '../helpers/redis'
import { eventually, sleep } from '../helpers/waiting'
import { RedisLayout } from '../../lib/cache/redis-layout'

const LEASE_MS = 60_000
const SHORT_MS = 100

let standalone: StandaloneClient
let cluster: ClusterClient

beforeAll(async () => {
  ;[standalone, cluster] = await Promise.all([connectStandalone(), connectCluster()])
})
afterAll(async () => {
  await Promise.all([standalone.close(), cluster.close()])
})

type QueueCache = RedisCache<string> | MemoryCache<string>

const caches: [string, () => QueueCache][] = [
  ['a MemoryCache', () => new MemoryCache<string>({ ttlMs: 60_000 })],
  [
    'a single Redis',
    () =>
      new RedisCache<string>({
        client: standalone,
        namespace: `queue-${randomBytes(4).toString('hex')}`,
        ttlMs: 60_000,
        tagDepth: 2,
        buckets: 8,
      }),
  ],
  [
    'a 3-master Cluster',
    () =>
      new RedisCache<string>({
        client: cluster,
        namespace: `queue-${randomBytes(4).toString('hex')}`,
        ttlMs: 60_000,
        tagDepth: 2,
        buckets: 8,
      }),
  ],
]

const keysOf = (claims: { records: { key: KeyPart[] }[] }) => claims.records.map(({ key }) => key.join('/')).sort()

/** A cache of a layout of its own, on the same deployment as `cache`, under a fresh namespace. */
function beside(cache: RedisCache<string>, layout: { tagDepth: number; buckets?: number }): RedisCache<string> {
  const client = cache.isCluster ? cluster : standalone
  return new RedisCache<string>({ client, namespace: `queue-${randomBytes(4).toString('hex')}`, ttlMs: 60_000, ...layout })
}

/** Puts `keys` with a short life and waits until every one has expired. */
async function expiring(cache: QueueCache, keys: KeyPart[][]): Promise<void> {
  for (const key of keys) await cache.put(key, 'v', { ttlMs: SHORT_MS })
  await eventually(
    async () => (await Promise.all(keys.map((key) => cache.get(key)))).every((value) => value === undefined),
    5_000,
    'expiry',
  )
}

describe.each(caches)('on %s', (_name, open) => {
  let cache: QueueCache
  beforeEach(async () => {
    cache = open()
    // A MemoryCache keeps expired records for claims only once claims are asked for.
    await cache.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS })
  })
  afterEach(() => (cache instanceof RedisCache ? cache.close() : undefined))

  test('minAgeMs holds back records that expired more recently than that', async () => {
    await expiring(cache, [['s', 'a']])
    expect(keysOf(await cache.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS, minAgeMs: 60_000 }))).toEqual([])
    expect(keysOf(await cache.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS, minAgeMs: 0 }))).toEqual(['s/a'])
  })

  test('claimExpiredKeys takes the named records that expired, whatever minAgeMs others wait for, and nothing live or missing', async () => {
    await expiring(cache, [
      ['s', 'a'],
      ['s', 'b'],
    ])
    await cache.put(['s', 'live'], 'v')
    const claims = await (cache as ExpiryQueue).claimExpiredKeys(
      [
        ['s', 'a'],
        ['s', 'live'],
        ['s', 'missing'],
      ],
      { leaseMs: LEASE_MS },
    )
    expect(keysOf(claims)).toEqual(['s/a'])
    expect(claims.busy).toEqual([])
    await claims.acknowledge()
    // Claimed once: the sweep gets the other one only.
    expect(keysOf(await cache.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS }))).toEqual(['s/b'])
    expect(keysOf(await cache.claimExpiredKeys([['s', 'a']], { leaseMs: LEASE_MS }))).toEqual([])
  })

  test('a record written again after it expired, before any claim, is claimed once, for its last life: the write replaced its entry', async () => {
    await expiring(cache, [['s', 'a']])
    await cache.put(['s', 'a'], 'v', { ttlMs: SHORT_MS })
    const last = (await cache.getTimed(['s', 'a']))?.expiresAtMs
    await eventually(async () => (await cache.get(['s', 'a'])) === undefined, 5_000, 'expiry')
    const claims = await (cache as ExpiryQueue).claimExpiredKeys([['s', 'a']], { leaseMs: LEASE_MS })
    expect(claims.records.map(({ key, expiresAtMs }) => [key.join('/'), expiresAtMs])).toEqual([['s/a', last]])
  })
})

describe.each(caches.slice(1))('leases on %s', (_name, open) => {
  let cache: RedisCache<string>
  beforeEach(() => {
    cache = open() as RedisCache<string>
  })
  afterEach(() => cache.close())

  test('a record claimed under a running lease is busy to claimExpiredKeys, and gone once acknowledged', async () => {
    await expiring(cache, [['s', 'a']])
    const sweep = await cache.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS })
    expect(keysOf(sweep)).toEqual(['s/a'])
    const byKey = await cache.claimExpiredKeys([['s', 'a']], { leaseMs: LEASE_MS })
    expect(keysOf(byKey)).toEqual([])
    expect(byKey.busy).toEqual([['s', 'a']])
    await sweep.acknowledge()
    const after = await cache.claimExpiredKeys([['s', 'a']], { leaseMs: LEASE_MS })
    expect([keysOf(after), after.busy]).toEqual([[], []])
  })

  test('a claim whose lease ran out is taken by key at once, and by a sweep only minAgeMs later', async () => {
    await expiring(cache, [
      ['s', 'a'],
      ['s', 'b'],
    ])
    expect(keysOf(await cache.claimExpired(['s'], { max: 10, leaseMs: 1 }))).toEqual(['s/a', 's/b'])
    await sleep(20)
    expect(keysOf(await cache.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS, minAgeMs: 60_000 }))).toEqual([])
    expect(keysOf(await cache.claimExpiredKeys([['s', 'a']], { leaseMs: LEASE_MS }))).toEqual(['s/a'])
    expect(keysOf(await cache.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS }))).toEqual(['s/b'])
  })

  test('acknowledging some records leaves the claims of the others in place', async () => {
    await expiring(cache, [
      ['s', 'a'],
      ['s', 'b'],
    ])
    const sweep = await cache.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS })
    await sweep.acknowledge(sweep.records.filter(({ key }) => key[1] === 'a'))
    const byKey = await cache.claimExpiredKeys(
      [
        ['s', 'a'],
        ['s', 'b'],
      ],
      { leaseMs: LEASE_MS },
    )
    expect([keysOf(byKey), byKey.busy]).toEqual([[], [['s', 'b']]])
  })

  test("where one index holds several prefixes' records (tagDepth 1), a sweep of one prefix takes back only its own abandoned claims", async () => {
    const shared = beside(cache, { tagDepth: 1, buckets: 1 })
    try {
      await expiring(shared, [
        ['u', 'ada', 'a'],
        ['s', 'a'],
        ['s', 'b'],
      ])
      expect(keysOf(await shared.claimExpired(['u'], { max: 10, leaseMs: 1 }))).toEqual(['u/ada/a'])
      expect(keysOf(await shared.claimExpired(['s'], { max: 10, leaseMs: 1 }))).toEqual(['s/a', 's/b'])
      await sleep(20)
      expect(keysOf(await shared.claimExpired(['s'], { max: 10, leaseMs: LEASE_MS }))).toEqual(['s/a', 's/b'])
      expect(keysOf(await shared.claimExpired(['u'], { max: 10, leaseMs: LEASE_MS }))).toEqual(['u/ada/a'])
    } finally {
      await shared.close()
    }
  })

  test("one bucket holding more than its share of a call's max (40 records of one user, 1,024 buckets) is claimed whole by one call", async () => {
    const spread = beside(cache, { tagDepth: 2 })
    try {
      const keys: KeyPart[][] = Array.from({ length: 40 }, (_, i) => ['u', 'ada', `s${i}`])
      await expiring(spread, keys)
      const claims = await spread.claimExpired(['u'], { max: 1_000, leaseMs: LEASE_MS })
      expect(keysOf(claims)).toEqual(keys.map((key) => key.join('/')).sort())
    } finally {
      await spread.close()
    }
  })

  test('a record in its last millisecond (its header says it is over, Redis still holds the key) is neither touched nor deleted as live: a sweep may have claimed it', async () => {
    await cache.put(['s', 'a'], 'v')
    const valueKey = new RedisLayout({ namespace: cache.namespace, tagDepth: 2, buckets: 8 }).place(['s', 'a']).valueKey
    const client = cache.isCluster ? cluster : standalone
    await client.setRange(valueKey, 0, String(Date.now() - 1_000).padStart(13, '0'))
    expect(await cache.touch(['s', 'a'])).toBe(false)
    expect(await cache.delete(['s', 'a'], { tombstoneMs: 60_000 })).toBe(false)
  })
})
