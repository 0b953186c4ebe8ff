/**
 * Properties of the pure key codec (lib/cache/key-codec.ts): no Redis involved. A short string
 * of `[A-Za-z0-9_-]` is written as itself after a dot (`'sess'` → `.sess`); any other part as
 * base64url of a typed text (`s` + string, `n` + number).
 */
import fc from 'fast-check'
import { CacheError } from 'sessionvault'
import type { KeyPart } from 'sessionvault'
import { compareKeys, decodePart, decodeSegments, encodePart, keyId, normalizeKey, orderString, sortByKey } from '../../lib/cache/key-codec'

/**
 * Parts that break naive encodings: separators, hash-tag braces, glob stars, the index mark,
 * dots, and plain strings at and past the 64-character limit.
 */
const HOSTILE_PARTS: KeyPart[] = [
  ':',
  '{',
  '}',
  '*',
  '?',
  '[',
  ']',
  '\\',
  '_i',
  '_i:',
  'ü🙂',
  '',
  '1',
  1,
  0,
  -0,
  -1,
  'a:b',
  '{x}:y',
  '__proto__',
  1e21,
  5e-324,
  '.',
  '.x',
  'x.',
  'sess',
  'a-b_C9',
  'x'.repeat(64),
  'x'.repeat(65),
  'n1',
  's',
]
const PLAIN = /^[A-Za-z0-9_-]{1,64}$/

/** Strings of any UTF-16 code units, lone surrogates included (fc.string never makes those). */
const utf16String = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) })

/** Well-formed text: ASCII, full Unicode graphemes, any code point. */
const wellFormedString = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }))

const finiteNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e21, -1e-7, 5e-324, Number.MAX_VALUE, -Number.MAX_SAFE_INTEGER),
)

/** Strings that are written plain, and strings just past that. */
const plainString = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.stringMatching(/^[A-Za-z0-9_-]{65,70}$/))

const keyPart: fc.Arbitrary<KeyPart> = fc.oneof(fc.constantFrom(...HOSTILE_PARTS), wellFormedString, plainString, finiteNumber)

/** A small pool, so that generated keys are often equal or prefixes of one another. */
const pooledPart: fc.Arbitrary<KeyPart> = fc.constantFrom('', 'a', 'b', '1', 1, 0, -1, 2.5, ':')
const pooledKey = fc.array(pooledPart, { minLength: 1, maxLength: 3 })
const anyKey = fc.oneof(pooledKey, fc.array(keyPart, { minLength: 1, maxLength: 4 }))

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const base64urlString = fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 1, maxLength: 12 })

/** Strings close to real segments: valid encodings with one character changed, added or removed. */
const mutatedSegment = fc
  .tuple(keyPart, fc.nat(), fc.constantFrom(...BASE64URL, '=', ':', '{', '}', '*', '.', ' '), fc.constantFrom('replace', 'insert', 'drop'))
  .map(([part, at, char, how]) => {
    const segment = encodePart(part)
    const i = at % (segment.length + 1)
    if (how === 'insert') return segment.slice(0, i) + char + segment.slice(i)
    if (how === 'drop') return segment.slice(0, i) + segment.slice(i + 1)
    return segment.slice(0, i) + char + segment.slice(i + 1)
  })

/** Canonical base64url of raw bytes: an encoding of text that is not a valid tagged part. */
const rawBytesSegment = fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bytes) => Buffer.from(bytes).toString('base64url'))

/** Look-alikes of plain segments: a dot and any text, and base64url spellings of plain strings. */
const plainLookalike = fc.oneof(
  fc.string({ maxLength: 70 }).map((text) => `.${text}`),
  plainString.map((text) => `.${text}`),
  plainString.map((text) => Buffer.from(`s${text}`).toString('base64url')),
)

/** The part a key actually holds: normalizeKey turns -0 into 0. */
const normalized = (part: KeyPart): KeyPart => (Object.is(part, -0) ? 0 : part)
const samePart = (a: KeyPart, b: KeyPart) => typeof a === typeof b && a === b
const sameKey = (a: readonly KeyPart[], b: readonly KeyPart[]) =>
  a.length === b.length && a.every((part, i) => samePart(part, b[i] as KeyPart))
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0)

function decodeOutcome(segment: string): { part: KeyPart } | { code: string } {
  try {
    return { part: decodePart(segment, 'test') }
  } catch (error) {
    if (!(error instanceof CacheError)) throw error
    return { code: error.code }
  }
}

