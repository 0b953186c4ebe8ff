/**
 * The behaviour every Cache implementation shares. Called once per implementation with a
 * factory; `advance` moves time forward (a fake clock for MemoryCache, real time for Redis).
 *
 * Where the harness is on Redis it also says so (`redis`), and the tests then check what each
 * call left in Redis too: TTLs (PTTL), index scores, and that some calls write nothing at all.
 * Tests that wait on Redis's real clock wait at least twice the TTL they outlive, and a check
 * that a short-lived record still lives counts only while the cache's clock says it must.
 */
import { ANY, CacheError, OptionError, type Cache, type CacheOptions, type CacheRecord, type KeyPart, type MatchPart } from 'sessionvault'
import { expectExpiryAt, type RedisInspector } from './redis-inspector'
import { specPlace, specReadStored } from './layout-spec'
import { whileLive } from '../helpers/while-live'

export interface CacheHarness {
  cache: Cache
  /** Lets `ms` milliseconds pass for the cache. */
  advance(ms: number): Promise<void>
  /** The cache's clock, in ms since the epoch: the fake clock, or the Redis server's TIME. */
  now(): Promise<number>
  /** The cache's tagDepth: 1 for MemoryCache, which lists any match. */
  tagDepth: number
  /** On Redis: direct reads, and the layout's bucket count. */
  redis?: { inspect: RedisInspector; buckets: number }
}

export type CacheFactory = (options: Omit<CacheOptions, 'now'>) => Promise<CacheHarness>

const HOUR = 3_600_000
/** A TTL short enough to wait out, and the wait: more than twice as long. */
const SHORT_TTL = 300
const OUTLIVE_SHORT = 700

const untimed = (records: CacheRecord<unknown>[]) => records.map(({ key, value }) => ({ key, value }))

