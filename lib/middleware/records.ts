/**
 * What the middleware stores, and where: pure, no I/O.
 *
 * One record per session, under the user's key, so that one read authenticates a request and
 * every change to a session (login, renewal, logout, revoke) is one atomic write in one slot:
 *
 * | key                                  | value                                               | TTL                 |
 * |--------------------------------------|-----------------------------------------------------|---------------------|
 * | `['u', userKey, 's', sessionId]`     | the session: times, fingerprint, metadata, a copy of the user, and the hashes of the secrets that open it | until it expires |
 * | `['e', 'u', sealedUserId, sessionId]` | `0`: an expiry marker, written only while someone listens for `ended` (expiry-markers.ts) | until the session expires, as of its login or last sweep |
 *
 * `userKey` is a hash of the user's id (token.ts); `sessionId` a hash of the device's
 * fingerprint, so a login from a device overwrites that device's session (Pow's "a login with
 * the fingerprint of an existing session replaces it") with no lookup. With `tagDepth: 3`
 * (`SESSION_TAG_DEPTH`), `['u', userKey, 's']` chooses the slot on Redis Cluster and names an
 * index of the user's own: their sessions share one slot and one sorted set ("your devices",
 * and the count `maxSessionsPerUser` bounds). Records read back are checked field by field;
 * anything else is treated as absent.
 *
 * Rotation (see credentials-cache.ts): `secret` is the hash of the secret in use; a renewal adds
 * `next`, and only when a request presents the next secret does it replace `secret` (which stays
 * accepted as `previous` until `previousUntil`, for requests already on their way).
 */
import { ANY, type KeyPart, type MatchPart } from '../cache/key'

/** The `tagDepth` a `RedisCache` on Cluster must have: `['u', userKey, 's']` chooses the slot and the index. */
export const SESSION_TAG_DEPTH = 3

const USER = 'u'
const SESSIONS = 's'

export interface SessionRecord {
  /** The app's id of the user, as `userId` returned it. */
  userId: KeyPart
  fingerprint: string
  createdAt: number
  /** When the current secret was issued (at login or at the last renewal). */
  renewedAt: number
  metadata: unknown
  /** The app's serialized user, copied in so that one read authenticates a request. */
  user: unknown
  /** Hash of the secret in use. */
  secret: string
  /** Hash of the secret a renewal issued, until a request presents it. */
  next?: string
  /** Hash of the secret `next` replaced, accepted until `previousUntil` (ms since the epoch). */
  previous?: string
  previousUntil?: number
}

export const recordKeys = {
  session: (userKey: string, sessionId: string): KeyPart[] => [USER, userKey, SESSIONS, sessionId],
  /** The prefix of a user's sessions: what `maxSessionsPerUser` counts. */
  userSessions: (userKey: string): KeyPart[] => [USER, userKey, SESSIONS],
  sessionsOf: (userKey: string): MatchPart[] => [USER, userKey, SESSIONS, ANY],
}

/** The session id in a key matched by `sessionsOf`. */
export function sessionIdIn(key: readonly KeyPart[]): string {
  return String(key[3])
}

export function readSessionRecord(value: unknown): SessionRecord | undefined {
  if (!isObject(value) || !isUserId(value['userId'])) return undefined
  const ok =
    isString(value['fingerprint']) &&
    isTime(value['createdAt']) &&
    isTime(value['renewedAt']) &&
    isString(value['secret']) &&
    (value['next'] === undefined || isString(value['next'])) &&
    (value['previous'] === undefined || (isString(value['previous']) && isTime(value['previousUntil'])))
  return ok ? (value as unknown as SessionRecord) : undefined
}

export function isUserId(value: unknown): value is KeyPart {
  return (typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isFinite(value))
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}
