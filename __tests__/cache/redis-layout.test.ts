/**
 * The pure Redis key layout (lib/cache/redis-layout.ts), checked against the layout written out
 * independently in layout-spec.ts: no Redis involved.
 */
import calculateSlot from 'cluster-key-slot'
import fc from 'fast-check'
import { ANY, UsageError, type KeyPart, type MatchPart } from 'sessionvault'
import { RedisLayout, fnv1a, type LayoutOptions } from '../../lib/cache/redis-layout'
import { decodeSegments } from '../../lib/cache/key-codec'
import { specBucketIndex, specDecodeSegments, specFnv1a, specPlace } from './layout-spec'

const keyPart: fc.Arbitrary<KeyPart> = fc.oneof(
  fc.constantFrom(':', '{', '}', '*', '#', '_i', '_i:', 'ü🙂', '', '1', 1, 0, -1, 'a:b', '{x}:y', 'sess', 'user', '.', 'x'.repeat(65)),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/),
  fc.integer(),
)
const key = fc.array(keyPart, { minLength: 1, maxLength: 5 })
const layoutOptions: fc.Arbitrary<LayoutOptions> = fc.record({
  namespace: fc.oneof(fc.constantFrom('cache', 'sess', 'a:b', 'my.app/v2', '_i'), fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,64}$/)),
  tagDepth: fc.integer({ min: 1, max: 5 }),
  buckets: fc.oneof(fc.constant(1024), fc.integer({ min: 1, max: 64 })),
})

/** The hash tag Redis Cluster hashes, by its spec: from the first `{` to the next `}`, if not empty. */
function hashTag(redisKey: string): string {
  const open = redisKey.indexOf('{')
  if (open === -1) return redisKey
  const close = redisKey.indexOf('}', open + 1)
  if (close === -1 || close === open + 1) return redisKey
  return redisKey.slice(open + 1, close)
}

/** The match that fixes the key's parts where `fix` says so, ANY elsewhere. */
function matchOf(parts: readonly KeyPart[], fix: readonly boolean[]): MatchPart[] {
  return parts.map((part, i) => (fix[i] ? part : ANY))
}

function fixedParts(match: readonly MatchPart[]): number {
  const wildcard = match.indexOf(ANY)
  return wildcard === -1 ? match.length : wildcard
}

describe('RedisLayout.place', () => {
  test('names the value key, the home index and its member as the layout spec does', () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const { valueKey, indexKey, member } = specPlace(parts, options)
        expect(new RedisLayout(options).place(parts)).toEqual({ valueKey, indexKey, member })
      }),
      { numRuns: 1_000 },
    )
  })

  test('a readable example: plain segments, the tag of the parts before the bucket, the bucket of the last of them', () => {
    const layout = new RedisLayout({ namespace: 'myapp', tagDepth: 2, buckets: 1024 })
    // fnv1a('.ada') % 1024 === 231
    expect(layout.place(['user', 'ada', 'session', 'a1b2'])).toEqual({
      valueKey: 'myapp:{.user#231}:.ada:.session:.a1b2',
      indexKey: 'myapp:_i:{.user#231}',
      member: '.ada:.session:.a1b2',
    })
    // 'a:b' and 42 are not plain: base64url of their typed text ('sa:b', 'n42'); fnv1a('c2E6Yg') % 1024 === 3.
    expect(new RedisLayout({ namespace: 'ns', tagDepth: 1, buckets: 1024 }).place(['a:b', 42])).toEqual({
      valueKey: 'ns:{#3}:c2E6Yg:bjQy',
      indexKey: 'ns:_i:{#3}',
      member: 'c2E6Yg:bjQy',
    })
  })

  test('a key shorter than tagDepth takes its own length as its depth', () => {
    const layout = new RedisLayout({ namespace: 'n', tagDepth: 3, buckets: 16 })
    expect(layout.place(['s'])).toEqual({
      valueKey: `n:{#${specFnv1a('.s') % 16}}:.s`,
      indexKey: `n:_i:{#${specFnv1a('.s') % 16}}`,
      member: '.s',
    })
    expect(layout.place(['s', 'x'])).toEqual({
      valueKey: `n:{.s#${specFnv1a('.x') % 16}}:.x`,
      indexKey: `n:_i:{.s#${specFnv1a('.x') % 16}}`,
      member: '.x',
    })
  })

  test('every key starts with the namespace and a colon, so the keyPattern glob matches it', () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const layout = new RedisLayout(options)
        const { valueKey, indexKey } = layout.place(parts)
        expect(layout.keyPattern).toBe(`${options.namespace}:*`)
        expect(valueKey.startsWith(`${options.namespace}:`)).toBe(true)
        expect(indexKey.startsWith(`${options.namespace}:`)).toBe(true)
      }),
    )
  })

  test('the value key and its home index share one hash tag, so one slot', () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const { valueKey, indexKey } = new RedisLayout(options).place(parts)
        expect(hashTag(valueKey)).toBe(hashTag(indexKey))
        expect(hashTag(valueKey)).not.toBe(valueKey)
        expect(calculateSlot(valueKey)).toBe(calculateSlot(indexKey))
      }),
    )
  })

  test('the member is the value key after its tag, and decodes to the key parts from the tagDepth-th on', () => {
    fc.assert(
      fc.property(layoutOptions, key, (options, parts) => {
        const { valueKey, member } = new RedisLayout(options).place(parts)
        const depth = Math.min(options.tagDepth, parts.length)
        expect(valueKey.endsWith(`}:${member}`)).toBe(true)
        const expected = parts.slice(depth - 1).map((part) => (Object.is(part, -0) ? 0 : part))
        expect(decodeSegments(member, 'test')).toEqual(expected)
        expect(specDecodeSegments(member)).toEqual(expected)
      }),
    )
  })

  test('records that share their first tagDepth parts share a slot', () => {
    fc.assert(
      fc.property(layoutOptions, key, key, (options, a, b) => {
        if (a.length < options.tagDepth) return
        const layout = new RedisLayout(options)
        const sibling = [...a.slice(0, options.tagDepth), ...b]
        expect(calculateSlot(layout.place(sibling).valueKey)).toBe(calculateSlot(layout.place(a).valueKey))
      }),
    )
  })

  test('distinct keys have distinct value keys and distinct index entries', () => {
    fc.assert(
      fc.property(layoutOptions, key, key, (options, a, b) => {
        const layout = new RedisLayout(options)
        const [x, y] = [layout.place(a), layout.place(b)]
        const same = JSON.stringify(a.map(String)) === JSON.stringify(b.map(String)) && a.every((part, i) => typeof part === typeof b[i])
        expect(x.valueKey === y.valueKey).toBe(same)
        expect(x.indexKey === y.indexKey && x.member === y.member).toBe(same)
      }),
      { numRuns: 1_000 },
    )
  })
})

