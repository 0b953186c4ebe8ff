/**
 * Redis key names read back as the records they hold (the layout of lib/cache/redis-layout.ts),
 * and what each record is to the session layers (lib/store/session-keys.ts,
 * lib/middleware/records.ts). Pure, no I/O.
 */
import type { KeyPart } from '../cache/key'
import { decodeSegments } from '../cache/key-codec'

/**
 * - `store-session`: an express-session session (`['s', storedId]`)
 * - `store-user-entry`: the store's per-user index entry (`['u', userId, storedId]`)
 * - `token-session`: a session of the token middleware (`['u', userKey, 's', sessionId]`)
 * - `token-expiry-marker`: when one of its sessions falls due, for its `expired` event (`['e', 'u', sealedUserId, sessionId]`)
 * - `record`: any other cache record
 * - `index`: a sorted set listing a bucket's records
 */
export type RecordKind = 'store-session' | 'store-user-entry' | 'token-session' | 'token-expiry-marker' | 'record' | 'index'

export const RECORD_KINDS: readonly RecordKind[] = [
  'store-session',
  'store-user-entry',
  'token-session',
  'token-expiry-marker',
  'record',
  'index',
]

export interface StoredKey {
  /** The Redis key name. */
  name: string
  kind: RecordKind
  /** The record's key in the cache; empty for an index. */
  key: KeyPart[]
}

/**
 * What a Redis key of `namespace` holds; undefined for a key that is not this namespace's own (a
 * longer namespace that starts with it, `myapp:sess` under `myapp`, or anything malformed).
 */
export function readStoredKey(namespace: string, name: string): StoredKey | undefined {
  const head = `${namespace}:`
  if (!name.startsWith(head)) return undefined
  const rest = name.slice(head.length)
  // `_i:` indexes, and the `_c:` sets where expired index entries wait for their `ended` event.
  if ((rest.startsWith('_i:{') || rest.startsWith('_c:{')) && rest.endsWith('}')) return { name, kind: 'index', key: [] }
  if (!rest.startsWith('{')) return undefined
  const close = rest.indexOf('}')
  const hash = rest.lastIndexOf('#', close)
  if (close === -1 || hash === -1 || rest[close + 1] !== ':') return undefined
  const above = rest.slice(1, hash)
  try {
    const key = [...(above === '' ? [] : decodeSegments(above, 'inspect')), ...decodeSegments(rest.slice(close + 2), 'inspect')]
    return { name, kind: kindOf(key), key }
  } catch {
    return undefined
  }
}

function kindOf(key: readonly KeyPart[]): RecordKind {
  const [first, second, third] = key
  if (key.length === 2 && first === 's') return 'store-session'
  if (key.length === 3 && first === 'u') return 'store-user-entry'
  if (key.length === 4 && first === 'u' && third === 's' && typeof second === 'string') return 'token-session'
  if (key.length === 4 && first === 'e' && second === 'u' && typeof third === 'string') return 'token-expiry-marker'
  return 'record'
}

/**
 * A `--match` pattern: parts separated by commas, `*` for any one part. A part matches a string
 * part of the same text or a number part that prints as it.
 */
export function parseMatch(text: string): (string | undefined)[] {
  return text.split(',').map((part) => (part === '*' ? undefined : part))
}

export function keyMatches(match: readonly (string | undefined)[], key: readonly KeyPart[]): boolean {
  return match.length === key.length && match.every((part, i) => part === undefined || part === String(key[i]))
}
