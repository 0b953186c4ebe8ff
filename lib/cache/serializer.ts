import { CacheError } from '../errors'
import type { KeyPart } from './key'

/** Turns values into the strings stored in Redis and back. */
export interface Serializer {
  stringify(value: unknown): string
  parse(text: string): unknown
}

/**
 * JSON, but a `__proto__` key in stored text never becomes an object's prototype (nor an own
 * property that a later `Object.assign` would turn into one).
 */
export const jsonSerializer: Serializer = {
  stringify: (value) => {
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`a ${typeof value} cannot be stored as JSON`)
    return text
  },
  parse: (text): unknown => (text.includes('"__proto__"') ? JSON.parse(text, dropProto) : JSON.parse(text)),
}

/**
 * Text kept as it is (no second JSON encoding around text that is already serialized): what the
 * session store's cache uses. Internal.
 */
export const textSerializer: Serializer = {
  stringify(value: unknown): string {
    if (typeof value !== 'string') throw new TypeError(`this cache stores text, not a ${typeof value}`)
    return value
  },
  parse: (text): unknown => text,
}

/** Whether what `serializer` decodes can be shared by many readers once frozen: JSON data, or text. */
export function decodesShareable(serializer: Serializer): boolean {
  return serializer === jsonSerializer || serializer === textSerializer
}

function dropProto(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value
}

/**
 * The serializer's own error is not attached as `cause`: parsers quote the text they choke on
 * (Node's JSON.parse does), and that text is user data. Only its class name is kept.
 */
export function parseError(key: readonly KeyPart[], error: unknown): CacheError {
  return new CacheError('UNDECODABLE_VALUE', `the stored value could not be parsed (${errorName(error)})`, { operation: 'get', key })
}

export function serializeError(key: readonly KeyPart[], error: unknown): CacheError {
  return new CacheError('UNSERIALIZABLE_VALUE', `the value could not be serialized (${errorName(error)})`, { operation: 'put', key })
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error
}
