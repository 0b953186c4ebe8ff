/**
 * Where `sessions()` finds its expired sessions, once across every server, with no keyspace
 * notifications: an expiry queue (cache/expiry-queue.ts) built from markers.
 *
 * A session is indexed under its user (records.ts), so no fixed set of indexes holds them all.
 * While someone listens for `ended`, a login also writes a marker, `['e', 'u', sealed user id,
 * session id]`, that expires with the session; markers spread over the cache's buckets, where a
 * sweep claims them. A claimed marker only says where to look: the sweep then claims the expired
 * entries of that user's own index, which is what makes each session's event happen once (the
 * same claim, in the same slot, the store's sweep uses). A marker whose session was renewed
 * meanwhile is written again, due at the session's new expiry; one whose session ended otherwise
 * (logout, revoke, eviction: gone from the index) is simply acknowledged. One that falls due a
 * moment before its session is written again too, due a millisecond later.
 *
 * A marker costs nothing per request: renewals leave it alone, so it is written at a login and
 * once per renewal period at most, by the sweep that finds it early.
 */
import type { Cache } from '../cache/cache'
import type { ClaimOptions, ExpiredClaims, ExpiredRecord, ExpiryQueue } from '../cache/expiry-queue'
import type { KeyPart } from '../cache/key'
import { recordKeys, sessionIdIn } from './records'
import { openUserId, sealUserId, sealingKey, type SealingKey } from './sealed-user-id'
import { userKeyOf } from './token'

/** An expired session, with the user it belonged to. */
export interface ExpiredSession extends ExpiredRecord {
  userId: KeyPart
}

const MARKER = 'e'
const BY_USER = 'u'
/** Under this prefix are the markers and nothing else (two parts: what `claimExpired` needs with `tagDepth: 3`). */
export const MARKERS_PREFIX: readonly KeyPart[] = [MARKER, BY_USER]
/** What a marker holds: nothing is read from it but its key and expiry. */
const MARKER_VALUE = 0
/** Users whose indexes one sweep claims from at once. */
const USERS_AT_ONCE = 32

export class ExpiryMarkers implements Pick<ExpiryQueue, 'claimExpired'> {
  private readonly keys: readonly SealingKey[]

  constructor(
    private readonly cache: Cache & ExpiryQueue,
    /** The middleware's secrets, the current one first: it seals; every one opens. */
    secrets: readonly string[],
  ) {
    this.keys = secrets.map(sealingKey)
  }

  /** Marks a session just stored with `ttlMs` to live: written after it, so it never falls due before it. */
  mark(userId: KeyPart, sessionId: string, ttlMs: number): Promise<void> {
    return this.cache.put(this.markerKey(sealUserId(userId, this.keys[0] as SealingKey), sessionId), MARKER_VALUE, { ttlMs })
  }

  /** Claims due markers, then the expired sessions of their users; the prefix is always the markers'. */
  async claimExpired(_prefix: readonly KeyPart[], options: ClaimOptions): Promise<ExpiredClaims & { records: ExpiredSession[] }> {
    const markers = await this.cache.claimExpired(MARKERS_PREFIX, options)
    const claimedAtMs = markers.claimedAtMs
    const claimedAt = performance.now()
    const users = new Map<string, { userId: KeyPart; sealed: string; sessionIds: string[] }>()
    for (const { key } of markers.records) {
      const sealed = String(key[2])
      // Sealed under a secret no longer configured: nobody can say whose it was, so it is dropped.
      const userId = openUserId(sealed, this.keys)
      if (userId === undefined) continue
      const userKey = userKeyOf(userId)
      const user = users.get(userKey) ?? { userId, sealed, sessionIds: [] }
      user.sessionIds.push(String(key[3]))
      users.set(userKey, user)
    }
    const records: ExpiredSession[] = []
    const sessionClaims: ExpiredClaims[] = []
    const entries = [...users]
    for (let next = 0; next < entries.length; next += USERS_AT_ONCE) {
      await Promise.all(
        entries.slice(next, next + USERS_AT_ONCE).map(async ([userKey, { userId, sealed, sessionIds }]) => {
          // Read before the claim: a session gone by now is either due in the index, and the claim
          // takes it, or ended otherwise, and is not there.
          const sessions = await Promise.all(sessionIds.map((id) => this.cache.getTimed(recordKeys.session(userKey, id))))
          const claims = await this.cache.claimExpired(recordKeys.userSessions(userKey), options)
          sessionClaims.push(claims)
          for (const record of claims.records) records.push({ ...record, userId })
          const ended = new Set(claims.records.map((record) => sessionIdIn(record.key)))
          await Promise.all(
            sessionIds.map(async (id, i) => {
              const session = sessions[i]
              if (session === undefined || ended.has(id)) return
              // Renewed since the marker was written: due again when the session now expires, by
              // Redis's clock (its now at the claim, moved on by the time since).
              const ttlMs = Math.ceil(session.expiresAtMs - (claimedAtMs + performance.now() - claimedAt))
              await this.cache.put(this.markerKey(sealed, id), MARKER_VALUE, { ttlMs: Math.max(1, ttlMs) })
            }),
          )
        }),
      )
    }
    return {
      records,
      claimedAtMs,
      acknowledge: async () => {
        await Promise.all(sessionClaims.map((claims) => claims.acknowledge()))
        await markers.acknowledge()
      },
    }
  }

  private markerKey(sealed: string, sessionId: string): KeyPart[] {
    return [MARKER, BY_USER, sealed, sessionId]
  }
}
