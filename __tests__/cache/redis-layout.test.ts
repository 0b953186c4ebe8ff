/**
 * Properties of the pure Redis key layout (lib/cache/redis-layout.ts): no Redis involved.
 */
import calculateSlot from 'cluster-key-slot'
import fc from 'fast-check'
import type { KeyPart } from '../../lib'
import { RedisLayout, fnv1a, INDEX_PREFIX, type IndexEntry } from '../../lib/cache/redis-layout'

const keyPart: fc.Arbitrary<KeyPart> = fc.oneof(
  fc.constantFrom(':', '{', '}', '*', '#', '_index:', 'ü🙂', '', '1', 1, 0, -1, 'a:b', '{x}:y'),
  fc.string({ unit: 'grapheme' }),
  fc.integer(),
)
const key = fc.array(keyPart, { minLength: 1, maxLength: 5 })
const layoutOptions = fc.record({
  namespace: fc.oneof(fc.constantFrom('cache', 'sess', '{ns}', ':'), fc.string({ minLength: 1 })),
  tagDepth: fc.integer({ min: 1, max: 6 }),
  shallowIndexBuckets: fc.integer({ min: 1, max: 32 }),
})

/** The hash tag Redis Cluster hashes, by its spec: from the first `{` to the next `}`, if not empty. */
function hashTag(redisKey: string): string {
  const open = redisKey.indexOf('{')
  if (open === -1) return redisKey
  const close = redisKey.indexOf('}', open + 1)
  if (close === -1 || close === open + 1) return redisKey
  return redisKey.slice(open + 1, close)
}

/** The prefix path an index key stands for: `_index:{a:b}`, `_index:{a:b}:c` or the bucket `_index:{a:b#3}`. */
function indexPrefix(indexKey: string): string[] {
  expect(indexKey.startsWith(INDEX_PREFIX)).toBe(true)
  const name = indexKey.slice(INDEX_PREFIX.length)
  const bucket = /^\{([^{}#]*)#\d+\}$/.exec(name)
  return (bucket ? (bucket[1] as string) : name.replace(/[{}]/g, '')).split(':')
}

describe('RedisLayout', () => {
  test('a value key spells the whole path, its first tagDepth segments as the hash tag', () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const layout = new RedisLayout(options)
        const path = layout.path(parts)
        const valueKey = layout.valueKey(path)
        expect(valueKey.replace(/[{}]/g, '')).toBe(path.join(':'))
        expect(hashTag(valueKey)).toBe(path.slice(0, options.tagDepth).join(':'))
      }),
    )
  })

  test("every index entry's key and member spell the full path, one entry per proper prefix", () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const layout = new RedisLayout(options)
        const path = layout.path(parts)
        const entries = layout.indexEntries(path)
        expect(entries).toHaveLength(path.length - 1)
        entries.forEach((entry, i) => {
          const prefix = indexPrefix(entry.indexKey)
          expect(prefix).toEqual(path.slice(0, i + 1))
          expect([...prefix, ...entry.member.split(':')]).toEqual(path)
        })
      }),
    )
  })

  test('all() finds every entry: its index key is among indexKeysOf its prefix', () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const layout = new RedisLayout(options)
        const path = layout.path(parts)
        layout.indexEntries(path).forEach((entry, i) => {
          expect(layout.indexKeysOf(path.slice(0, i + 1))).toContain(entry.indexKey)
        })
      }),
    )
  })

  test("deep entries share the value key's hash tag and slot; shallow ones are bucketed by member", () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const layout = new RedisLayout(options)
        const path = layout.path(parts)
        const valueKey = layout.valueKey(path)
        layout.indexEntries(path).forEach((entry: IndexEntry, i) => {
          const prefixLength = i + 1
          expect(entry.deep).toBe(prefixLength >= options.tagDepth)
          if (entry.deep) {
            expect(hashTag(entry.indexKey)).toBe(hashTag(valueKey))
            expect(calculateSlot(entry.indexKey)).toBe(calculateSlot(valueKey))
          } else {
            const bucket = fnv1a(entry.member) % options.shallowIndexBuckets
            expect(hashTag(entry.indexKey)).toBe(`${path.slice(0, prefixLength).join(':')}#${bucket}`)
          }
        })
      }),
    )
  })

  test('records that share their first tagDepth parts share a slot, with their deep indexes', () => {
    fc.assert(
      fc.property(layoutOptions, key, key, (options, a, b) => {
        const layout = new RedisLayout(options)
        const shared = a.slice(0, options.tagDepth - 1)
        const [pathA, pathB] = [layout.path(a), layout.path([...shared, ...b])]
        if (pathA.length < options.tagDepth || pathB.length < options.tagDepth) return
        const slot = calculateSlot(layout.valueKey(pathA))
        expect(calculateSlot(layout.valueKey(pathB))).toBe(slot)
        for (const entry of layout.indexEntries(pathB).filter((e) => e.deep)) expect(calculateSlot(entry.indexKey)).toBe(slot)
      }),
    )
  })

  test('a shallow index spreads its members over every bucket, none holding more than twice its share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 16 }),
        fc.uniqueArray(fc.oneof(fc.string({ minLength: 1 }), fc.integer()), { minLength: 800, maxLength: 1_200 }),
        (buckets, firsts) => {
          const layout = new RedisLayout({ namespace: 'cache', tagDepth: 3, shallowIndexBuckets: buckets })
          const load = new Map<string, number>()
          for (const first of firsts) {
            const [entry] = layout.indexEntries(layout.path([first, 'session']))
            if (!entry) throw new Error('a two-part key has a namespace index')
            load.set(entry.indexKey, (load.get(entry.indexKey) ?? 0) + 1)
          }
          expect([...load.keys()].sort()).toEqual([...layout.indexKeysOf(layout.path([]))].sort())
          expect(Math.max(...load.values())).toBeLessThanOrEqual((2 * firsts.length) / buckets)
        },
      ),
      { numRuns: 30 },
    )
  })

  test("a shallow prefix's buckets are distinct keys; a deep prefix has one index", () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const layout = new RedisLayout(options)
        const path = layout.path(parts)
        for (let length = 1; length <= path.length; length++) {
          const keys = layout.indexKeysOf(path.slice(0, length))
          expect(new Set(keys).size).toBe(length >= options.tagDepth ? 1 : options.shallowIndexBuckets)
        }
      }),
    )
  })

  test.each(['cache', 'sess', 'test'])("the default 16 buckets of namespace '%s' land on 16 slots across all three masters' ranges", (namespace) => {
    const layout = new RedisLayout({ namespace, tagDepth: 2, shallowIndexBuckets: 16 })
    const slots = layout.indexKeysOf(layout.path([])).map((indexKey) => calculateSlot(indexKey))
    expect(new Set(slots).size).toBe(16)
    // A 3-master cluster splits the 16384 slots into three equal ranges.
    expect(new Set(slots.map((slot) => Math.floor(slot / 5462)))).toEqual(new Set([0, 1, 2]))
  })
})
