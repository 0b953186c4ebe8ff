/**
 * What RedisCache leaves in Redis, read straight from Redis: key names, index members and
 * scores, value texts, TTLs, round trips, and on Cluster which slot holds what. Key names are
 * built by layout-spec.ts, the layout written out apart from lib/.
 */
import { ANY, RedisCache, type RedisCacheOptions } from 'sessionvault'
import { LIST_SCRIPT } from '../../lib/cache/lua/list'
import { COUNT_SCRIPT } from '../../lib/cache/lua/count'
import { REMOVE_SCRIPT } from '../../lib/cache/lua/remove'
import { TOUCH_SCRIPT } from '../../lib/cache/lua/touch'
import { WRITE_SCRIPT } from '../../lib/cache/lua/write'
import { connectCluster, flushAll, usePrivateServer, type ClusterClient } from '../helpers/redis'
import { sleep } from '../helpers/waiting'
import { clientCommands, recordCommands, type SentCommand } from '../helpers/command-log'
import { specBucket, specBucketIndex, specHeader, specPlace, specReadStored, type SpecLayout, type SpecPart } from './layout-spec'
import { clusterInspector, expectExpiryAt, standaloneInspector, type RedisInspector } from './redis-inspector'

const HOUR = 3_600_000

describe('on standalone Redis', () => {
  // A private server: these tests count commands and must not see other clients' traffic.
  const own = usePrivateServer()
  let inspect: RedisInspector
  let cache: RedisCache

  beforeAll(() => {
    inspect = standaloneInspector(own.client)
  })
  beforeEach(() => {
    cache = new RedisCache({ client: own.client, ttlMs: HOUR, namespace: 'test' })
  })

  const cacheWith = (options: Partial<RedisCacheOptions>) =>
    new RedisCache({ client: own.client, ttlMs: HOUR, namespace: 'test', ...options })
  const place = (key: SpecPart[], layout: Partial<SpecLayout> = {}) => specPlace(key, { namespace: 'test', ...layout })

  /** Runs `write`, and says the expiries a TTL of `ttlMs` set by it can have, by Redis's clock. */
  async function expiryWindow(ttlMs: number, write: () => Promise<unknown>): Promise<[number, number]> {
    const before = await inspect.time()
    await write()
    return [before + ttlMs, (await inspect.time()) + ttlMs]
  }

  /** A value key's expiry as its header says, checked against its index entry and its PTTL. */
  async function storedExpiry(key: SpecPart[], layout: Partial<SpecLayout> = {}): Promise<number> {
    const { valueKey, indexKey, member } = place(key, layout)
    const { expiresAtMs, mark } = specReadStored((await inspect.get(valueKey)) as string)
    expect(mark).toBe('v')
    expect(await own.client.zRangeWithScores(indexKey, 0, -1)).toContainEqual({ value: member, score: expiresAtMs })
    await expectExpiryAt(inspect, valueKey, expiresAtMs)
    return expiresAtMs
  }

  describe('key names and stored texts', () => {
    test('a record is one value key plus one entry in its home index, all under the namespace', async () => {
      await cache.put(['user', 42, 'session', 'a:b'], { ok: true })
      const bucket = specBucket('.user')
      // 'user' and 'session' are plain; 42 is base64url('n42'), 'a:b' base64url('sa:b').
      const valueKey = `test:{#${bucket}}:.user:bjQy:.session:c2E6Yg`
      const indexKey = `test:_i:{#${bucket}}`
      expect(place(['user', 42, 'session', 'a:b'])).toMatchObject({ valueKey, indexKey })
      expect(await inspect.scan()).toEqual([indexKey, valueKey].sort())
      expect(await own.client.zRange(indexKey, 0, -1)).toEqual(['.user:bjQy:.session:c2E6Yg'])
    })

    test('with tagDepth 2 the first part is in the tag and the second chooses the bucket', async () => {
      await cacheWith({ tagDepth: 2 }).put(['user', 'ada', 'session', 'x'], 1)
      const bucket = specBucket('.ada')
      expect(await inspect.scan()).toEqual([`test:_i:{.user#${bucket}}`, `test:{.user#${bucket}}:.ada:.session:.x`])
      expect(await own.client.zRange(`test:_i:{.user#${bucket}}`, 0, -1)).toEqual(['.ada:.session:.x'])
    })

    test('the value is a 14-character header (13-digit expiry, v) and the JSON; the index score and the PTTL agree with it', async () => {
      const [min, max] = await expiryWindow(60_000, () => cache.put(['a', 'b'], { ok: true }, { ttlMs: 60_000 }))
      const text = (await inspect.get(place(['a', 'b']).valueKey)) as string
      expect(text).toMatch(/^\d{13}v\{"ok":true\}$/)
      const expiresAtMs = await storedExpiry(['a', 'b'])
      expect(text).toBe(`${specHeader(expiresAtMs, 'value')}{"ok":true}`)
      expect(expiresAtMs).toBeGreaterThanOrEqual(min)
      expect(expiresAtMs).toBeLessThanOrEqual(max)
    })

    test('a touch rewrites the expiry in the header in place: same value, and score and PTTL follow', async () => {
      await cache.put(['a', 'b'], { big: 'x'.repeat(100) }, { ttlMs: 60_000 })
      const before = (await inspect.get(place(['a', 'b']).valueKey)) as string
      const [min, max] = await expiryWindow(600_000, () => cache.touch(['a', 'b'], { ttlMs: 600_000 }))
      const after = (await inspect.get(place(['a', 'b']).valueKey)) as string
      expect(after.slice(14)).toBe(before.slice(14))
      expect(after).toHaveLength(before.length)
      const expiresAtMs = await storedExpiry(['a', 'b'])
      expect(expiresAtMs).toBeGreaterThanOrEqual(min)
      expect(expiresAtMs).toBeLessThanOrEqual(max)
    })

    test('a tombstone is a bare header marked x, living tombstoneMs, out of its index', async () => {
      await cache.put(['a', 'b'], 1)
      const [min, max] = await expiryWindow(45_000, () => cache.delete(['a', 'b'], { tombstoneMs: 45_000 }))
      const { valueKey, indexKey, member } = place(['a', 'b'])
      const text = (await inspect.get(valueKey)) as string
      expect(text).toMatch(/^\d{13}x$/)
      expect(Number(text.slice(0, 13))).toBeGreaterThanOrEqual(min)
      expect(Number(text.slice(0, 13))).toBeLessThanOrEqual(max)
      expect(await inspect.pttl(valueKey)).toBeGreaterThan(40_000)
      expect(await inspect.pttl(valueKey)).toBeLessThanOrEqual(45_000)
      expect(await inspect.zscore(indexKey, member)).toBeNull()
    })

    test("an index's TTL never shrinks: it grows with a longer-lived record or touch, and outlasts every member", async () => {
      const index = place(['a', 'long']).indexKey
      await cache.put(['a', 'long'], 1, { ttlMs: 60_000 })
      await cache.put(['a', 'short'], 2, { ttlMs: 1_000 })
      expect(await inspect.pttl(index)).toBeGreaterThan(59_000)
      await cache.put(['a', 'longer'], 3, { ttlMs: 120_000 })
      expect(await inspect.pttl(index)).toBeGreaterThan(119_000)
      await cache.touch(['a', 'short'], { ttlMs: 300_000 })
      expect(await inspect.pttl(index)).toBeGreaterThan(299_000)
      await cache.touch(['a', 'short'], { ttlMs: 1_000 })
      expect(await inspect.pttl(index)).toBeGreaterThan(299_000)
    })

    test('keyPattern is `<namespace>:*`: SCAN MATCH with it finds every key the cache wrote, and no other', async () => {
      const other = cacheWith({ namespace: 'other' })
      const deep = cacheWith({ tagDepth: 2 })
      expect(cache.keyPattern).toBe('test:*')
      await cache.putMany([
        { key: ['user', 1], value: 1 },
        { key: 'top', value: 2 },
      ])
      await cache.putIf(['lock', 'a'], 1, { absent: true })
      await cache.put(['gone', 1], 1)
      await cache.delete(['gone', 1], { tombstoneMs: 60_000 })
      await deep.put(['s', 'x', 'y'], 3)
      await other.put(['user', 1], 'theirs')
      const ours = [
        ...[['user', 1], ['top'], ['lock', 'a']].flatMap((key) => [place(key).valueKey, place(key).indexKey]),
        place(['gone', 1]).valueKey,
        place(['s', 'x', 'y'], { tagDepth: 2 }).valueKey,
        place(['s', 'x', 'y'], { tagDepth: 2 }).indexKey,
      ]
      expect(await inspect.scan(cache.keyPattern)).toEqual([...new Set(ours)].sort())
      const theirs = specPlace(['user', 1], { namespace: 'other' })
      expect(await inspect.scan()).toEqual([...new Set([...ours, theirs.valueKey, theirs.indexKey])].sort())
      expect(await inspect.scan(other.keyPattern)).toEqual([theirs.indexKey, theirs.valueKey].sort())
    })
  })

  describe('round trips', () => {
    const record = (run: () => Promise<unknown>) => recordCommands(own.server.url, run)
    const sentBy = async (run: () => Promise<unknown>) => clientCommands(await record(run))
    /** EVALSHA <sha> <numkeys> <keys…> <args…>: the script's KEYS. */
    const keysOf = (args: string[]) => args.slice(3, 3 + Number(args[2]))
    /** The commands a script ran, by name. */
    const ranByScripts = (commands: SentCommand[]) =>
      commands.filter((command) => command.fromScript).map((command) => command.args[0]?.toUpperCase())

    beforeEach(async () => {
      // Load every script once, so each call below is the one EVALSHA it always is after.
      await cache.put(['warm', 'up'], 0)
      await cache.putIf(['warm', 'up'], 1, { unlessDeleted: true })
      await cache.touch(['warm', 'up'])
      await cache.all(['warm', ANY])
      await cache.count(['warm', ANY])
      await cache.delete(['warm', 'up'])
    })

    test('a put is one EVALSHA of the write script, naming the value key and its home index', async () => {
      const sent = await sentBy(() => cache.put(['user', 1, 'session', 'x'], { big: 'x'.repeat(1000) }))
      expect(sent).toHaveLength(1)
      const [evalsha] = sent as [string[]]
      expect(evalsha.slice(0, 2)).toEqual(['EVALSHA', WRITE_SCRIPT.sha1])
      const { valueKey, indexKey } = place(['user', 1, 'session', 'x'])
      expect(keysOf(evalsha)).toEqual([valueKey, indexKey])
    })

    test('putMany of records under different prefixes is one EVALSHA on a single server', async () => {
      const keys = [['a', 1], ['b', 2, 3], ['c']]
      const sent = await sentBy(() => cache.putMany(keys.map((key, value) => ({ key, value }))))
      expect(sent).toHaveLength(1)
      expect(keysOf(sent[0] as string[])).toEqual(keys.flatMap((key) => [place(key).valueKey, place(key).indexKey]))
    })

    test('a get is one GET of the value key', async () => {
      await cache.put('k', 1)
      expect(await sentBy(() => cache.get('k'))).toEqual([['GET', place(['k']).valueKey]])
      expect(await sentBy(() => cache.getTimed('k'))).toEqual([['GET', place(['k']).valueKey]])
    })

    test('a putIf with alongWith records is one EVALSHA, whatever their prefixes', async () => {
      const along = [
        ['user', 7, 'sessions', 'a'],
        ['index', 'a'],
      ]
      const sent = await sentBy(() =>
        cache.putIf(['sess', 'a'], 's', { absent: true, alongWith: along.map((key) => ({ key, value: 'x' })) }),
      )
      expect(sent).toHaveLength(1)
      expect(sent[0]?.slice(0, 2)).toEqual(['EVALSHA', WRITE_SCRIPT.sha1])
      expect(keysOf(sent[0] as string[])).toEqual([['sess', 'a'], ...along].flatMap((key) => [place(key).valueKey, place(key).indexKey]))
      for (const key of along) expect(await cache.get(key)).toBe('x')
    })

    test('a putIf whose condition fails writes nothing, not even its alongWith records', async () => {
      await cache.put(['sess', 'a'], 'first')
      const keys = await inspect.scan()
      const commands = await record(async () => {
        expect(await cache.putIf(['sess', 'a'], 's', { absent: true, alongWith: [{ key: ['user', 7, 'a'], value: 'x' }] })).toBe(false)
      })
      expect(clientCommands(commands)).toHaveLength(1)
      // Only reads: the server's time and the condition's check of the key.
      expect(ranByScripts(commands).filter((name) => !['TIME', 'GET', 'EXISTS', 'GETRANGE'].includes(name ?? ''))).toEqual([])
      expect(await inspect.scan()).toEqual(keys)
    })

    test('a batch of puts and deletes is one EVALSHA, every change made inside that one script', async () => {
      await cache.putMany([
        { key: ['old', 1], value: 1 },
        { key: ['other', 2], value: 2 },
      ])
      const commands = await record(() =>
        cache.batch({
          put: [{ key: ['new', 1], value: 1 }],
          delete: [
            ['old', 1],
            ['other', 2],
          ],
        }),
      )
      expect(clientCommands(commands)).toHaveLength(1)
      expect(clientCommands(commands)[0]?.slice(0, 2)).toEqual(['EVALSHA', WRITE_SCRIPT.sha1])
      const changes = ranByScripts(commands).filter((name) => ['SET', 'DEL', 'ZADD', 'ZREM'].includes(name as string))
      expect(changes.sort()).toEqual(['DEL', 'DEL', 'SET', 'ZADD', 'ZREM', 'ZREM'])
      expect(await cache.keys([ANY, ANY])).toEqual([['new', 1]])
    })

    test('touch and touchMany are one EVALSHA of the touch script', async () => {
      await cache.putMany([1, 2, 3].map((i) => ({ key: ['t', i], value: i })))
      const sent = await sentBy(async () => {
        await cache.touch(['t', 1])
        await cache.touchMany([
          ['t', 1],
          ['u', 2],
          ['t', 3],
        ])
      })
      expect(sent.map((args) => args.slice(0, 2))).toEqual([
        ['EVALSHA', TOUCH_SCRIPT.sha1],
        ['EVALSHA', TOUCH_SCRIPT.sha1],
      ])
      expect(keysOf(sent[1] as string[])).toEqual(
        [
          ['t', 1],
          ['u', 2],
          ['t', 3],
        ].flatMap((key) => [place(key).valueKey, place(key).indexKey]),
      )
    })

    test('a delete, with or without a tombstone, is one EVALSHA of the remove script', async () => {
      await cache.putMany([1, 2].map((i) => ({ key: ['d', i], value: i })))
      const sent = await sentBy(async () => {
        await cache.delete(['d', 1])
        await cache.delete(['d', 2], { tombstoneMs: 1_000 })
      })
      expect(sent.map((args) => args.slice(0, 2))).toEqual([
        ['EVALSHA', REMOVE_SCRIPT.sha1],
        ['EVALSHA', REMOVE_SCRIPT.sha1],
      ])
    })

    test('all(), keys() and count() are one EVALSHA each, reading only the home index of the literal prefix', async () => {
      await cache.putMany(Array.from({ length: 50 }, (_, i) => ({ key: ['other', i], value: i })))
      await cache.put(['mine', 1], 1)
      const index = place(['mine', 1]).indexKey
      const commands = await record(async () => {
        expect((await cache.all(['mine', ANY])).map((item) => item.value)).toEqual([1])
        expect(await cache.keys(['mine', ANY])).toEqual([['mine', 1]])
        expect(await cache.count(['mine', ANY])).toBe(1)
      })
      const sent = clientCommands(commands)
      expect(sent.map((args) => args.slice(0, 2))).toEqual([
        ['EVALSHA', LIST_SCRIPT.sha1],
        ['EVALSHA', LIST_SCRIPT.sha1],
        ['EVALSHA', COUNT_SCRIPT.sha1],
      ])
      for (const args of sent) expect(keysOf(args)).toEqual([index])
      // The values are read with MGET inside the list script: no second round trip.
      expect(ranByScripts(commands)).toContain('MGET')
    })

    test('countUnder of a prefix of tagDepth - 1 parts is one EVALSHA naming every bucket, each counted without reading its members', async () => {
      const deep = cacheWith({ tagDepth: 2, buckets: 16 })
      await deep.putMany(Array.from({ length: 40 }, (_, i) => ({ key: ['u', i, 'session'], value: i })))
      await deep.countUnder(['u']) // loads the script
      const commands = await record(async () => expect(await deep.countUnder(['u'])).toBe(40))
      const sent = clientCommands(commands)
      expect(sent).toHaveLength(1)
      expect(keysOf(sent[0] as string[])).toEqual(Array.from({ length: 16 }, (_, bucket) => specBucketIndex('test', ['u'], bucket)))
      const counted = ranByScripts(commands).filter((name) => name !== 'TIME')
      expect(counted).toHaveLength(16)
      for (const name of counted) expect(['ZCOUNT', 'ZCARD']).toContain(name)
    })

    test('a bucket larger than scanPageSize is read a ZSCAN page at a time, each record once', async () => {
      // Past 128 members a sorted set is a hash table, which ZSCAN reads about COUNT at a time.
      const paged = cacheWith({ scanPageSize: 50 })
      await paged.putMany(Array.from({ length: 300 }, (_, i) => ({ key: ['p', i], value: i })))
      let records: unknown[] = []
      const sent = await sentBy(async () => (records = await paged.all(['p', ANY])))
      expect(records.map((item) => (item as { value: number }).value)).toEqual(Array.from({ length: 300 }, (_, i) => i))
      expect(sent.length).toBeGreaterThan(1)
      for (const args of sent) expect(args.slice(0, 2)).toEqual(['EVALSHA', LIST_SCRIPT.sha1])
    })
  })
})