export function describeCacheConformance(name: string, factory: CacheFactory): void {
  describe(`${name} conformance`, () => {
    let cache: Cache
    let harness: CacheHarness
    const advance = (ms: number) => harness.advance(ms)

    beforeEach(async () => {
      harness = await factory({ ttlMs: HOUR, namespace: 'test' })
      cache = harness.cache
    })

    /** Whether the cache can list `match`: it must fix its first min(tagDepth, length) - 1 parts. */
    function listable(match: readonly MatchPart[]): boolean {
      const wildcard = match.indexOf(ANY)
      const fixed = wildcard === -1 ? match.length : wildcard
      return fixed >= Math.min(harness.tagDepth, match.length) - 1
    }

    /** `expected` where the cache can list `match`; a UsageError where its tagDepth forbids it. */
    /** `run`, a listing by `operation`, gives `expected` where the cache can list `match`, else a UsageError naming the operation. */
    async function expectListed(
      match: readonly MatchPart[],
      operation: 'all' | 'keys' | 'count',
      run: () => Promise<unknown>,
      expected: unknown,
    ): Promise<void> {
      if (listable(match)) expect(await run()).toEqual(expected)
      else
        await expect(run()).rejects.toMatchObject({
          name: 'UsageError',
          code: 'INVALID_USE',
          message: expect.stringContaining(`cache.${operation}()`) as unknown,
        })
    }

    /** `countUnder(prefix)` is `expected`, where the prefix has the tagDepth - 1 parts it needs. */
    async function expectCountUnder(prefix: KeyPart[], expected: number): Promise<void> {
      if (prefix.length >= harness.tagDepth - 1) expect(await cache.countUnder(prefix)).toBe(expected)
      else await expect(cache.countUnder(prefix)).rejects.toMatchObject({ name: 'UsageError', code: 'INVALID_USE' })
    }

    /** Runs `write` and says which expiries a TTL of `ttlMs` set by it can have, by the cache's clock. */
    async function expiryWindow(ttlMs: number, write: () => Promise<unknown>): Promise<{ min: number; max: number }> {
      const before = await harness.now()
      await write()
      const after = await harness.now()
      return { min: before + ttlMs, max: after + ttlMs }
    }

    function expectWithin(expiresAtMs: number | undefined, window: { min: number; max: number }): void {
      expect(expiresAtMs).toBeGreaterThanOrEqual(window.min)
      expect(expiresAtMs).toBeLessThanOrEqual(window.max)
    }

    /**
     * On Redis: the record's value key expires at `expiresAtMs` (its header says so and its PTTL
     * agrees, to the ms) and so does its one index entry (the score). Elsewhere, nothing to read.
     */
    async function expectStoredExpiry(key: KeyPart[], expiresAtMs: number): Promise<void> {
      if (!harness.redis) return
      const { inspect, buckets } = harness.redis
      const place = specPlace(key, { namespace: cache.namespace, tagDepth: harness.tagDepth, buckets })
      const stored = await inspect.get(place.valueKey)
      expect(stored).not.toBeNull()
      expect(specReadStored(stored as string)).toMatchObject({ expiresAtMs, mark: 'v' })
      expect(await inspect.zscore(place.indexKey, place.member)).toBe(expiresAtMs)
      await expectExpiryAt(inspect, place.valueKey, expiresAtMs)
    }

    /** The record at `key` expires within `window`, as getTimed says and, on Redis, as stored. Gives what getTimed gave. */
    async function expectExpiryWithin(key: KeyPart[], window: { min: number; max: number }) {
      const timed = await cache.getTimed(key)
      expectWithin(timed?.expiresAtMs, window)
      await expectStoredExpiry(key, timed?.expiresAtMs as number)
      return timed
    }

    /** On Redis: the key holds a tombstone that lives at most `tombstoneMs` more. */
    async function expectStoredTombstone(key: KeyPart[], tombstoneMs: number): Promise<void> {
      if (!harness.redis) return
      const { inspect, buckets } = harness.redis
      const place = specPlace(key, { namespace: cache.namespace, tagDepth: harness.tagDepth, buckets })
      expect(specReadStored((await inspect.get(place.valueKey)) ?? '')).toMatchObject({ mark: 'x', value: '' })
      const pttl = await inspect.pttl(place.valueKey)
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(tombstoneMs)
      expect(await inspect.zscore(place.indexKey, place.member)).toBeNull()
    }

    /** Runs `call` and checks that Redis holds the very same keys after it (nothing written). */
    async function expectNothingWritten(call: () => Promise<unknown>): Promise<void> {
      if (!harness.redis) {
        await call()
        return
      }
      const { inspect } = harness.redis
      const [keys, size] = [await inspect.scan(), await inspect.dbsize()]
      await call()
      expect(await inspect.scan()).toEqual(keys)
      expect(await inspect.dbsize()).toBe(size)
    }

    describe('get, put and delete', () => {
      test('get of a missing key is undefined', async () => {
        expect(await cache.get('missing')).toBeUndefined()
      })

      test('put then get returns an equal value, not the same object', async () => {
        const value = { name: 'Ada', roles: ['admin'], nested: { n: 1 } }
        await cache.put(['user', 1], value)
        const read = await cache.get(['user', 1])
        expect(read).toEqual(value)
        expect(read).not.toBe(value)
      })

      test("a one-part key equals the key's part alone", async () => {
        await cache.put('k', 'v')
        expect(await cache.get(['k'])).toBe('v')
      })

      test("numbers and strings are different keys: 1 is not '1'", async () => {
        await cache.put(['n', 1], 'number')
        await cache.put(['n', '1'], 'string')
        expect(await cache.get(['n', 1])).toBe('number')
        expect(await cache.get(['n', '1'])).toBe('string')
        expect(await cache.keys(['n', ANY])).toEqual([
          ['n', 1],
          ['n', '1'],
        ])
      })

      test('put overwrites the previous value', async () => {
        await cache.put('k', 1)
        await cache.put('k', 2)
        expect(await cache.get('k')).toBe(2)
        expect(untimed(await cache.all(ANY))).toEqual([{ key: ['k'], value: 2 }])
      })

      test('delete removes the record from get and all, and says there was one', async () => {
        await cache.put(['a', 1], 'x')
        await cache.put(['a', 2], 'y')
        expect(await cache.delete(['a', 1])).toBe(true)
        expect(await cache.get(['a', 1])).toBeUndefined()
        expect(untimed(await cache.all(['a', ANY]))).toEqual([{ key: ['a', 2], value: 'y' }])
      })

      test('delete of a missing key resolves to false and writes nothing', async () => {
        await cache.put(['other', 1], 'x')
        await expectNothingWritten(async () => expect(await cache.delete(['never', 'there'])).toBe(false))
      })

      test('putMany writes every record', async () => {
        await cache.putMany([
          { key: 'key1', value: '1' },
          { key: ['deep', 'key2'], value: '2' },
        ])
        expect(await cache.get('key1')).toBe('1')
        expect(await cache.get(['deep', 'key2'])).toBe('2')
      })

      test('putMany of nothing is a no-op', async () => {
        await expectNothingWritten(() => cache.putMany([]))
        expect(await cache.all(ANY)).toEqual([])
      })

      test('hostile strings are ordinary key parts', async () => {
        const parts = ['a:b', '{tag}', '*', '_i:x', '', 'ü🙂', ' ', '\n', '%', 'a\u0000b', '.', '.x', '#1', 'sess', 'x'.repeat(65)]
        for (const part of parts) await cache.put(['h', part], part)
        for (const part of parts) expect(await cache.get(['h', part])).toBe(part)
        expect((await cache.keys(['h', ANY])).map((key) => key[1]).sort()).toEqual([...parts].sort())
      })

      test('namespaces keep caches apart', async () => {
        const other = (await factory({ ttlMs: HOUR, namespace: 'other' })).cache
        await cache.put('k', 'mine')
        expect(await other.get('k')).toBeUndefined()
        expect(await other.all(ANY)).toEqual([])
        expect(await other.delete('k')).toBe(false)
        expect(await cache.get('k')).toBe('mine')
      })

      test('values survive JSON round trips: null, numbers, strings, arrays', async () => {
        const values = [null, 0, -1.5, '', 'text', [1, 'two'], { a: null }, true]
        await cache.putMany(values.map((value, i) => ({ key: ['v', i], value })))
        expect((await cache.all(['v', ANY])).map((record) => record.value)).toEqual(values)
      })

      test('a __proto__ key in a stored value never becomes a prototype', async () => {
        await cache.put('p', JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}'))
        const read = (await cache.get('p')) as Record<string, unknown>
        expect(read).toEqual({ ok: 1 })
        expect(Object.getPrototypeOf(read)).toBe(Object.prototype)
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
        expect(Object.assign({}, read)).not.toHaveProperty('polluted')
      })
    })

    describe('listing: all, keys, count', () => {
      test('all(ANY) lists one-part keys only', async () => {
        await cache.put('top', 1)
        await cache.put(['top', 'child'], 2)
        expect(untimed(await cache.all(ANY))).toEqual([{ key: ['top'], value: 1 }])
      })

      test('a match finds only keys of its own length', async () => {
        await cache.put(['namespace', 'key'], 'value')
        await cache.put(['namespace', 'key', 'key2'], 'value')
        expect(untimed(await cache.all(['namespace', ANY]))).toEqual([{ key: ['namespace', 'key'], value: 'value' }])
        await expectListed(['namespace', ANY, ANY], 'all', async () => untimed(await cache.all(['namespace', ANY, ANY])), [
          { key: ['namespace', 'key', 'key2'], value: 'value' },
        ])
        expect(untimed(await cache.all(['namespace', 'key', ANY]))).toEqual([{ key: ['namespace', 'key', 'key2'], value: 'value' }])
      })

      test('ANY in the middle matches one part and the literal parts after it must match', async () => {
        await cache.put(['user', 1, 'session', 'a'], 'a')
        await cache.put(['user', 2, 'session', 'b'], 'b')
        await cache.put(['user', 2, 'device', 'b'], 'c')
        await expectListed(['user', ANY, 'session', ANY], 'keys', () => cache.keys(['user', ANY, 'session', ANY]), [
          ['user', 1, 'session', 'a'],
          ['user', 2, 'session', 'b'],
        ])
        await expectListed([ANY, 2, ANY, 'b'], 'keys', () => cache.keys([ANY, 2, ANY, 'b']), [
          ['user', 2, 'device', 'b'],
          ['user', 2, 'session', 'b'],
        ])
        expect(await cache.keys(['user', 2, ANY, 'b'])).toEqual([
          ['user', 2, 'device', 'b'],
          ['user', 2, 'session', 'b'],
        ])
      })

      test('a match that fixes fewer parts than tagDepth - 1 is a UsageError, for all, keys and count (tagDepth 1 lists any match)', async () => {
        await cache.putMany([
          { key: ['u', 1, 's', 'a'], value: 1 },
          { key: ['u', 2, 's', 'b'], value: 2 },
          { key: ['v', 1, 's', 'a'], value: 3 },
        ])
        const everything = [
          ['u', 1, 's', 'a'],
          ['u', 2, 's', 'b'],
          ['v', 1, 's', 'a'],
        ]
        const matches: [MatchPart[], KeyPart[][]][] = [
          [[ANY, ANY, ANY, ANY], everything],
          [
            [ANY, 1, 's', 'a'],
            [
              ['u', 1, 's', 'a'],
              ['v', 1, 's', 'a'],
            ],
          ],
          [
            ['u', ANY, ANY, ANY],
            [
              ['u', 1, 's', 'a'],
              ['u', 2, 's', 'b'],
            ],
          ],
          [['u', ANY, 's', 'b'], [['u', 2, 's', 'b']]],
          [['u', 1, ANY, ANY], [['u', 1, 's', 'a']]],
          [['u', 1, 's', ANY], [['u', 1, 's', 'a']]],
        ]
        for (const [match, keys] of matches) {
          await expectListed(match, 'keys', () => cache.keys(match), keys)
          await expectListed(match, 'all', async () => (await cache.all(match)).map((record) => record.key), keys)
          await expectListed(match, 'count', () => cache.count(match), keys.length)
        }
        // A match with no wildcard is a lookup, whatever it fixes.
        expect(await cache.keys(['v', 1, 's', 'a'])).toEqual([['v', 1, 's', 'a']])
      })

      test('a match with no wildcard finds that one key', async () => {
        await cache.put(['a', 'b'], 1)
        expect(untimed(await cache.all(['a', 'b']))).toEqual([{ key: ['a', 'b'], value: 1 }])
        expect(await cache.all(['a', 'c'])).toEqual([])
      })

      test('all sorts by key: numbers before strings, numbers numerically', async () => {
        for (const part of ['b', 10, 'a', 2, '10']) await cache.put(['s', part], part)
        expect(await cache.keys(['s', ANY])).toEqual([
          ['s', 2],
          ['s', 10],
          ['s', '10'],
          ['s', 'a'],
          ['s', 'b'],
        ])
      })

      test('all lists many records without duplicates', async () => {
        const entries = Array.from({ length: 1_500 }, (_, i) => ({ key: ['many', i], value: i }))
        await cache.putMany(entries)
        const records = await cache.all(['many', ANY])
        expect(records).toHaveLength(1_500)
        expect(records.map((record) => record.value)).toEqual(entries.map((entry) => entry.value))
      })

      test('count tells how many records keys() would list', async () => {
        await cache.putMany([
          { key: ['c', 1], value: 1 },
          { key: ['c', 2], value: 2 },
          { key: ['c', 2, 'deeper'], value: 3 },
          { key: ['d', 1], value: 4 },
        ])
        expect(await cache.count(['c', ANY])).toBe(2)
        await expectListed(['c', ANY, ANY], 'count', () => cache.count(['c', ANY, ANY]), 1)
        await expectListed([ANY, ANY], 'count', () => cache.count([ANY, ANY]), 3)
        await expectListed([ANY, 1], 'count', () => cache.count([ANY, 1]), 2)
        expect(await cache.count(['c', 1])).toBe(1)
        expect(await cache.count(['c', 9])).toBe(0)
        expect(await cache.delete(['c', 1])).toBe(true)
        expect(await cache.count(['c', ANY])).toBe(1)
      })

      test('count and countUnder leave out expired records', async () => {
        await cache.put(['e', 1], 1, { ttlMs: SHORT_TTL })
        await cache.put(['e', 2], 2)
        await advance(OUTLIVE_SHORT)
        expect(await cache.count(['e', ANY])).toBe(1)
        await expectCountUnder(['e'], 1)
      })

      test('all() gives each record with its expiry, the one getTimed gives', async () => {
        const window = await expiryWindow(60_000, () => cache.put(['t', 'a'], 'a', { ttlMs: 60_000 }))
        await cache.put(['t', 'b'], 'b')
        const records = await cache.all(['t', ANY])
        expect(records.map((record) => record.key)).toEqual([
          ['t', 'a'],
          ['t', 'b'],
        ])
        expectWithin(records[0]?.expiresAtMs, window)
        for (const record of records) expect(record.expiresAtMs).toBe((await cache.getTimed(record.key))?.expiresAtMs)
      })
    })

    describe('countUnder', () => {
      const tree: KeyPart[][] = [['s'], ['s', 'a'], ['s', 'b'], ['s', 'b', 'x'], ['s', 'b', 'y', 'z'], ['s', 'c', 'x'], ['t', 'a']]

      test('counts the live records whose keys start with the prefix, whatever their length', async () => {
        await cache.putMany(tree.map((key) => ({ key, value: key.length })))
        await expectCountUnder(['s'], 5)
        await expectCountUnder(['s', 'b'], 2)
        await expectCountUnder(['s', 'b', 'y'], 1)
        await expectCountUnder(['t'], 1)
        await expectCountUnder(['t', 'a'], 0)
        await expectCountUnder(['u'], 0)
        await expectCountUnder([], tree.length)
      })

      test('leaves out deleted records and tombstones', async () => {
        await cache.putMany(tree.map((key) => ({ key, value: key.length })))
        await cache.delete(['s', 'b', 'x'])
        await cache.delete(['s', 'b', 'y', 'z'], { tombstoneMs: 60_000 })
        await expectCountUnder(['s', 'b'], 0)
        await expectCountUnder(['s'], 3)
      })

      test('a prefix shorter than tagDepth - 1 parts is a UsageError naming countUnder', async () => {
        await cache.put(['a', 'b', 'c'], 1)
        if (harness.tagDepth > 1) {
          await expect(cache.countUnder([])).rejects.toThrow(/countUnder/)
        } else {
          expect(await cache.countUnder([])).toBe(1)
        }
      })
    })

    describe('expiry', () => {
      test('a record expires after its TTL, for get, getTimed, all and keys', async () => {
        const window = await expiryWindow(SHORT_TTL, () => cache.put(['e', 'short'], 1, { ttlMs: SHORT_TTL }))
        await cache.put(['e', 'long'], 2, { ttlMs: 60_000 })
        await whileLive(
          () => harness.now(),
          window.min,
          async () => expect(await cache.get(['e', 'short'])).toBe(1),
        )
        await advance(OUTLIVE_SHORT)
        expect(await cache.get(['e', 'short'])).toBeUndefined()
        expect(await cache.getTimed(['e', 'short'])).toBeUndefined()
        expect(untimed(await cache.all(['e', ANY]))).toEqual([{ key: ['e', 'long'], value: 2 }])
        expect(await cache.keys(['e', ANY])).toEqual([['e', 'long']])
      })

      test('a put sets a new expiry, later or earlier than the last', async () => {
        await cache.put('r', 1, { ttlMs: 60_000 })
        const later = await expiryWindow(120_000, () => cache.put('r', 2, { ttlMs: 120_000 }))
        expectWithin((await cache.getTimed('r'))?.expiresAtMs, later)
        const earlier = await expiryWindow(30_000, () => cache.put('r', 3, { ttlMs: 30_000 }))
        const timed = await cache.getTimed('r')
        expect(timed?.value).toBe(3)
        expectWithin(timed?.expiresAtMs, earlier)
        await expectStoredExpiry(['r'], timed?.expiresAtMs as number)
      })

      test('a put without ttlMs uses the cache ttlMs', async () => {
        const window = await expiryWindow(HOUR, () => cache.put(['d', 1], 'x'))
        expectWithin((await cache.getTimed(['d', 1]))?.expiresAtMs, window)
      })

      test("a shorter-lived record joining an index does not hide a longer-lived one's", async () => {
        await cache.put(['i', 'long'], 1, { ttlMs: 60_000 })
        await cache.put(['i', 'short'], 2, { ttlMs: SHORT_TTL })
        await advance(OUTLIVE_SHORT)
        expect(untimed(await cache.all(['i', ANY]))).toEqual([{ key: ['i', 'long'], value: 1 }])
      })
    })

    describe('getTimed', () => {
      test('gives the value and when the record expires', async () => {
        const window = await expiryWindow(60_000, () => cache.put(['g', 1], { n: 1 }, { ttlMs: 60_000 }))
        const timed = await expectExpiryWithin(['g', 1], window)
        expect(timed?.value).toEqual({ n: 1 })
      })

      test('of a missing key is undefined', async () => {
        expect(await cache.getTimed(['g', 'missing'])).toBeUndefined()
      })

      test('of a tombstone is undefined', async () => {
        await cache.put(['g', 2], 'x')
        await cache.delete(['g', 2], { tombstoneMs: 60_000 })
        expect(await cache.getTimed(['g', 2])).toBeUndefined()
      })
    })

    describe('touch and touchMany', () => {
      test('touch gives a live record a new, longer TTL and keeps its value', async () => {
        await cache.put(['t', 1], { n: 1 }, { ttlMs: 60_000 })
        let touched: boolean | undefined
        const window = await expiryWindow(120_000, async () => (touched = await cache.touch(['t', 1], { ttlMs: 120_000 })))
        expect(touched).toBe(true)
        const timed = await expectExpiryWithin(['t', 1], window)
        expect(timed?.value).toEqual({ n: 1 })
      })

      test('touch without ttlMs uses the cache ttlMs', async () => {
        await cache.put(['t', 2], 'x', { ttlMs: 60_000 })
        const window = await expiryWindow(HOUR, () => cache.touch(['t', 2]))
        expectWithin((await cache.getTimed(['t', 2]))?.expiresAtMs, window)
      })

      test('a touch with a shorter TTL shortens the record, and every listing drops it when that runs out', async () => {
        await cache.put(['t', 'short'], 1, { ttlMs: 60_000 })
        await cache.put(['t', 'long'], 2, { ttlMs: 60_000 })
        const window = await expiryWindow(SHORT_TTL, () => cache.touch(['t', 'short'], { ttlMs: SHORT_TTL }))
        await whileLive(
          () => harness.now(),
          window.min,
          async () => {
            await expectExpiryWithin(['t', 'short'], window)
          },
        )
        await advance(OUTLIVE_SHORT)
        expect(await cache.get(['t', 'short'])).toBeUndefined()
        expect(await cache.keys(['t', ANY])).toEqual([['t', 'long']])
        expect(await cache.count(['t', ANY])).toBe(1)
        await expectCountUnder(['t'], 1)
      })

      test('touch of a missing key resolves to false and writes nothing', async () => {
        await cache.put(['other', 1], 'x')
        await expectNothingWritten(async () => expect(await cache.touch(['t', 'missing'], { ttlMs: 60_000 })).toBe(false))
        expect(await cache.get(['t', 'missing'])).toBeUndefined()
      })

      test('touch never revives an expired record', async () => {
        await cache.put(['t', 'gone'], 1, { ttlMs: SHORT_TTL })
        await advance(OUTLIVE_SHORT)
        expect(await cache.touch(['t', 'gone'], { ttlMs: 60_000 })).toBe(false)
        expect(await cache.get(['t', 'gone'])).toBeUndefined()
        expect(await cache.keys(['t', ANY])).toEqual([])
      })

      test('touch never revives a deleted record', async () => {
        await cache.put(['t', 'deleted'], 1)
        await cache.delete(['t', 'deleted'])
        expect(await cache.touch(['t', 'deleted'])).toBe(false)
        expect(await cache.get(['t', 'deleted'])).toBeUndefined()
        expect(await cache.keys(['t', ANY])).toEqual([])
      })

      test('touch leaves a tombstone as it is: not revived, not lengthened', async () => {
        await cache.put(['t', 'ended'], 1)
        const window = await expiryWindow(SHORT_TTL, () => cache.delete(['t', 'ended'], { tombstoneMs: SHORT_TTL }))
        expect(await cache.touch(['t', 'ended'], { ttlMs: 60_000 })).toBe(false)
        expect(await cache.get(['t', 'ended'])).toBeUndefined()
        await whileLive(
          () => harness.now(),
          window.min,
          async () => {
            await expectStoredTombstone(['t', 'ended'], SHORT_TTL)
            expect(await cache.putIf(['t', 'ended'], 2, { unlessDeleted: true })).toBe(false)
          },
        )
        await advance(OUTLIVE_SHORT)
        // Had the touch lengthened it, the tombstone would still refuse this.
        expect(await cache.putIf(['t', 'ended'], 2, { unlessDeleted: true })).toBe(true)
      })

      test('touchMany touches the live records among its keys and says how many', async () => {
        await cache.putMany(
          [
            { key: ['m', 1], value: 1 },
            { key: ['m', 2], value: 2 },
            { key: ['m', 3], value: 3 },
          ],
          { ttlMs: 60_000 },
        )
        await cache.delete(['m', 3], { tombstoneMs: 60_000 })
        let touched: number | undefined
        const window = await expiryWindow(
          120_000,
          async () =>
            (touched = await cache.touchMany(
              [
                ['m', 1],
                ['m', 2],
                ['m', 3],
                ['m', 'missing'],
              ],
              { ttlMs: 120_000 },
            )),
        )
        expect(touched).toBe(2)
        for (const key of [
          ['m', 1],
          ['m', 2],
        ]) {
          await expectExpiryWithin(key, window)
        }
        expect(await cache.get(['m', 3])).toBeUndefined()
        expect(await cache.get(['m', 'missing'])).toBeUndefined()
      })

      test('touchMany of nothing resolves to 0', async () => {
        expect(await cache.touchMany([])).toBe(0)
      })

      test('a touch with a bad ttlMs fails naming ttlMs, and changes nothing', async () => {
        await cache.put(['t', 3], 1, { ttlMs: 60_000 })
        const before = (await cache.getTimed(['t', 3]))?.expiresAtMs
        await expect(cache.touch(['t', 3], { ttlMs: 0 })).rejects.toThrow(/`ttlMs`/)
        await expect(cache.touchMany([['t', 3]], { ttlMs: 1.5 })).rejects.toThrow(OptionError)
        expect((await cache.getTimed(['t', 3]))?.expiresAtMs).toBe(before)
      })
    })

    describe('delete with tombstoneMs', () => {
      test('of a key that holds nothing resolves to false and writes nothing', async () => {
        await cache.put(['other', 1], 'x')
        await expectNothingWritten(async () => expect(await cache.delete(['never', 'there'], { tombstoneMs: 60_000 })).toBe(false))
        // No tombstone: a write that must not follow a delete still goes through.
        expect(await cache.putIf(['never', 'there'], 1, { unlessDeleted: true })).toBe(true)
      })

      test('turns a live record into a tombstone: get, listings and counts no longer see it', async () => {
        await cache.putMany([
          { key: ['sess', 'a'], value: 'a' },
          { key: ['sess', 'b'], value: 'b' },
        ])
        expect(await cache.delete(['sess', 'a'], { tombstoneMs: 60_000 })).toBe(true)
        expect(await cache.get(['sess', 'a'])).toBeUndefined()
        expect(await cache.keys(['sess', ANY])).toEqual([['sess', 'b']])
        expect(await cache.all(['sess', 'a'])).toEqual([])
        expect(await cache.keys(['sess', 'a'])).toEqual([])
        expect(await cache.count(['sess', ANY])).toBe(1)
        expect(await cache.count(['sess', 'a'])).toBe(0)
        await expectCountUnder(['sess'], 1)
        await expectStoredTombstone(['sess', 'a'], 60_000)
      })

      test('a tombstone refuses putIf unlessDeleted and putIf absent, not a plain put', async () => {
        await cache.put(['sess', 'c'], 'c')
        await cache.delete(['sess', 'c'], { tombstoneMs: 60_000 })
        expect(await cache.putIf(['sess', 'c'], 'late', { unlessDeleted: true })).toBe(false)
        expect(await cache.putIf(['sess', 'c'], 'late', { absent: true })).toBe(false)
        expect(await cache.get(['sess', 'c'])).toBeUndefined()
        await cache.put(['sess', 'c'], 'again')
        expect(await cache.get(['sess', 'c'])).toBe('again')
        expect(await cache.keys(['sess', ANY])).toEqual([['sess', 'c']])
        expect(await cache.putIf(['sess', 'c'], 'newer', { unlessDeleted: true })).toBe(true)
        expect(await cache.get(['sess', 'c'])).toBe('newer')
      })

      test('a tombstone expires after tombstoneMs', async () => {
        await cache.put(['sess', 'd'], 'd')
        await cache.delete(['sess', 'd'], { tombstoneMs: SHORT_TTL })
        await advance(OUTLIVE_SHORT)
        expect(await cache.putIf(['sess', 'd'], 'back', { unlessDeleted: true })).toBe(true)
        expect(await cache.get(['sess', 'd'])).toBe('back')
      })

      test('deleting a tombstone again resolves to false and leaves it as it was', async () => {
        await cache.put(['sess', 'e'], 'e')
        const window = await expiryWindow(SHORT_TTL, () => cache.delete(['sess', 'e'], { tombstoneMs: SHORT_TTL }))
        await whileLive(
          () => harness.now(),
          window.min,
          async () => {
            expect(await cache.delete(['sess', 'e'], { tombstoneMs: 60_000 })).toBe(false)
            await expectStoredTombstone(['sess', 'e'], SHORT_TTL)
          },
        )
        await advance(OUTLIVE_SHORT)
        expect(await cache.putIf(['sess', 'e'], 'back', { unlessDeleted: true })).toBe(true)
      })

      test('a bad tombstoneMs fails naming it, and deletes nothing', async () => {
        await cache.put('k', 1)
        await expect(cache.delete('k', { tombstoneMs: -1 })).rejects.toThrow(/`tombstoneMs`/)
        await expect(cache.delete('k', { tombstoneMs: 0.5 })).rejects.toThrow(OptionError)
        expect(await cache.get('k')).toBe(1)
      })
    })

    describe('putIf', () => {
      test('absent writes only the first time and says so', async () => {
        expect(await cache.putIf(['lock', 1], 'first', { absent: true, ttlMs: 60_000 })).toBe(true)
        expect(await cache.putIf(['lock', 1], 'second', { absent: true })).toBe(false)
        expect(await cache.get(['lock', 1])).toBe('first')
        expect(await cache.keys(['lock', ANY])).toEqual([['lock', 1]])
      })

      test('absent succeeds again once the record has expired', async () => {
        expect(await cache.putIf('lease', 1, { absent: true, ttlMs: SHORT_TTL })).toBe(true)
        await advance(OUTLIVE_SHORT)
        expect(await cache.putIf('lease', 2, { absent: true })).toBe(true)
        expect(await cache.get('lease')).toBe(2)
      })

      test('writes with its ttlMs', async () => {
        const window = await expiryWindow(90_000, () => cache.putIf(['lock', 2], 'x', { absent: true, ttlMs: 90_000 }))
        await expectExpiryWithin(['lock', 2], window)
      })

      test('ifValue writes only over the value it was given (compare-and-set)', async () => {
        await cache.put(['cart', 1], { items: 1 })
        expect(await cache.putIf(['cart', 1], { items: 2 }, { ifValue: { items: 1 } })).toBe(true)
        expect(await cache.putIf(['cart', 1], { items: 3 }, { ifValue: { items: 1 } })).toBe(false)
        expect(await cache.get(['cart', 1])).toEqual({ items: 2 })
      })

      test('ifValue does not write a record that is gone, nor over a tombstone', async () => {
        expect(await cache.putIf(['cart', 2], 'new', { ifValue: 'old' })).toBe(false)
        expect(await cache.get(['cart', 2])).toBeUndefined()
        await cache.put(['cart', 3], 'old')
        await cache.delete(['cart', 3], { tombstoneMs: 60_000 })
        expect(await cache.putIf(['cart', 3], 'new', { ifValue: 'old' })).toBe(false)
        expect(await cache.get(['cart', 3])).toBeUndefined()
      })

      test('unlessDeleted writes over a live record or over nothing', async () => {
        expect(await cache.putIf(['sess', 'n'], 1, { unlessDeleted: true })).toBe(true)
        expect(await cache.putIf(['sess', 'n'], 2, { unlessDeleted: true })).toBe(true)
        expect(await cache.get(['sess', 'n'])).toBe(2)
      })

      test('conditions combine: absent and unlessDeleted must both hold', async () => {
        expect(await cache.putIf(['sess', 'y'], 1, { absent: true, unlessDeleted: true })).toBe(true)
        expect(await cache.putIf(['sess', 'y'], 2, { absent: true, unlessDeleted: true })).toBe(false)
        expect(await cache.get(['sess', 'y'])).toBe(1)
      })

      test('conditions combine: ifValue and unlessDeleted must both hold', async () => {
        await cache.put(['sess', 'z'], 'a')
        expect(await cache.putIf(['sess', 'z'], 'b', { ifValue: 'a', unlessDeleted: true })).toBe(true)
        await cache.delete(['sess', 'z'], { tombstoneMs: 60_000 })
        expect(await cache.putIf(['sess', 'z'], 'c', { ifValue: 'b', unlessDeleted: true })).toBe(false)
        expect(await cache.get(['sess', 'z'])).toBeUndefined()
      })

      test('needs a condition, and absent excludes ifValue', async () => {
        await expect(cache.putIf('k', 1, {})).rejects.toThrow(OptionError)
        await expect(cache.putIf('k', 1, { alongWith: [{ key: 'j', value: 1 }] })).rejects.toThrow(OptionError)
        await expect(cache.putIf('k', 1, { absent: true, ifValue: 1 })).rejects.toThrow(/exclude each other/)
        expect(await cache.get('k')).toBeUndefined()
        expect(await cache.get('j')).toBeUndefined()
      })

      // The records share their first two parts: one slot on the Cluster runs (tagDepth 2).
      test('alongWith records are written with the record, with its TTL, when the condition holds', async () => {
        let written: boolean | undefined
        const window = await expiryWindow(90_000, async () => {
          written = await cache.putIf(['sess', 'a', 'data'], 'data', {
            absent: true,
            ttlMs: 90_000,
            alongWith: [
              { key: ['sess', 'a', 'meta'], value: 'meta' },
              { key: ['sess', 'a', 'user', 7], value: 'user' },
            ],
          })
        })
        expect(written).toBe(true)
        expect(untimed(await cache.all(['sess', 'a', ANY]))).toEqual([
          { key: ['sess', 'a', 'data'], value: 'data' },
          { key: ['sess', 'a', 'meta'], value: 'meta' },
        ])
        expect(await cache.get(['sess', 'a', 'user', 7])).toBe('user')
        for (const key of [
          ['sess', 'a', 'meta'],
          ['sess', 'a', 'user', 7],
        ]) {
          await expectExpiryWithin(key, window)
        }
      })

      test('alongWith records are not written when the condition fails', async () => {
        await cache.put(['sess', 'b', 'data'], 'first')
        const written = await cache.putIf(['sess', 'b', 'data'], 'second', {
          absent: true,
          alongWith: [{ key: ['sess', 'b', 'meta'], value: 'meta' }],
        })
        expect(written).toBe(false)
        expect(await cache.get(['sess', 'b', 'meta'])).toBeUndefined()
        expect(await cache.keys(['sess', 'b', ANY])).toEqual([['sess', 'b', 'data']])
      })

      test('alongWith records are not written over a tombstone of the record', async () => {
        await cache.put(['sess', 'c', 'data'], 'first')
        await cache.delete(['sess', 'c', 'data'], { tombstoneMs: 60_000 })
        const written = await cache.putIf(['sess', 'c', 'data'], 'late', {
          unlessDeleted: true,
          alongWith: [{ key: ['sess', 'c', 'meta'], value: 'late' }],
        })
        expect(written).toBe(false)
        expect(await cache.keys(['sess', 'c', ANY])).toEqual([])
      })
    })

    describe('batch', () => {
      test('writes some records and deletes others, the deleted ones leaving no tombstone', async () => {
        await cache.putMany([
          { key: ['b', 1], value: 1 },
          { key: ['b', 2], value: 2 },
        ])
        const window = await expiryWindow(60_000, () =>
          cache.batch(
            {
              put: [
                { key: ['b', 1], value: 'one' },
                { key: ['b', 3], value: 3 },
              ],
              delete: [
                ['b', 2],
                ['b', 'missing'],
              ],
            },
            { ttlMs: 60_000 },
          ),
        )
        expect(untimed(await cache.all(['b', ANY]))).toEqual([
          { key: ['b', 1], value: 'one' },
          { key: ['b', 3], value: 3 },
        ])
        expect(await cache.get(['b', 2])).toBeUndefined()
        expectWithin((await cache.getTimed(['b', 3]))?.expiresAtMs, window)
        expect(await cache.putIf(['b', 2], 'again', { unlessDeleted: true })).toBe(true)
      })

      test('of nothing is a no-op', async () => {
        await expectNothingWritten(() => cache.batch({}))
        await expectNothingWritten(() => cache.batch({ put: [], delete: [] }))
      })

      test('a bad key or value fails the whole batch before anything is written', async () => {
        await cache.put(['b', 'kept'], 1)
        await expect(cache.batch({ put: [{ key: ['b', 'new'], value: 1 }], delete: [[NaN]] })).rejects.toMatchObject({
          code: 'MALFORMED_KEY',
        })
        await expect(cache.batch({ put: [{ key: ['b', 'new'], value: () => 1 }], delete: [['b', 'kept']] })).rejects.toMatchObject({
          code: 'UNSERIALIZABLE_VALUE',
        })
        expect(await cache.keys(['b', ANY])).toEqual([['b', 'kept']])
      })
    })

    describe('batch with a limit', () => {
      // Three parts: a prefix a limit may name with any tagDepth up to 3 (it must fix tagDepth parts).
      const SESSIONS = ['u', 'ada', 'sessions']
      const MINUTE = 60_000

      async function putSessions(ttlMinutes: Record<number, number>): Promise<void> {
        for (const [id, minutes] of Object.entries(ttlMinutes))
          await cache.put([...SESSIONS, Number(id)], Number(id), { ttlMs: minutes * MINUTE })
      }

      test('keeps at most max live records under the prefix: those that expire first are deleted', async () => {
        await putSessions({ 1: 10, 2: 30, 3: 20 })
        await cache.putMany([
          { key: ['u', 'ada', 'other', 1], value: 'other' },
          { key: ['u', 'bob', 'sessions', 1], value: 'bob' },
          { key: ['u', 'ada', 'sessions'], value: 'the prefix itself' },
        ])
        await cache.batch({ put: [{ key: [...SESSIONS, 4], value: 4 }] }, { ttlMs: HOUR, limit: { prefix: SESSIONS, max: 2 } })
        expect(await cache.keys([...SESSIONS, ANY])).toEqual([
          [...SESSIONS, 2],
          [...SESSIONS, 4],
        ])
        expect(await cache.get(['u', 'ada', 'other', 1])).toBe('other')
        expect(await cache.get(['u', 'bob', 'sessions', 1])).toBe('bob')
        expect(await cache.get(['u', 'ada', 'sessions'])).toBe('the prefix itself')
      })

      test('counts records at any depth under the prefix, and deletes nothing while there are at most max', async () => {
        await putSessions({ 1: 10 })
        await cache.put([...SESSIONS, 1, 'device'], 'd', { ttlMs: 20 * MINUTE })
        await cache.batch({ put: [{ key: [...SESSIONS, 2], value: 2 }] }, { limit: { prefix: SESSIONS, max: 3 } })
        await expectCountUnder(SESSIONS, 3)
        await cache.batch({ put: [{ key: [...SESSIONS, 3], value: 3 }] }, { limit: { prefix: SESSIONS, max: 3 } })
        expect(await cache.get([...SESSIONS, 1])).toBeUndefined()
        expect(await cache.get([...SESSIONS, 1, 'device'])).toBe('d')
        await expectCountUnder(SESSIONS, 3)
      })

      test('deletes in the same step as the write, leaving no tombstone', async () => {
        await putSessions({ 1: 10, 2: 20 })
        await cache.batch(
          { put: [{ key: [...SESSIONS, 3], value: 3 }], delete: [[...SESSIONS, 2]] },
          { limit: { prefix: SESSIONS, max: 1 } },
        )
        expect(await cache.keys([...SESSIONS, ANY])).toEqual([[...SESSIONS, 3]])
        expect(await cache.putIf([...SESSIONS, 1], 'again', { unlessDeleted: true })).toBe(true)
      })

      test('needs a whole max of at least 1 and a prefix of a key the batch puts; nothing is written otherwise', async () => {
        const put = [{ key: [...SESSIONS, 9], value: 9 }]
        await expect(cache.batch({ put }, { limit: { prefix: SESSIONS, max: 0 } })).rejects.toThrow(/`limit.max`/)
        await expect(cache.batch({ put }, { limit: { prefix: SESSIONS, max: 1.5 } })).rejects.toThrow(OptionError)
        await expect(cache.batch({ put }, { limit: { prefix: ['u', 'bob', 'sessions'], max: 1 } })).rejects.toThrow(/`limit.prefix`/)
        await expect(cache.batch({ put }, { limit: { prefix: [...SESSIONS, 9], max: 1 } })).rejects.toThrow(/`limit.prefix`/)
        await expect(cache.batch({ delete: [[...SESSIONS, 9]] }, { limit: { prefix: SESSIONS, max: 1 } })).rejects.toThrow(OptionError)
        expect(await cache.get([...SESSIONS, 9])).toBeUndefined()
      })

      test('on a cache with tagDepth above 1, a prefix shorter than tagDepth parts is a UsageError', async () => {
        const put = [{ key: ['u', 'ada', 'x'], value: 1 }]
        if (harness.tagDepth > 1) {
          await expect(cache.batch({ put }, { limit: { prefix: ['u'], max: 1 } })).rejects.toMatchObject({
            name: 'UsageError',
            code: 'INVALID_USE',
          })
          expect(await cache.get(['u', 'ada', 'x'])).toBeUndefined()
        } else {
          await cache.batch({ put }, { limit: { prefix: ['u'], max: 1 } })
          expect(await cache.get(['u', 'ada', 'x'])).toBe(1)
        }
      })
    })

    describe('extendOnly entries', () => {
      test('keep a later expiry the record has, with the new value', async () => {
        await cache.put(['x', 1], 'old', { ttlMs: HOUR })
        const before = (await cache.getTimed(['x', 1]))?.expiresAtMs as number
        await cache.putMany([{ key: ['x', 1], value: 'new', extendOnly: true }], { ttlMs: 60_000 })
        const timed = await cache.getTimed(['x', 1])
        expect(timed?.value).toBe('new')
        // Redis recomputes it from the PTTL it reads: the same instant, give or take the tick of a ms.
        expect(Math.abs((timed?.expiresAtMs as number) - before)).toBeLessThanOrEqual(2)
        await expectStoredExpiry(['x', 1], timed?.expiresAtMs as number)
      })

      test('take the write TTL where it is later, or where the record is new', async () => {
        await cache.put(['x', 2], 'old', { ttlMs: 60_000 })
        const window = await expiryWindow(HOUR, () =>
          cache.batch(
            {
              put: [
                { key: ['x', 2], value: 'new', extendOnly: true },
                { key: ['x', 3], value: 'fresh', extendOnly: true },
              ],
            },
            { ttlMs: HOUR },
          ),
        )
        for (const key of [
          ['x', 2],
          ['x', 3],
        ]) {
          await expectExpiryWithin(key, window)
        }
      })

      test('alongWith a putIf, an extendOnly record keeps its later expiry too', async () => {
        await cache.put(['sess', 'e', 'user'], 'u', { ttlMs: HOUR })
        const before = (await cache.getTimed(['sess', 'e', 'user']))?.expiresAtMs as number
        expect(
          await cache.putIf(['sess', 'e', 'data'], 'd', {
            absent: true,
            ttlMs: 60_000,
            alongWith: [{ key: ['sess', 'e', 'user'], value: 'u2', extendOnly: true }],
          }),
        ).toBe(true)
        const timed = await cache.getTimed(['sess', 'e', 'user'])
        expect(timed?.value).toBe('u2')
        expect(Math.abs((timed?.expiresAtMs as number) - before)).toBeLessThanOrEqual(2)
      })
    })

    describe('errors and options', () => {
      test('malformed keys are a CacheError naming the operation', async () => {
        const bad = [[], [NaN], [Infinity], [{}], [null], ['ok', undefined], ['\uD800']] as unknown as string[][]
        for (const key of bad) {
          await expect(cache.put(key, 1)).rejects.toMatchObject({ name: 'CacheError', code: 'MALFORMED_KEY', operation: 'put' })
          await expect(cache.get(key)).rejects.toBeInstanceOf(CacheError)
          await expect(cache.getTimed(key)).rejects.toMatchObject({ code: 'MALFORMED_KEY' })
          await expect(cache.delete(key)).rejects.toBeInstanceOf(CacheError)
          await expect(cache.touch(key)).rejects.toMatchObject({ code: 'MALFORMED_KEY', operation: 'touch' })
          await expect(cache.touchMany([['fine'], key])).rejects.toMatchObject({ code: 'MALFORMED_KEY' })
          await expect(cache.putIf(key, 1, { absent: true })).rejects.toMatchObject({ code: 'MALFORMED_KEY', operation: 'putIf' })
          await expect(cache.putIf('fine', 1, { absent: true, alongWith: [{ key, value: 1 }] })).rejects.toMatchObject({
            code: 'MALFORMED_KEY',
          })
        }
        await expect(cache.all([])).rejects.toMatchObject({ code: 'MALFORMED_KEY', operation: 'all' })
        await expect(cache.countUnder([NaN])).rejects.toMatchObject({ code: 'MALFORMED_KEY', operation: 'countUnder' })
        expect(await cache.get('fine')).toBeUndefined()
      })

      test('a value that cannot be serialized is a CacheError and nothing is written', async () => {
        await expect(cache.put('fn', () => 1)).rejects.toMatchObject({ code: 'UNSERIALIZABLE_VALUE', operation: 'put' })
        expect(await cache.get('fn')).toBeUndefined()
      })

      test('a put with a bad ttlMs fails naming ttlMs', async () => {
        await expect(cache.put('k', 1, { ttlMs: 0 })).rejects.toThrow(OptionError)
        await expect(cache.put('k', 1, { ttlMs: -5 })).rejects.toThrow(/ttlMs/)
        await expect(cache.putIf('k', 1, { absent: true, ttlMs: 1.5 })).rejects.toThrow(/ttlMs/)
        expect(await cache.get('k')).toBeUndefined()
      })

      test('a TTL longer than 100 years is refused, so every expiry fits the stored header', async () => {
        const century = 3_155_760_000_000
        await expect(cache.put('k', 1, { ttlMs: century + 1 })).rejects.toThrow(/`ttlMs`/)
        await expect(cache.delete('k', { tombstoneMs: century + 1 })).rejects.toThrow(/`tombstoneMs`/)
        const window = await expiryWindow(century, () => cache.put('k', 1, { ttlMs: century }))
        const timed = await cache.getTimed('k')
        expect(timed?.value).toBe(1)
        expectWithin(timed?.expiresAtMs, window)
        await expectStoredExpiry(['k'], timed?.expiresAtMs as number)
      })

      test('async writes resolve at once, stay in call order, and settled() waits for them', async () => {
        const { cache: asyncCache } = await factory({ ttlMs: HOUR, namespace: 'test', writes: 'async' })
        for (let i = 0; i < 50; i++) void asyncCache.put('ordered', i)
        void asyncCache.delete('gone')
        void asyncCache.put('gone', 'back')
        void asyncCache.delete('gone')
        void asyncCache.batch({ put: [{ key: 'batched', value: 1 }], delete: ['ordered'] })
        await asyncCache.settled()
        expect(await asyncCache.get('ordered')).toBeUndefined()
        expect(await asyncCache.get('gone')).toBeUndefined()
        expect(await asyncCache.get('batched')).toBe(1)
      })

      test('the constructor requires ttlMs, naming it', async () => {
        await expect(factory({} as CacheOptions)).rejects.toThrow(/`ttlMs` is required/)
        await expect(factory({ ttlMs: 0 })).rejects.toThrow(OptionError)
        await expect(factory({ ttlMs: 1.5 })).rejects.toThrow(/ttlMs/)
        await expect(factory({ ttlMs: HOUR, namespace: '' })).rejects.toThrow(/namespace/)
        await expect(factory({ ttlMs: HOUR, namespace: 'a{b}' })).rejects.toThrow(/namespace/)
        await expect(factory({ ttlMs: HOUR, namespace: 'x'.repeat(65) })).rejects.toThrow(/namespace/)
        await expect(factory({ ttlMs: HOUR, writes: 'later' as 'sync' })).rejects.toThrow(/writes/)
      })
    })
  })
}
