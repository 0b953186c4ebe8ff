/**
 * What the middleware stores, and where: pure, no I/O.
 *
 * Pow's credentials-cache layout, keyed for one read per request and one slot per user:
 *
 * | key                                   | value                                   | TTL            |
 * |---------------------------------------|-----------------------------------------|----------------|
 * | `['token', sha256(token)]`            | the session, with a copy of the user    | `ttlMs`        |
 * | `['token', sha256(old token)]`        | after a renewal: a pointer to the new   | grace, ≥ 5 s   |
 * | `['user', userId]`                    | the app's serialized user               | `ttlMs`        |
 * | `['user', userId, 'session', id]`     | the device entry ("your devices")       | `ttlMs`        |
 * | `['user', userId, 'revoked', id]`     | a tombstone: a renewal in flight cannot revive it | `ttlMs` |
 * | `['user', userId, 'renewing', id]`    | the renewal lock                        | a few seconds  |
 *
 * With `tagDepth: 3` on Redis Cluster, `[namespace, 'user', userId]` is the hash tag: one user's
 * records share a slot, and their device list is one index. Token records spread over all slots.
 * Records read back are checked field by field; anything else is treated as absent.
 */
import { ANY, type KeyPart, type MatchPart } from '../cache/key'

/**
 * The `tagDepth` a `RedisCache` on Cluster must have. Shallower puts every user (1: every record)
 * in one slot; deeper splits a device entry from its tombstone, which a renewal's conditional
 * write needs in the same slot.
 */
export const SESSION_TAG_DEPTH = 3

/** The session a token opens. */
export interface SessionRecord {
  kind: 'session'
  id: string
  userId: KeyPart
  fingerprint: string
  createdAt: number
  renewedAt: number
  metadata: unknown
  /** The app's serialized user, copied in so that one read authenticates a request. */
  user: unknown
}

/** A token rotated out by a renewal: still accepted for the grace period, as the session it points to. */
export interface RotatedRecord {
  kind: 'rotated'
  id: string
  userId: KeyPart
  /** Hash of the token that replaced this one. */
  next: string
  rotatedAt: number
}

/** One entry of a user's device list. */
export interface DeviceRecord {
  id: string
  fingerprint: string
  createdAt: number
  renewedAt: number
  metadata: unknown
  /** Hash of the session's current token, so that a revoke from any server can delete it. */
  tokenHash: string
}

export const recordKeys = {
  token: (tokenHash: string): KeyPart[] => ['token', tokenHash],
  user: (userId: KeyPart): KeyPart[] => ['user', userId],
  device: (userId: KeyPart, id: string): KeyPart[] => ['user', userId, 'session', id],
  devices: (userId: KeyPart): MatchPart[] => ['user', userId, 'session', ANY],
  revoked: (userId: KeyPart, id: string): KeyPart[] => ['user', userId, 'revoked', id],
  renewing: (userId: KeyPart, id: string): KeyPart[] => ['user', userId, 'renewing', id],
}

export function deviceOf(session: SessionRecord, tokenHash: string): DeviceRecord {
  const { id, fingerprint, createdAt, renewedAt, metadata } = session
  return { id, fingerprint, createdAt, renewedAt, metadata, tokenHash }
}

export function readTokenRecord(value: unknown): SessionRecord | RotatedRecord | undefined {
  if (!isObject(value) || !isString(value['id']) || !isUserId(value['userId'])) return undefined
  if (value['kind'] === 'session') {
    const ok = isString(value['fingerprint']) && isTime(value['createdAt']) && isTime(value['renewedAt'])
    return ok ? (value as unknown as SessionRecord) : undefined
  }
  if (value['kind'] === 'rotated') {
    return isString(value['next']) && isTime(value['rotatedAt']) ? (value as unknown as RotatedRecord) : undefined
  }
  return undefined
}

export function readDeviceRecord(value: unknown): DeviceRecord | undefined {
  if (!isObject(value)) return undefined
  const ok =
    isString(value['id']) &&
    isString(value['fingerprint']) &&
    isTime(value['createdAt']) &&
    isTime(value['renewedAt']) &&
    isString(value['tokenHash'])
  return ok ? (value as unknown as DeviceRecord) : undefined
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
