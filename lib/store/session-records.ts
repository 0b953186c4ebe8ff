/**
 * The store's records in the cache (layout: session-keys.ts), one atomic cache call per change
 * wherever the records share a slot. Knows nothing of express-session: it moves serialized
 * sessions and user ids.
 *
 * Every write that has a user writes the user's entry in the same step as the session (on Redis
 * Cluster, where they live in different slots, the entry first). So a failure can only leave an
 * entry without a session, which listings skip and expiry removes, never a session that "sign
 * out everywhere" cannot find. Ending goes the other way: the session first, then the entry.
 * For the same reason nothing but an end removes an entry: an entry whose session is not there
 * (yet) may belong to a save still under way on Cluster, so listings skip it and expiry removes it.
 */
import type { Cache, ReplicaWait } from '../cache/cache'
import { readSharedTimed } from '../cache/shared-read'
import {
  ALL_SESSIONS,
  ALL_USER_ENTRIES,
  ENTRY,
  SESSIONS_PREFIX,
  sessionKey,
  storedIdOf,
  userSessionKey,
  userSessions,
} from './session-keys'

export interface StoredSessionText {
  /** The session as the serializer wrote it. */
  text: string
  /** When it expires, in ms since the epoch (Redis's clock). */
  expiresAtMs: number
}

export class SessionRecords {
  constructor(
    private readonly cache: Cache<string>,
    /** How long a destroyed session's key refuses writes, in ms; 0 for no tombstone. */
    private readonly tombstoneMs: number,
    /** What a destroy waits for before it resolves (`waitForReplicas`). */
    private readonly endingsWait: ReplicaWait | undefined,
  ) {}

  async read(storedId: string): Promise<StoredSessionText | undefined> {
    // Shared: the text is only read, and with a near-cache the store reads it from memory (redis-session-store.ts).
    const found = await readSharedTimed(this.cache, sessionKey(storedId))
    return found && { text: found.value, expiresAtMs: found.expiresAtMs }
  }

  /**
   * Stores a session and its user's entry. Refused (resolves false) over a tombstone, and with
   * `onlyIfAbsent` over anything at all (a session moved in from connect-redis). With `wait`,
   * resolves once replicas have it.
   */
  write(
    storedId: string,
    text: string,
    ttlMs: number,
    userId: string | undefined,
    { onlyIfAbsent = false, wait }: { onlyIfAbsent?: boolean; wait?: ReplicaWait | undefined } = {},
  ): Promise<boolean> {
    const key = sessionKey(storedId)
    // The entry's life is only ever lengthened: on Cluster it is written before the session, and a
    // save that shortens the session and then fails must not leave the session outliving its entry.
    const alongWith = userId === undefined ? [] : [{ key: userSessionKey(userId, storedId), value: ENTRY, extendOnly: true }]
    const waiting = wait === undefined ? {} : { waitForReplicas: wait }
    if (!onlyIfAbsent && this.tombstoneMs === 0) {
      return this.cache.batch({ put: [...alongWith, { key, value: text }] }, { ttlMs, ...waiting }).then(() => true)
    }
    return this.cache.putIf(key, text, { ttlMs, alongWith, ...waiting, ...(onlyIfAbsent ? { absent: true } : { unlessDeleted: true }) })
  }

  /**
   * A new TTL for a live session and its user's entry, without resending either (records that
   * are gone or tombstones stay so). The entry comes first: on Redis Cluster, where the two are
   * in different slots and touched one slot at a time, a failure midway then leaves an entry
   * that outlives its session, never a session that outlives its entry.
   */
  async touch(storedId: string, ttlMs: number, userId: string | undefined): Promise<void> {
    const keys = [...(userId === undefined ? [] : [userSessionKey(userId, storedId)]), sessionKey(storedId)]
    await this.cache.touchMany(keys, { ttlMs })
  }

  /**
   * Ends a session: `destroyed` leaves a tombstone (only where a session was) and, with
   * `waitForReplicas`, resolves once replicas have the ending; else it is just deleted. Resolves
   * to whether a live session was there.
   */
  async remove(storedId: string, userId: string | undefined, destroyed: boolean): Promise<boolean> {
    const wait = destroyed && this.endingsWait !== undefined ? { waitForReplicas: this.endingsWait } : {}
    const live = await this.cache.delete(sessionKey(storedId), destroyed ? { tombstoneMs: this.tombstoneMs, ...wait } : {})
    if (userId !== undefined) await this.cache.delete(userSessionKey(userId, storedId))
    return live
  }

  /** Drops a user's entry (`clear()`, which ends every session first). */
  async forgetEntry(userId: string, storedId: string): Promise<void> {
    await this.cache.delete(userSessionKey(userId, storedId))
  }

  async all(): Promise<({ storedId: string } & StoredSessionText)[]> {
    const records = await this.cache.all(ALL_SESSIONS)
    return records.map(({ key, value, expiresAtMs }) => ({ storedId: storedIdOf(key), text: value, expiresAtMs }))
  }

  async ids(): Promise<string[]> {
    return (await this.cache.keys(ALL_SESSIONS)).map(storedIdOf)
  }

  count(): Promise<number> {
    return this.cache.countUnder(SESSIONS_PREFIX)
  }

  async idsOfUser(userId: string): Promise<string[]> {
    return (await this.cache.keys(userSessions(userId))).map(storedIdOf)
  }

  /** A user's entries, the one that expires first first (the session idle longest). */
  async entriesOfUser(userId: string): Promise<{ storedId: string; expiresAtMs: number }[]> {
    const entries = await this.cache.all(userSessions(userId))
    return entries.map(({ key, expiresAtMs }) => ({ storedId: storedIdOf(key), expiresAtMs })).sort((a, b) => a.expiresAtMs - b.expiresAtMs)
  }

  /** Every user entry, as [userId, storedId]. */
  async allUserEntries(): Promise<[string, string][]> {
    return (await this.cache.keys(ALL_USER_ENTRIES)).map((key) => [String(key[1]), storedIdOf(key)])
  }
}