describe('on a 3-master Redis Cluster', () => {
  let cluster: ClusterClient
  let inspect: RedisInspector
  beforeAll(async () => {
    cluster = await connectCluster()
    inspect = clusterInspector(cluster)
  })
  afterAll(() => cluster.close())
  beforeEach(() => flushAll(cluster))

  const slotOf = async (key: string) => Number(await cluster.sendCommand(key, true, ['CLUSTER', 'KEYSLOT', key]))
  const cacheWith = (options: Partial<RedisCacheOptions>) => new RedisCache({ client: cluster, ttlMs: HOUR, namespace: 'test', ...options })

  /** Every index entry of `member` in the whole cluster, as [index, score]. */
  async function entriesOf(member: string): Promise<[string, number][]> {
    const entries: [string, number][] = []
    for (const index of await inspect.scan('test:_i:*')) {
      const score = await inspect.zscore(index, member)
      if (score !== null) entries.push([index, score])
    }
    return entries
  }

  /** The record's one index entry: in its home index, scored with the expiry its header holds. */
  async function expectOneEntryAtExpiry(key: SpecPart[], layout: SpecLayout): Promise<number> {
    const { valueKey, indexKey, member } = specPlace(key, layout)
    const { expiresAtMs } = specReadStored((await inspect.get(valueKey)) as string)
    expect(await entriesOf(member)).toEqual([[indexKey, expiresAtMs]])
    await expectExpiryAt(inspect, valueKey, expiresAtMs)
    return expiresAtMs
  }

  test('records that share their first tagDepth parts share one slot with their home index', async () => {
    const cache = cacheWith({ tagDepth: 3 })
    const keys = [
      ['user', 7, 'session', 'a'],
      ['user', 7, 'session', 'b'],
      ['user', 7, 'session', 'c', 'd'],
    ]
    await cache.putMany(keys.map((key) => ({ key, value: 1 })))
    const names = keys.flatMap((key) => {
      const { valueKey, indexKey } = specPlace(key, { namespace: 'test', tagDepth: 3 })
      return [valueKey, indexKey]
    })
    expect(await inspect.scan()).toEqual([...new Set(names)].sort())
    expect(new Set(await Promise.all(names.map(slotOf))).size).toBe(1)
  })

  test("one prefix's records spread over its buckets, each bucket in a slot of its own, each record listed once", async () => {
    const cache = cacheWith({ tagDepth: 2, buckets: 16 })
    await cache.putMany(Array.from({ length: 200 }, (_, i) => ({ key: ['user', i, 'session'], value: i })))
    const buckets = await inspect.scan('test:_i:*')
    expect(buckets.length).toBeGreaterThanOrEqual(12)
    for (const bucket of buckets) expect(bucket).toMatch(/^test:_i:\{\.user#\d+\}$/)
    expect(new Set(await Promise.all(buckets.map(slotOf))).size).toBe(buckets.length)
    const members = (await Promise.all(buckets.map((bucket) => cluster.zRange(bucket, 0, -1)))).flat()
    expect(members).toHaveLength(200)
    expect(new Set(members).size).toBe(200)
    expect(await cache.count(['user', ANY, 'session'])).toBe(200)
    expect(await cache.countUnder(['user'])).toBe(200)
  })

  test.each<[string, (cache: RedisCache, key: SpecPart[]) => Promise<boolean>]>([
    ['a touch', (cache, key) => cache.touch(key, { ttlMs: 5_000 })],
    ['a putIf that rewrites it', (cache, key) => cache.putIf(key, 'v2', { ifValue: 'v1', ttlMs: 5_000 })],
  ])("after %s with a shorter TTL, a record's one index entry is scored with its new expiry", async (_, shorten) => {
    const layout = { namespace: 'test', tagDepth: 2, buckets: 8 }
    const cache = cacheWith(layout)
    const key = ['user', 1, 'session']
    await cache.put(key, 'v1', { ttlMs: HOUR })
    const before = await expectOneEntryAtExpiry(key, layout)
    const start = await inspect.time()
    expect(await shorten(cache, key)).toBe(true)
    const after = await expectOneEntryAtExpiry(key, layout)
    expect(after).toBeLessThan(before)
    expect(after).toBeGreaterThanOrEqual(start + 5_000)
    expect(after).toBeLessThanOrEqual((await inspect.time()) + 5_000)
  })

  test('no listing or count finds a record past the expiry a touch or putIf shortened it to', async () => {
    const cache = cacheWith({ tagDepth: 2, buckets: 8 })
    await cache.putMany([
      { key: ['user', 1, 'touched'], value: 1 },
      { key: ['user', 1, 'rewritten'], value: 2 },
      { key: ['user', 1, 'kept'], value: 3 },
    ])
    await cache.touch(['user', 1, 'touched'], { ttlMs: 300 })
    await cache.putIf(['user', 1, 'rewritten'], 4, { ifValue: 2, ttlMs: 300 })
    // Twice the shortened TTL and more.
    await sleep(700)
    expect(await cache.keys(['user', ANY, ANY])).toEqual([['user', 1, 'kept']])
    expect(await cache.keys(['user', 1, ANY])).toEqual([['user', 1, 'kept']])
    expect(await cache.count(['user', ANY, ANY])).toBe(1)
    expect(await cache.countUnder(['user'])).toBe(1)
  })

  test("a putIf that fails leaves the record's index entry as it was", async () => {
    const layout = { namespace: 'test', tagDepth: 2, buckets: 1 }
    const cache = cacheWith(layout)
    await cache.put(['user', 1, 'session', 'a'], 'v', { ttlMs: 60_000 })
    const before = await expectOneEntryAtExpiry(['user', 1, 'session', 'a'], layout)
    expect(await cache.putIf(['user', 1, 'session', 'a'], 'w', { absent: true, ttlMs: 1_000 })).toBe(false)
    expect(await expectOneEntryAtExpiry(['user', 1, 'session', 'a'], layout)).toBe(before)
    expect(await cache.keys(['user', ANY, 'session', ANY])).toEqual([['user', 1, 'session', 'a']])
  })

  test('putIf alongWith records in other slots are written first, even when the condition then fails; those in its slot are not', async () => {
    const cache = cacheWith({ tagDepth: 2, buckets: 8 })
    await cache.put(['sess', 'a', 'data'], 'first')
    const written = await cache.putIf(['sess', 'a', 'data'], 'second', {
      absent: true,
      alongWith: [
        { key: ['sess', 'a', 'meta'], value: 'same slot' },
        { key: ['user', 7, 'sessions'], value: 'other slot' },
      ],
    })
    expect(written).toBe(false)
    expect(await cache.get(['sess', 'a', 'data'])).toBe('first')
    expect(await cache.get(['sess', 'a', 'meta'])).toBeUndefined()
    expect(await cache.get(['user', 7, 'sessions'])).toBe('other slot')
  })

  test('a batch across slots writes and deletes in every slot', async () => {
    const cache = cacheWith({ tagDepth: 2, buckets: 8 })
    const keys = Array.from({ length: 12 }, (_, i) => ['user', i, 'x'])
    await cache.putMany(keys.map((key) => ({ key, value: 'old' })))
    await cache.batch({ put: keys.slice(0, 6).map((key) => ({ key, value: 'new' })), delete: keys.slice(6) })
    expect((await cache.all(['user', ANY, 'x'])).map((record) => [record.key, record.value])).toEqual(
      keys.slice(0, 6).map((key) => [key, 'new']),
    )
    expect(await inspect.dbsize()).toBe(
      6 + new Set(keys.slice(0, 6).map((key) => specPlace(key, { namespace: 'test', tagDepth: 2, buckets: 8 }).indexKey)).size,
    )
  })
})