describe('RedisLayout.indexesFor', () => {
  test('a match fixing the first tagDepth parts reads one bucket, keeping members under its literal parts', () => {
    const layout = new RedisLayout({ namespace: 'n', tagDepth: 2, buckets: 8 })
    const bucket = specFnv1a('.ada') % 8
    expect(layout.indexesFor(['user', 'ada', 'session', ANY], 'all')).toEqual([
      { indexKey: specBucketIndex('n', ['user'], bucket), memberPrefix: '.ada:.session:', valueKeyPrefix: `n:{.user#${bucket}}:` },
    ])
    expect(layout.indexesFor(['user', 'ada', ANY, 'x'], 'all')).toEqual([
      { indexKey: specBucketIndex('n', ['user'], bucket), memberPrefix: '.ada:', valueKeyPrefix: `n:{.user#${bucket}}:` },
    ])
  })

  test('a match fixing tagDepth - 1 parts reads every bucket of that prefix', () => {
    const layout = new RedisLayout({ namespace: 'n', tagDepth: 2, buckets: 8 })
    expect(layout.indexesFor(['user', ANY, 'session', ANY], 'keys')).toEqual(
      Array.from({ length: 8 }, (_, bucket) => ({
        indexKey: specBucketIndex('n', ['user'], bucket),
        memberPrefix: '',
        valueKeyPrefix: `n:{.user#${bucket}}:`,
      })),
    )
    // tagDepth 1: the parts before the bucket are none, so every match can be listed.
    const flat = new RedisLayout({ namespace: 'n', tagDepth: 1, buckets: 4 })
    expect(flat.indexesFor([ANY, ANY, 'x'], 'keys').map((index) => index.indexKey)).toEqual(
      [0, 1, 2, 3].map((bucket) => `n:_i:{#${bucket}}`),
    )
  })

  test('a match fixing fewer than tagDepth - 1 parts is a UsageError naming the operation', () => {
    const layout = new RedisLayout({ namespace: 'n', tagDepth: 3, buckets: 8 })
    expect(() => layout.indexesFor(['user', ANY, ANY], 'count')).toThrow(UsageError)
    expect(() => layout.indexesFor(['user', ANY, ANY], 'count')).toThrow(
      /cache\.count\(\): with tagDepth 3, a match of 3 parts must fix its first 2 \(it fixes 1\)/,
    )
    expect(() => layout.indexesFor([ANY, 'x', 'y'], 'all')).toThrow(/cache\.all\(\)/)
    // A match shorter than tagDepth is held to its own length.
    expect(layout.indexesFor(['user', ANY], 'all')).toHaveLength(8)
    expect(layout.indexesFor([ANY], 'all')).toHaveLength(8)
  })

  test('every key a match finds is in an index it reads, unless the match is refused', () => {
    fc.assert(
      fc.property(layoutOptions, key, fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (options, parts, fix) => {
        const layout = new RedisLayout(options)
        const match = matchOf(parts, fix)
        if (!match.includes(ANY)) return
        const allowed = fixedParts(match) >= Math.min(options.tagDepth, match.length) - 1
        if (!allowed) {
          expect(() => layout.indexesFor(match, 'all')).toThrow(UsageError)
          return
        }
        const place = layout.place(parts)
        const reads = layout.indexesFor(match, 'all').filter((index) => index.indexKey === place.indexKey)
        expect(reads).toHaveLength(1)
        const [read] = reads as [(typeof reads)[number]]
        expect(place.member.startsWith(read.memberPrefix)).toBe(true)
        expect(read.valueKeyPrefix + place.member).toBe(place.valueKey)
      }),
      { numRuns: 1_000 },
    )
  })
})

