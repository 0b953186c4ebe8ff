/**
 * The behaviour every Cache implementation shares. Called once per implementation with a
 * factory; `advance` moves time forward (a fake clock for MemoryCache, real time for Redis).
 */
import { ANY, CacheError, OptionError, type Cache, type CacheOptions } from '../../lib'

export interface CacheHarness {
  cache: Cache
  /** Lets `ms` milliseconds pass for the cache. */
  advance(ms: number): Promise<void>
}

export type CacheFactory = (options: Omit<CacheOptions, 'now'>) => Promise<CacheHarness>

const HOUR = 3_600_000

export function describeCacheConformance(name: string, factory: CacheFactory): void {
  describe(`${name} conformance`, () => {
    let cache: Cache
    let harness: CacheHarness
    const advance = (ms: number) => harness.advance(ms)

    beforeEach(async () => {
      harness = await factory({ ttlMs: HOUR, namespace: 'test' })
      cache = harness.cache
    })

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
      expect(await cache.keys(['n', ANY])).toEqual([['n', 1], ['n', '1']])
    })

    test('put overwrites the previous value', async () => {
      await cache.put('k', 1)
      await cache.put('k', 2)
      expect(await cache.get('k')).toBe(2)
      expect(await cache.all(ANY)).toEqual([{ key: ['k'], value: 2 }])
    })

    test('delete removes the record from get and all', async () => {
      await cache.put(['a', 1], 'x')
      await cache.put(['a', 2], 'y')
      await cache.delete(['a', 1])
      expect(await cache.get(['a', 1])).toBeUndefined()
      expect(await cache.all(['a', ANY])).toEqual([{ key: ['a', 2], value: 'y' }])
    })

    test('delete of a missing key succeeds', async () => {
      await expect(cache.delete(['never', 'there'])).resolves.toBeUndefined()
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
      await cache.putMany([])
      expect(await cache.all(ANY)).toEqual([])
    })

    test('all(ANY) lists one-part keys only', async () => {
      await cache.put('top', 1)
      await cache.put(['top', 'child'], 2)
      expect(await cache.all(ANY)).toEqual([{ key: ['top'], value: 1 }])
    })

    test('a match finds only keys of its own length', async () => {
      await cache.put(['namespace', 'key'], 'value')
      await cache.put(['namespace', 'key', 'key2'], 'value')
      expect(await cache.all(['namespace', ANY])).toEqual([{ key: ['namespace', 'key'], value: 'value' }])
      expect(await cache.all(['namespace', ANY, ANY])).toEqual([{ key: ['namespace', 'key', 'key2'], value: 'value' }])
    })

    test('ANY in the middle matches one part and the literal parts after it must match', async () => {
      await cache.put(['user', 1, 'session', 'a'], 'a')
      await cache.put(['user', 2, 'session', 'b'], 'b')
      await cache.put(['user', 2, 'device', 'b'], 'c')
      expect(await cache.keys(['user', ANY, 'session', ANY])).toEqual([
        ['user', 1, 'session', 'a'],
        ['user', 2, 'session', 'b'],
      ])
      expect(await cache.keys([ANY, 2, ANY, 'b'])).toEqual([
        ['user', 2, 'device', 'b'],
        ['user', 2, 'session', 'b'],
      ])
    })

    test('a match with no wildcard finds that one key', async () => {
      await cache.put(['a', 'b'], 1)
      expect(await cache.all(['a', 'b'])).toEqual([{ key: ['a', 'b'], value: 1 }])
      expect(await cache.all(['a', 'c'])).toEqual([])
    })

    test('all sorts by key: numbers before strings, numbers numerically', async () => {
      for (const part of ['b', 10, 'a', 2, '10']) await cache.put(['s', part], part)
      expect(await cache.keys(['s', ANY])).toEqual([['s', 2], ['s', 10], ['s', '10'], ['s', 'a'], ['s', 'b']])
    })

    test('all lists many records without duplicates', async () => {
      const entries = Array.from({ length: 1_500 }, (_, i) => ({ key: ['many', i], value: i }))
      await cache.putMany(entries)
      const records = await cache.all(['many', ANY])
      expect(records).toHaveLength(1_500)
      expect(records.map((record) => record.value)).toEqual(entries.map((entry) => entry.value))
    })

    test('hostile strings are ordinary key parts', async () => {
      const parts = ['a:b', '{tag}', '*', '_index:x', '', 'ü🙂', ' ', '\n', '%', 'a\u0000b']
      for (const part of parts) await cache.put(['h', part], part)
      for (const part of parts) expect(await cache.get(['h', part])).toBe(part)
      expect((await cache.keys(['h', ANY])).map((key) => key[1]).sort()).toEqual([...parts].sort())
    })

    test('namespaces keep caches apart', async () => {
      const other = (await factory({ ttlMs: HOUR, namespace: 'other' })).cache
      await cache.put('k', 'mine')
      expect(await other.get('k')).toBeUndefined()
      expect(await other.all(ANY)).toEqual([])
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

    test('malformed keys are a CacheError naming the operation', async () => {
      const bad = [[], [NaN], [Infinity], [{}], [null], ['ok', undefined]] as unknown as string[][]
      for (const key of bad) {
        await expect(cache.put(key, 1)).rejects.toMatchObject({ name: 'CacheError', code: 'MALFORMED_KEY', operation: 'put' })
        await expect(cache.get(key)).rejects.toBeInstanceOf(CacheError)
        await expect(cache.delete(key)).rejects.toBeInstanceOf(CacheError)
      }
      await expect(cache.all([])).rejects.toMatchObject({ code: 'MALFORMED_KEY', operation: 'all' })
    })

    test('a value that cannot be serialized is a CacheError and nothing is written', async () => {
      await expect(cache.put('fn', (() => 1))).rejects.toMatchObject({ code: 'UNDECODABLE_VALUE', operation: 'put' })
      expect(await cache.get('fn')).toBeUndefined()
    })

    test('a put with a bad ttlMs fails naming ttlMs', async () => {
      await expect(cache.put('k', 1, { ttlMs: 0 })).rejects.toThrow(OptionError)
      await expect(cache.put('k', 1, { ttlMs: -5 })).rejects.toThrow(/ttlMs/)
    })

    test('a record expires after its TTL, for get, all and keys', async () => {
      await cache.put(['e', 'short'], 1, { ttlMs: 500 })
      await cache.put(['e', 'long'], 2, { ttlMs: 60_000 })
      expect(await cache.get(['e', 'short'])).toBe(1)
      await advance(900)
      expect(await cache.get(['e', 'short'])).toBeUndefined()
      expect(await cache.all(['e', ANY])).toEqual([{ key: ['e', 'long'], value: 2 }])
      expect(await cache.keys(['e', ANY])).toEqual([['e', 'long']])
    })

    test('a put renews the TTL', async () => {
      await cache.put('r', 1, { ttlMs: 600 })
      await advance(400)
      await cache.put('r', 2, { ttlMs: 600 })
      await advance(400)
      expect(await cache.get('r')).toBe(2)
    })

    test("a shorter-lived record joining an index does not hide a longer-lived one's", async () => {
      await cache.put(['i', 'long'], 1, { ttlMs: 60_000 })
      await cache.put(['i', 'short'], 2, { ttlMs: 300 })
      await advance(700)
      expect(await cache.all(['i', ANY])).toEqual([{ key: ['i', 'long'], value: 1 }])
    })

    test("async writes resolve at once, stay in call order, and flush() waits for them", async () => {
      const { cache: asyncCache } = await factory({ ttlMs: HOUR, namespace: 'test', writes: 'async' })
      for (let i = 0; i < 50; i++) void asyncCache.put('ordered', i)
      void asyncCache.delete('gone')
      void asyncCache.put('gone', 'back')
      void asyncCache.delete('gone')
      await asyncCache.flush()
      expect(await asyncCache.get('ordered')).toBe(49)
      expect(await asyncCache.get('gone')).toBeUndefined()
    })

    test('putIf absent writes only the first time and says so', async () => {
      expect(await cache.putIf(['lock', 1], 'first', { absent: true, ttlMs: 60_000 })).toBe(true)
      expect(await cache.putIf(['lock', 1], 'second', { absent: true })).toBe(false)
      expect(await cache.get(['lock', 1])).toBe('first')
      expect(await cache.keys(['lock', ANY])).toEqual([['lock', 1]])
    })

    test('putIf absent succeeds again once the record has expired', async () => {
      expect(await cache.putIf('lease', 1, { absent: true, ttlMs: 300 })).toBe(true)
      await advance(700)
      expect(await cache.putIf('lease', 2, { absent: true })).toBe(true)
      expect(await cache.get('lease')).toBe(2)
    })

    test('putIf unlessExists refuses to write while the guard key lives', async () => {
      await cache.put(['sess', 'a', 'tombstone'], true)
      expect(await cache.putIf(['sess', 'a'], 'revived', { unlessExists: ['sess', 'a', 'tombstone'] })).toBe(false)
      expect(await cache.get(['sess', 'a'])).toBeUndefined()
      expect(await cache.keys(['sess', ANY])).toEqual([])
      expect(await cache.putIf(['sess', 'b'], 'fresh', { unlessExists: ['sess', 'b', 'tombstone'] })).toBe(true)
      expect(await cache.get(['sess', 'b'])).toBe('fresh')
    })

    test('putIf ifValue writes only over the value it was given (compare-and-set)', async () => {
      await cache.put(['cart', 1], { items: 1 })
      expect(await cache.putIf(['cart', 1], { items: 2 }, { ifValue: { items: 1 } })).toBe(true)
      expect(await cache.putIf(['cart', 1], { items: 3 }, { ifValue: { items: 1 } })).toBe(false)
      expect(await cache.get(['cart', 1])).toEqual({ items: 2 })
    })

    test('putIf ifValue does not write a record that is gone', async () => {
      expect(await cache.putIf(['cart', 2], 'new', { ifValue: 'old' })).toBe(false)
      expect(await cache.get(['cart', 2])).toBeUndefined()
    })

    test('putIf conditions combine: absent and unlessExists must both hold', async () => {
      await cache.put(['sess', 'x', 'tombstone'], true)
      expect(await cache.putIf(['sess', 'x'], 1, { absent: true, unlessExists: ['sess', 'x', 'tombstone'] })).toBe(false)
      expect(await cache.putIf(['sess', 'y'], 1, { absent: true, unlessExists: ['sess', 'y', 'tombstone'] })).toBe(true)
      expect(await cache.putIf(['sess', 'y'], 2, { absent: true, unlessExists: ['sess', 'y', 'tombstone'] })).toBe(false)
      expect(await cache.get(['sess', 'y'])).toBe(1)
    })

    test('putIf conditions combine: ifValue and unlessExists must both hold', async () => {
      await cache.put(['sess', 'z'], 'a')
      await cache.put(['sess', 'z', 'tombstone'], true)
      expect(await cache.putIf(['sess', 'z'], 'b', { ifValue: 'a', unlessExists: ['sess', 'z', 'tombstone'] })).toBe(false)
      await cache.delete(['sess', 'z', 'tombstone'])
      expect(await cache.putIf(['sess', 'z'], 'b', { ifValue: 'a', unlessExists: ['sess', 'z', 'tombstone'] })).toBe(true)
      expect(await cache.get(['sess', 'z'])).toBe('b')
    })

    test('putIf needs a condition, and absent excludes ifValue', async () => {
      await expect(cache.putIf('k', 1, {})).rejects.toThrow(OptionError)
      await expect(cache.putIf('k', 1, { absent: true, ifValue: 1 })).rejects.toThrow(/exclude each other/)
    })

    test('indexFrom keeps records out of listings by shorter prefixes, not out of longer ones or gets', async () => {
      await cache.put(['user', 1, 'session', 'a'], 'a', { indexFrom: 4 })
      await cache.put(['user', 1, 'session', 'b'], 'b')
      expect(await cache.keys(['user', 1, 'session', ANY])).toEqual([
        ['user', 1, 'session', 'a'],
        ['user', 1, 'session', 'b'],
      ])
      expect(await cache.keys(['user', ANY, 'session', ANY])).toEqual([['user', 1, 'session', 'b']])
      expect(await cache.keys([ANY, ANY, ANY, ANY])).toEqual([['user', 1, 'session', 'b']])
      expect(await cache.get(['user', 1, 'session', 'a'])).toBe('a')
      expect(await cache.all(['user', 1, 'session', 'a'])).toEqual([{ key: ['user', 1, 'session', 'a'], value: 'a' }])
    })

    test('indexFrom beyond the key leaves a record out of every listing', async () => {
      await cache.putMany([{ key: ['t', 'x'], value: 1 }], { indexFrom: 9 })
      expect(await cache.putIf(['t', 'y'], 2, { absent: true, indexFrom: 9 })).toBe(true)
      expect(await cache.keys(['t', ANY])).toEqual([])
      expect(await cache.get(['t', 'y'])).toBe(2)
    })

    test('a bad indexFrom fails naming it', async () => {
      await expect(cache.put('k', 1, { indexFrom: 0 })).rejects.toThrow(/`indexFrom`/)
      await expect(cache.put('k', 1, { indexFrom: 1.5 })).rejects.toThrow(OptionError)
    })

    test('count tells how many records keys() would list', async () => {
      await cache.putMany([
        { key: ['c', 1], value: 1 },
        { key: ['c', 2], value: 2 },
        { key: ['c', 2, 'deeper'], value: 3 },
        { key: ['d', 1], value: 4 },
      ])
      await cache.put(['c', 3], 5, { indexFrom: 3 })
      expect(await cache.count(['c', ANY])).toBe(2)
      expect(await cache.count(['c', ANY, ANY])).toBe(1)
      expect(await cache.count([ANY, ANY])).toBe(3)
      expect(await cache.count([ANY, 1])).toBe(2)
      expect(await cache.count(['c', 1])).toBe(1)
      expect(await cache.count(['c', 9])).toBe(0)
      await cache.delete(['c', 1])
      expect(await cache.count(['c', ANY])).toBe(1)
    })

    test('count leaves out expired records', async () => {
      await cache.put(['e', 1], 1, { ttlMs: 300 })
      await cache.put(['e', 2], 2)
      await advance(700)
      expect(await cache.count(['e', ANY])).toBe(1)
    })

    test('the constructor requires ttlMs, naming it', async () => {
      await expect(factory({} as CacheOptions)).rejects.toThrow(/`ttlMs` is required/)
      await expect(factory({ ttlMs: 0 })).rejects.toThrow(OptionError)
      await expect(factory({ ttlMs: 1.5 })).rejects.toThrow(/ttlMs/)
      await expect(factory({ ttlMs: HOUR, namespace: '' })).rejects.toThrow(/namespace/)
      await expect(factory({ ttlMs: HOUR, writes: 'later' as 'sync' })).rejects.toThrow(/writes/)
    })

  })
}