describe('encodePart and decodePart', () => {
  test('decodePart(encodePart(part)) gives back the part, for any well-formed string and finite number', () => {
    fc.assert(
      fc.property(keyPart, (part) => {
        expect(decodePart(encodePart(part), 'test')).toBe(normalized(part))
      }),
      { numRuns: 2_000 },
    )
  })

  test('a whole key round-trips through its joined id, which is its only spelling', () => {
    fc.assert(
      fc.property(fc.array(keyPart, { minLength: 1, maxLength: 5 }), (key) => {
        const id = keyId(key)
        const decoded = decodeSegments(id, 'test')
        expect(decoded).toEqual(key.map(normalized))
        expect(decoded.map((part, i) => typeof part === typeof key[i])).not.toContain(false)
        expect(keyId(decoded)).toBe(id)
      }),
      { numRuns: 2_000 },
    )
  })

  test('a segment is a dot and a plain string, or non-empty base64url: never a : { } or glob character', () => {
    fc.assert(
      fc.property(keyPart, (part) => {
        const segment = encodePart(part)
        expect(segment).toMatch(/^(\.[A-Za-z0-9_-]{1,64}|[A-Za-z0-9_-]+)$/)
        expect(segment).not.toMatch(/[:{}*?[\]\\]/)
      }),
      { numRuns: 2_000 },
    )
  })

  test('a string of 1 to 64 characters from A-Z a-z 0-9 _ - is written as itself after a dot; anything else is base64url', () => {
    fc.assert(
      fc.property(keyPart, (part) => {
        const segment = encodePart(part)
        if (typeof part === 'string' && PLAIN.test(part)) expect(segment).toBe(`.${part}`)
        else expect(segment).toBe(Buffer.from(typeof part === 'number' ? `n${String(part)}` : `s${part}`).toString('base64url'))
      }),
      { numRuns: 2_000 },
    )
  })

  test.each<[KeyPart, string]>([
    ['sess', '.sess'],
    ['user_42-A', '.user_42-A'],
    ['x'.repeat(64), `.${'x'.repeat(64)}`],
    ['x'.repeat(65), Buffer.from(`s${'x'.repeat(65)}`).toString('base64url')],
    ['a:b', 'c2E6Yg'],
    ['', 'cw'],
    ['.', 'cy4'],
    [42, 'bjQy'],
    ['42', '.42'],
    [-1, 'bi0x'],
  ])('%j is written %s', (part, segment) => {
    expect(encodePart(part)).toBe(segment)
    expect(decodePart(segment, 'test')).toBe(part)
  })

  test('distinct parts have distinct encodings, equal parts equal ones', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(keyPart, keyPart), fc.tuple(pooledPart, pooledPart)), ([a, b]) => {
        expect(encodePart(a) === encodePart(b)).toBe(samePart(normalized(a), normalized(b)))
      }),
      { numRuns: 2_000 },
    )
  })

  test("1 and '1', 0 and '' and '0' are all different segments", () => {
    const segments = [1, '1', 0, '', '0', -1, '-1'].map(encodePart)
    expect(new Set(segments).size).toBe(segments.length)
  })

  // Lone surrogates cannot be encoded as UTF-8: Buffer.from turns each into U+FFFD. A key part
  // holding one must either be refused as a key or survive the codec exactly; silently mapping
  // '\uD800', '\uDC00' and '\uFFFD' to one segment makes three keys one record.
  test('a string with lone surrogates is refused as a key, or round-trips exactly', () => {
    fc.assert(
      fc.property(utf16String, (text) => {
        let accepted = true
        try {
          normalizeKey([text], 'test')
        } catch (error) {
          expect(error).toMatchObject({ name: 'CacheError', code: 'MALFORMED_KEY' })
          accepted = false
        }
        // JSON.stringify escapes lone surrogates, so a failure shows which string came back.
        if (accepted) expect(JSON.stringify(decodePart(encodePart(text), 'test'))).toBe(JSON.stringify(text))
      }),
      { numRuns: 1_000, examples: [['\uD800'], ['\uDC00'], ['a\uDFFFb']] },
    )
  })

  test('decodePart accepts exactly the strings encodePart produces, and rejects the rest as MALFORMED_KEY', () => {
    const candidate = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      utf16String,
      base64urlString,
      mutatedSegment,
      rawBytesSegment,
      plainLookalike,
    )
    fc.assert(
      fc.property(candidate, (segment) => {
        const outcome = decodeOutcome(segment)
        if ('part' in outcome) expect(encodePart(outcome.part)).toBe(segment)
        else expect(outcome.code).toBe('MALFORMED_KEY')
      }),
      { numRuns: 5_000 },
    )
  })

  test.each([
    ['the empty string', ''],
    ['padding', Buffer.from('sa').toString('base64')],
    ['stray low bits in the last character', 'cx'],
    ['a segment with a colon', 'cw:cw'],
    ['an unknown type tag', Buffer.from('xabc').toString('base64url')],
    ['invalid UTF-8', Buffer.from([0x73, 0xff, 0xfe]).toString('base64url')],
    ['a number with no digits', Buffer.from('n').toString('base64url')],
    ['a non-canonical number', Buffer.from('n01').toString('base64url')],
    ['a negative zero', Buffer.from('n-0').toString('base64url')],
    ['NaN', Buffer.from('nNaN').toString('base64url')],
    ['Infinity', Buffer.from('nInfinity').toString('base64url')],
    ['an exponent spelled differently', Buffer.from('n1e21').toString('base64url')],
    ['a dot alone', '.'],
    ['a dot and a non-plain string', '.a.b'],
    ['a dot and 65 plain characters', `.${'x'.repeat(65)}`],
    ['two dots', '..sess'],
    ['the base64url spelling of a plain string', Buffer.from('ssess').toString('base64url')],
    ['the base64url spelling of a 64-character plain string', Buffer.from(`s${'x'.repeat(64)}`).toString('base64url')],
  ])('decodePart rejects %s', (_, segment) => {
    expect(decodeOutcome(segment)).toEqual({ code: 'MALFORMED_KEY' })
  })
})

