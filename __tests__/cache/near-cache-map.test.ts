import fc from 'fast-check'
import { NearCacheMap, type NearCacheEntry } from '../../lib/cache/near-cache'

function mapWithClock(maxEntries = 10) {
  const clock = { now: 0 }
  return { map: new NearCacheMap(maxEntries, () => clock.now), clock }
}

function store(map: NearCacheMap, name: string, text: string, ttlMs = 1_000) {
  map.beginRead(name).finish(text, ttlMs)
}

test('a finished read is served until its TTL runs out', () => {
  const { map, clock } = mapWithClock()
  store(map, 'k', 'v', 1_000)
  clock.now = 999
  expect(map.lookup('k')).toBe('v')
  clock.now = 1_000
  expect(map.lookup('k')).toBeUndefined()
  expect(map.stats()).toEqual({ hits: 1, misses: 1, size: 0 })
})

test('an invalidation evicts the key', () => {
  const { map } = mapWithClock()
  store(map, 'a', '1')
  store(map, 'b', '2')
  map.invalidate('a')
  expect(map.lookup('a')).toBeUndefined()
  expect(map.lookup('b')).toBe('2')
})

test('invalidate(null) evicts everything', () => {
  const { map } = mapWithClock()
  store(map, 'a', '1')
  store(map, 'b', '2')
  map.invalidate(null)
  expect(map.stats().size).toBe(0)
})

test('a read overtaken by an invalidation of its key is not stored', () => {
  const { map } = mapWithClock()
  const read = map.beginRead('k')
  map.invalidate('k')
  read.finish('old', 1_000)
  expect(map.lookup('k')).toBeUndefined()
})

test('a read overtaken by invalidate(null) is not stored', () => {
  const { map } = mapWithClock()
  const read = map.beginRead('k')
  map.invalidate(null)
  read.finish('old', 1_000)
  expect(map.lookup('k')).toBeUndefined()
})

test('an invalidation of another key does not spoil a read', () => {
  const { map } = mapWithClock()
  const read = map.beginRead('k')
  map.invalidate('other')
  read.finish('v', 1_000)
  expect(map.lookup('k')).toBe('v')
})

test('a read after the invalidation is stored again', () => {
  const { map } = mapWithClock()
  const first = map.beginRead('k')
  map.invalidate('k')
  first.finish('old', 1_000)
  map.beginRead('k').finish('new', 1_000)
  expect(map.lookup('k')).toBe('new')
})

test('a record without a TTL left (PTTL 0 or less) is not stored', () => {
  const { map } = mapWithClock()
  store(map, 'k', 'v', 0)
  store(map, 'j', 'v', -2)
  expect(map.stats().size).toBe(0)
})

test('it holds at most maxEntries, dropping the least recently used', () => {
  const { map } = mapWithClock(2)
  store(map, 'a', '1')
  store(map, 'b', '2')
  map.lookup('a') // a is now more recent than b
  store(map, 'c', '3')
  expect(map.lookup('b')).toBeUndefined()
  expect(map.lookup('a')).toBe('1')
  expect(map.lookup('c')).toBe('3')
  expect(map.stats().size).toBe(2)
})

test('a peek neither counts nor refreshes an entry; a lookup of its shared copy counts and refreshes it', () => {
  const { map } = mapWithClock(2)
  store(map, 'a', '1')
  store(map, 'b', '2')
  expect(map.peek('a')).toBe('1')
  expect(map.peekEntry('a')?.text).toBe('1')
  store(map, 'c', '3') // a is still the least recently used
  expect(map.peek('a')).toBeUndefined()
  expect(map.stats()).toEqual({ hits: 0, misses: 0, size: 2 })

  const entry = map.peekEntry('b') as NearCacheEntry
  entry.shared = Object.freeze({ value: 2, expiresAtMs: 1_000 })
  expect(map.lookupShared('b')).toBe(entry.shared)
  store(map, 'd', '4') // b was used after c: c goes
  expect([map.peek('b'), map.peek('c'), map.peek('d')]).toEqual(['2', undefined, '4'])
  expect(map.stats()).toEqual({ hits: 1, misses: 0, size: 2 })
})

test('whatever the sequence of reads, lookups and invalidations, it keeps exactly the most recently used entries', () => {
  // The model: an array of live keys, least recently used first.
  const key = fc.constantFrom('a', 'b', 'c')
  const step = fc.oneof(
    { weight: 4, arbitrary: key.map((name) => ({ kind: 'store' as const, name })) },
    { weight: 4, arbitrary: key.map((name) => ({ kind: 'lookup' as const, name })) },
    { weight: 1, arbitrary: key.map((name) => ({ kind: 'invalidate' as const, name })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'invalidateAll' as const, name: '' }) },
  )
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }), fc.array(step, { minLength: 5, maxLength: 40, size: 'max' }), (maxEntries, steps) => {
      const { map } = mapWithClock(maxEntries)
      let model: string[] = []
      steps.forEach(({ kind, name }, i) => {
        if (kind === 'store') {
          store(map, name, `${name}${i}`)
          model = [...model.filter((other) => other !== name), name].slice(-maxEntries)
        } else if (kind === 'lookup') {
          expect(map.lookup(name) !== undefined).toBe(model.includes(name))
          if (model.includes(name)) model = [...model.filter((other) => other !== name), name]
        } else if (kind === 'invalidate') {
          map.invalidate(name)
          model = model.filter((other) => other !== name)
        } else {
          map.invalidate(null)
          model = []
        }
        expect(map.stats().size).toBe(model.length)
      })
    }),
    { numRuns: 500 },
  )
})
