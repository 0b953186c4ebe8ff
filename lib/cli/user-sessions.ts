/**
 * One user's sessions in both layers, read through the layers' own key layouts: the store's
 * per-user index (under the user's id, or its hash with `hashUserIds`), and the token
 * middleware's sessions under the hash of the user's id.
 */
import { readSessionRecord, recordKeys, sessionIdIn, type SessionRecord } from '../middleware/records'
import { userKeyOf } from '../middleware/token'
import { sessionKey, storedIdOf, userSessions } from '../store/session-keys'
import { hashedUserId } from '../store/stored-id'
import type { LayerCaches } from './layer-caches'

export interface StoreSession {
  layer: 'store'
  /** The stored id (a hash of the express-session id, unless the store has `hashIds: false`). */
  id: string
  /** The user's id as it is in the index: the id, or its hash with `hashUserIds`. */
  userKey: string
  expiresAtMs: number
  text: string
}

export interface TokenSession {
  layer: 'token'
  /** `session.id` in the middleware. */
  id: string
  userKey: string
  expiresAtMs: number
  record: SessionRecord
}

export async function storeSessionsOf(caches: LayerCaches, userId: string): Promise<StoreSession[]> {
  const found: StoreSession[] = []
  for (const userKey of new Set([userId, hashedUserId(userId)])) {
    const ids = (await caches.store.keys(userSessions(userKey))).map(storedIdOf)
    for (const id of ids) {
      const stored = await caches.store.getTimed(sessionKey(id))
      if (stored !== undefined) found.push({ layer: 'store', id, userKey, expiresAtMs: stored.expiresAtMs, text: stored.value })
    }
  }
  return found
}

export async function tokenSessionsOf(caches: LayerCaches, userId: string): Promise<TokenSession[]> {
  const userKey = userKeyOf(userId)
  const records = await caches.token.all(recordKeys.sessionsOf(userKey))
  return records.flatMap(({ key, value, expiresAtMs }) => {
    const record = readSessionRecord(value)
    return record === undefined ? [] : [{ layer: 'token' as const, id: sessionIdIn(key), userKey, expiresAtMs, record }]
  })
}