describe('RedisLayout.indexesUnder (countUnder)', () => {
  test('every key that extends the prefix is in an index it reads', () => {
    fc.assert(
      fc.property(layoutOptions, key, fc.array(keyPart, { minLength: 1, maxLength: 3 }), (options, prefix, tail) => {
        const layout = new RedisLayout(options)
        if (prefix.length < options.tagDepth - 1) {
          expect(() => layout.indexesUnder(prefix, 'countUnder')).toThrow(UsageError)
          return
        }
        const place = layout.place([...prefix, ...tail])
        const reads = layout.indexesUnder(prefix, 'countUnder').filter((index) => index.indexKey === place.indexKey)
        expect(reads).toHaveLength(1)
        expect(place.member.startsWith((reads[0] as { memberPrefix: string }).memberPrefix)).toBe(true)
      }),
      { numRuns: 1_000 },
    )
  })

  test('a prefix of tagDepth - 1 parts reads whole buckets; a shorter one is a UsageError naming countUnder', () => {
    const layout = new RedisLayout({ namespace: 'n', tagDepth: 2, buckets: 4 })
    expect(layout.indexesUnder(['s'], 'countUnder').map(({ indexKey, memberPrefix }) => ({ indexKey, memberPrefix }))).toEqual(
      [0, 1, 2, 3].map((bucket) => ({ indexKey: `n:_i:{.s#${bucket}}`, memberPrefix: '' })),
    )
    expect(() => layout.indexesUnder([], 'countUnder')).toThrow(
      /cache\.countUnder\(\): with tagDepth 2, a prefix must have at least 1 parts \(it has 0\)/,
    )
  })
})

describe('buckets', () => {
  test('fnv1a is 32-bit FNV-1a', () => {
    expect(fnv1a('')).toBe(0x811c9dc5)
    expect(fnv1a('a')).toBe(0xe40c292c)
    expect(fnv1a('foobar')).toBe(0xbf9cf968)
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'.abcXYZ019_-') }), (text) => expect(fnv1a(text)).toBe(specFnv1a(text))))
  })

  test.each([
    ['numbers', (i: number): KeyPart => i + 1],
    ['user-N strings', (i: number): KeyPart => `user-${i + 1}`],
    ['e-mail addresses', (i: number): KeyPart => `user${i}@example.com`],
  ])('10,000 user ids (%s) fill all 1024 buckets, none with more than 2.5 times its share', (_, userId) => {
    const layout = new RedisLayout({ namespace: 'sess', tagDepth: 2, buckets: 1024 })
    const load = new Map<string, number>()
    for (let i = 0; i < 10_000; i++) {
      const { indexKey } = layout.place(['u', userId(i), 'session'])
      load.set(indexKey, (load.get(indexKey) ?? 0) + 1)
    }
    expect(load.size).toBe(1024)
    expect(Math.max(...load.values())).toBeLessThanOrEqual((2.5 * 10_000) / 1024)
  })

  test("one prefix's 1024 buckets lie in nearly as many slots, across all three masters' ranges", () => {
    const slots = Array.from({ length: 1024 }, (_, bucket) => calculateSlot(specBucketIndex('sess', ['u'], bucket)))
    expect(new Set(slots).size).toBeGreaterThan(990)
    // A 3-master cluster splits the 16384 slots into three equal ranges.
    const perMaster = [0, 1, 2].map((master) => slots.filter((slot) => Math.floor(slot / 5462) === master).length)
    for (const count of perMaster) expect(count).toBeGreaterThan(1024 / 3 - 60)
  })
})
