/**
 * Pure key logic: validation, the typed base64url encoding of each part, ordering and matching.
 *
 * A part is encoded as base64url (no padding) of a one-letter type tag followed by its text:
 * `s` for strings, `n` for numbers. Numbers and strings stay distinct, and any string is safe
 * inside Redis key names (the alphabet has no `:`, `{`, `}` or `*`).
 */
import { CacheError } from '../errors'
import { ANY, type Key, type KeyPart, type Match, type MatchPart } from './key'

const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]+$/
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
  const tagged = typeof part === 'number' ? `n${String(part)}` : `s${part}`
  return Buffer.from(tagged, 'utf8').toString('base64url')
}

/** Decodes one segment, rejecting anything `encodePart` could not have produced. */
export function decodePart(segment: string, operation: string): KeyPart {
  const fail = (why: string) =>
    new CacheError('MALFORMED_KEY', `stored key segment ${JSON.stringify(segment.slice(0, 64))} ${why}`, { operation })
  if (!BASE64URL_SEGMENT.test(segment)) throw fail('is not base64url')
  const bytes = Buffer.from(segment, 'base64url')
  const tagged = bytes.toString('utf8')
  // Round-trip check: rejects padding tricks, stray bits and invalid UTF-8.
  if (Buffer.from(tagged, 'utf8').toString('base64url') !== segment) throw fail('is not canonical base64url of UTF-8 text')
  const text = tagged.slice(1)
  switch (tagged[0]) {
    case 's':
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

export function encodeParts(parts: readonly KeyPart[]): string[] {
  return parts.map(encodePart)
}

export function decodeSegments(joined: string, operation: string): KeyPart[] {
  return joined.split(':').map((segment) => decodePart(segment, operation))
}

/** Total order on keys: part by part, numbers before strings, numbers numerically, strings by code unit; a prefix sorts first. */
export function compareKeys(a: readonly KeyPart[], b: readonly KeyPart[]): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const order = compareParts(a[i] as KeyPart, b[i] as KeyPart)
    if (order !== 0) return order
  }
  return a.length - b.length
}

function compareParts(a: KeyPart, b: KeyPart): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1
  if (typeof b === 'number') return 1
  return a < b ? -1 : a > b ? 1 : 0
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
