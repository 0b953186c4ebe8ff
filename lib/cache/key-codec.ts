/**
 * Pure key logic: validation, the encoding of each part as one segment, ordering and matching.
 *
 * A string of 1 to 64 characters from `[A-Za-z0-9_-]` is written as itself after a dot
 * (`'sess'` → `.sess`), so keys stay readable in `redis-cli`. Any other part is base64url (no
 * padding) of a one-letter type tag followed by its text: `s` for strings, `n` for numbers.
 * Numbers and strings stay distinct, every part has exactly one spelling, and no segment holds
 * `:`, `{`, `}` or a glob character (`*?[]\`), so segments are safe in key names and patterns.
 */
import { CacheError } from '../errors'
import { ANY, type Key, type KeyPart, type Match, type MatchPart } from './key'

const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]+$/
/** Strings written as themselves after a dot: short, and only characters base64url uses anyway. */
const PLAIN_STRING = /^[A-Za-z0-9_-]{1,64}$/
const PLAIN_MARK = '.'
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** A lone UTF-16 surrogate: UTF-8 cannot carry it, so two such strings would collide as one key. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function normalizeKey(key: Key, operation: string): KeyPart[] {
  const parts = Array.isArray(key) ? [...(key as readonly KeyPart[])] : [key as KeyPart]
  if (parts.length === 0) throw malformedKey(operation, parts, 'a key needs at least one part')
  for (const part of parts) {
    if (!isKeyPart(part)) {
      throw malformedKey(operation, parts, 'a key part must be a string or a finite number')
    }
    if (typeof part === 'string' && LONE_SURROGATE.test(part)) throw malformedKey(operation, [], LONE_SURROGATE_MESSAGE)
  }
  return parts.map((part) => (Object.is(part, -0) ? 0 : part))
}

export function normalizeMatch(match: Match, operation: string): MatchPart[] {
  const parts = Array.isArray(match) ? [...(match as readonly MatchPart[])] : [match as MatchPart]
  if (parts.length === 0) throw malformedKey(operation, parts, 'a match needs at least one part')
  for (const part of parts) {
    if (part !== ANY && !isKeyPart(part)) {
      throw malformedKey(operation, parts, 'a match part must be a string, a finite number or ANY')
    }
    if (typeof part === 'string' && LONE_SURROGATE.test(part)) throw malformedKey(operation, [], LONE_SURROGATE_MESSAGE)
  }
  return parts.map((part) => (Object.is(part, -0) ? 0 : part))
}

const LONE_SURROGATE_MESSAGE = 'a key part must be well-formed UTF-16 text (it holds a lone surrogate)'

function isKeyPart(part: unknown): part is KeyPart {
  return typeof part === 'string' || (typeof part === 'number' && Number.isFinite(part))
}

export function encodePart(part: KeyPart): string {
  if (typeof part === 'string' && PLAIN_STRING.test(part)) return PLAIN_MARK + part
  const tagged = typeof part === 'number' ? `n${String(part)}` : `s${part}`
  return Buffer.from(tagged, 'utf8').toString('base64url')
}

/** Decodes one segment, rejecting anything `encodePart` could not have produced. */
export function decodePart(segment: string, operation: string): KeyPart {
  const fail = (why: string) =>
    new CacheError('MALFORMED_KEY', `stored key segment ${JSON.stringify(segment.slice(0, 64))} ${why}`, { operation })
  if (segment.startsWith(PLAIN_MARK)) {
    const text = segment.slice(1)
    if (!PLAIN_STRING.test(text)) throw fail('is not a plain string segment')
    return text
  }
  if (!BASE64URL_SEGMENT.test(segment) || !hasCanonicalTail(segment)) throw fail('is not canonical base64url')
  let tagged: string
  try {
    tagged = STRICT_UTF8.decode(Buffer.from(segment, 'base64url'))
  } catch {
    throw fail('is not base64url of UTF-8 text')
  }
  const text = tagged.slice(1)
  switch (tagged[0]) {
    case 's':
      if (PLAIN_STRING.test(text)) throw fail('spells a plain string in base64url')
      return text
    case 'n': {
      const number = Number(text)
      if (text === '' || !Number.isFinite(number) || String(number) !== text) throw fail('holds an invalid number')
      return number
    }
    default:
      throw fail('has an unknown type tag')
  }
}