describe('compareKeys', () => {
  test('is reflexive and antisymmetric', () => {
    fc.assert(
      fc.property(anyKey, anyKey, (a, b) => {
        expect(compareKeys(a, a)).toBe(0)
        expect(sign(compareKeys(a, b)) + sign(compareKeys(b, a))).toBe(0)
      }),
      { numRuns: 2_000 },
    )
  })

  test('is transitive', () => {
    fc.assert(
      fc.property(anyKey, anyKey, anyKey, (a, b, c) => {
        for (const [x, y, z] of [
          [a, b, c],
          [a, c, b],
          [b, a, c],
          [b, c, a],
          [c, a, b],
          [c, b, a],
        ] as const) {
          if (compareKeys(x, y) <= 0 && compareKeys(y, z) <= 0) expect(compareKeys(x, z)).toBeLessThanOrEqual(0)
        }
      }),
      { numRuns: 2_000 },
    )
  })

  test('says 0 exactly for equal keys', () => {
    fc.assert(
      fc.property(anyKey, anyKey, (a, b) => {
        expect(compareKeys(a, b) === 0).toBe(sameKey(a.map(normalized), b.map(normalized)))
      }),
      { numRuns: 2_000 },
    )
  })

  test('sorts a prefix before the keys that extend it, and numbers before strings', () => {
    fc.assert(
      fc.property(anyKey, fc.array(keyPart, { minLength: 1, maxLength: 2 }), fc.integer(), fc.string(), (key, tail, n, s) => {
        expect(compareKeys(key, [...key, ...tail])).toBeLessThan(0)
        expect(compareKeys([...key, n], [...key, s])).toBeLessThan(0)
      }),
    )
  })
})

describe('orderString and sortByKey', () => {
  // Keys as normalizeKey leaves them: -0 becomes 0.
  const normalizedKey = anyKey.map((key) => key.map(normalized))

  test('plain string order of orderString is compareKeys order', () => {
    fc.assert(
      fc.property(normalizedKey, normalizedKey, (a, b) => {
        const byString = orderString(a) < orderString(b) ? -1 : orderString(a) > orderString(b) ? 1 : 0
        expect(byString).toBe(sign(compareKeys(a, b)))
      }),
      { numRuns: 2_000 },
    )
  })

  test('orders numbers numerically across signs, magnitudes and types', () => {
    const keys: KeyPart[][] = [['b'], [1e21], [-1e21], [0], [-0.5], [5e-324], ['a\u0000'], ['a'], ['', 1], [''], [2], [10], [-2]]
    const sorted = sortByKey([...keys], (key) => key)
    expect(sorted).toEqual([...keys].sort(compareKeys))
  })

  test('sortByKey sorts like compareKeys, and keeps duplicates', () => {
    fc.assert(
      fc.property(fc.array(normalizedKey, { maxLength: 30 }), (keys) => {
        expect(sortByKey([...keys], (key) => key)).toEqual([...keys].sort(compareKeys))
      }),
    )
  })
})
