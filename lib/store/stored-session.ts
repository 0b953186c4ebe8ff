/**
 * The text stored for one session: `<expiresAtMs>|<serialized session>`.
 *
 * The expiry rides along so that `touchAfter` can tell, from what `get` returned, how old the
 * stored expiry is without another read; the serialized part is exactly what the serializer
 * produced, so a connect-redis value moves in unchanged.
 */
import { CacheError } from '../errors'
import { sessionKey } from './session-keys'

export interface StoredSession {
  /** When the stored record expires, in milliseconds since the epoch (the writer's clock). */
  expiresAtMs: number
  /** The session as the serializer wrote it. */
  text: string
}

const SEPARATOR = '|'
const EXPIRY = /^\d{1,16}$/

export function encodeStored({ expiresAtMs, text }: StoredSession): string {
  return `${Math.round(expiresAtMs)}${SEPARATOR}${text}`
}

export function decodeStored(stored: unknown, sid: string): StoredSession {
  const at = typeof stored === 'string' ? stored.indexOf(SEPARATOR) : -1
  const expiry = at > 0 ? (stored as string).slice(0, at) : ''
  if (!EXPIRY.test(expiry)) {
    throw new CacheError('UNDECODABLE_VALUE', 'the stored record is not a session written by RedisSessionStore', {
      operation: 'store.get',
      key: sessionKey(sid),
    })
  }
  return { expiresAtMs: Number(expiry), text: (stored as string).slice(at + 1) }
}

/** The cache the store builds keeps these texts as they are (no second JSON encoding around them). */
export const storedTextSerializer = {
  stringify(value: unknown): string {
    if (typeof value !== 'string') throw new TypeError(`RedisSessionStore stores text, not a ${typeof value}`)
    return value
  },
  parse(text: string): unknown {
    return text
  },
}