/**
 * Whether the segment is the only base64url spelling of its bytes: a length that whole bytes can
 * have, and zero in the bits of the last character that carry no byte (else two spellings decode
 * to one key).
 */
function hasCanonicalTail(segment: string): boolean {
  const spare = segment.length % 4
  if (spare === 0) return true
  if (spare === 1) return false
  const last = BASE64URL_ALPHABET.indexOf(segment[segment.length - 1] as string)
  return (last & (spare === 2 ? 0b1111 : 0b11)) === 0
}

export function encodeParts(parts: readonly KeyPart[]): string[] {
  return parts.map(encodePart)
}

export function decodeSegments(joined: string, operation: string): KeyPart[] {
  return joined.split(':').map((segment) => decodePart(segment, operation))
}

/** Total order on keys: part by part, numbers before strings, numbers numerically, strings by code unit; a prefix sorts first. */
export function compareKeys(a: readonly KeyPart[], b: readonly KeyPart[]): number {
  const length = a.length < b.length ? a.length : b.length
  for (let i = 0; i < length; i++) {
    const x = a[i] as KeyPart
    const y = b[i] as KeyPart
    if (x === y) continue
    // Numbers before strings; within a type, `<` orders numbers numerically and strings by code unit.
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1
    return x < y ? -1 : 1
  }
  return a.length - b.length
}

/**
 * Sorts keys in `compareKeys` order, fast: each key becomes one string whose plain code-unit
 * order is that order, so the engine's native string sort does the work (a comparator function
 * costs several times more on large listings).
 */
export function sortByKey<T>(items: T[], keyOf: (item: T) => readonly KeyPart[]): T[] {
  const byOrder = new Map<string, T>()
  for (const item of items) byOrder.set(orderString(keyOf(item)), item)
  // Equal keys share an order string; listings never hold duplicates, but keep them all if given.
  if (byOrder.size !== items.length) return [...items].sort((a, b) => compareKeys(keyOf(a), keyOf(b)))
  return [...byOrder.keys()].sort().map((order) => byOrder.get(order) as T)
}

const NUMBER_BUFFER = new DataView(new ArrayBuffer(8))

/**
 * A string whose code-unit order is `compareKeys` order. Each part: a type mark ('\u0001'
 * numbers, '\u0002' strings, so numbers come first), then a number as 16 hex digits of its
 * IEEE 754 bits made sortable, or a string with '\u0000' escaped as '\u0000\u0001' and ended
 * by '\u0000\u0000' (so a string sorts before its extensions, and the end of a key before any part).
 */
export function orderString(parts: readonly KeyPart[]): string {
  let order = ''
  for (const part of parts) {
    if (typeof part === 'number') {
      NUMBER_BUFFER.setFloat64(0, part)
      let high = NUMBER_BUFFER.getUint32(0)
      let low = NUMBER_BUFFER.getUint32(4)
      // Negative numbers: flip every bit; positive: flip the sign bit. Then unsigned order is numeric order.
      if (high >>> 31) {
        high = ~high >>> 0
        low = ~low >>> 0
      } else {
        high = (high | 0x80000000) >>> 0
      }
      order += '\u0001' + high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0')
    } else {
      order += '\u0002' + (part.includes('\u0000') ? part.split('\u0000').join('\u0000\u0001') : part) + '\u0000\u0000'
    }
  }
  return order
}

export function keyMatches(match: readonly MatchPart[], key: readonly KeyPart[]): boolean {
  return match.length === key.length && match.every((part, i) => part === ANY || part === key[i])
}

/** The literal parts before the first wildcard: the only index `all()` needs to scan. */
export function literalPrefix(match: readonly MatchPart[]): KeyPart[] {
  const end = match.indexOf(ANY)
  return (end === -1 ? match : match.slice(0, end)) as KeyPart[]
}

export function keyId(parts: readonly KeyPart[]): string {
  return encodeParts(parts).join(':')
}

function malformedKey(operation: string, parts: readonly unknown[], why: string): CacheError {
  return new CacheError('MALFORMED_KEY', why, { operation, key: parts })
}
