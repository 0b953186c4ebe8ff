/**
 * The session records in the cache (layout: records.ts): Pow's CredentialsCache, with secrets
 * stored hashed, one read per request, and every change to a session one atomic cache write.
 *
 * Rotation never costs a session. A renewal does not replace the secret in use: it adds a
 * `next` one (a compare-and-set on the record as read, so of two servers renewing at once one
 * wins and the other's secret is never handed out). The old secret keeps working until a
 * request presents the new one; that request makes it final, and the old secret is then
 * accepted only for `rotationGraceMs` more (requests already on their way). So a client that
 * never received its renewed token (the response was lost, the instance died, Redis failed over
 * before replying) keeps its session, and its next renewal issues another token. Only a holder
 * of the old secret who never presents the new one keeps using the old one, as before a renewal.
 */
import type { Cache, ReplicaWait } from '../cache/cache'
import type { KeyPart } from '../cache/key'
import { readShared } from '../cache/shared-read'
import { isCacheError } from '../errors'
import { readSessionRecord, recordKeys, sessionIdIn, type SessionRecord } from './records'
import { NO_DEADLINE, type RenewalDeadline } from './request-deadline'
import { expiresAt, freshness, type SessionTiming } from './timing'
import { createSecret, hashSecret, joinToken, sessionIdOf, splitToken, userKeyOf } from './token'

/** A session as a request found it. */
export interface AuthenticatedSession {
  userKey: string
  id: string
  record: SessionRecord
  /** The request came with a secret replaced less than `rotationGraceMs` ago. */
  graced: boolean
  /** A new token, when this request renewed the session. */
  renewedToken?: string
}

/** What a token says, once verified: where its session is stored, and the stored form of its secret. */
export interface PresentedCredentials {
  readonly userKey: string
  readonly sessionId: string
  readonly secretHash: string
}

/** A login just stored: the token goes to the client. */
export interface IssuedSession {
  token: string
  userKey: string
  id: string
  record: SessionRecord
}

export interface NewSession {
  userId: KeyPart
  user: unknown
  fingerprint: string
  metadata: unknown
  /** Another session of this user to end in the same write (the request's own, at a new login). */
  replacing?: string
}

/** One of a user's sessions, as the device list shows it. */
export interface StoredSession {
  id: string
  record: SessionRecord
}

/** Sessions ended by one write of `revokeAll`. */
const REVOKE_BATCH = 1_000

export class CredentialsCache {
  constructor(
    private readonly cache: Cache,
    private readonly timing: SessionTiming,
    private readonly now: () => number,
    /** Most sessions a user keeps; a login beyond it ends the oldest. */
    private readonly maxSessionsPerUser: number,
    /** What endings and logins wait for before they resolve (`waitForReplicas`). */
    private readonly waits: { endings: ReplicaWait | undefined; logins: ReplicaWait | undefined } = { endings: undefined, logins: undefined },
  ) {}

  /**
   * The session a token opens, renewed when due. One read; one more write only when the request
   * renews the session or is the first to present a renewed token. `deadline`: the request's,
   * so a renewal whose token could not reach the client does not start.
   */
  async authenticate(token: string, deadline: RenewalDeadline = NO_DEADLINE): Promise<AuthenticatedSession | undefined> {
    const parts = splitToken(token)
    if (parts === undefined) return undefined
    return this.authenticatePresented({ userKey: parts.userKey, sessionId: parts.sessionId, secretHash: hashSecret(parts.secret) }, deadline)
  }

  /** `authenticate`, for a token already taken apart and its secret hashed (see verified-tokens.ts). */
  async authenticatePresented(token: PresentedCredentials, deadline: RenewalDeadline = NO_DEADLINE): Promise<AuthenticatedSession | undefined> {
    const { userKey, sessionId: id, secretHash: presented } = token
    const key = recordKeys.session(userKey, id)
    const stored = readSessionRecord(await readShared(this.cache, key))
    if (stored === undefined) return undefined
    const now = this.now()
    const state = freshness(stored, now, this.timing)
    if (state === 'expired') return undefined
    if (presented === stored.previous && now < (stored.previousUntil ?? 0)) {
      // A request that left before its client had the new token: served, never renewed (the
      // token a renewal would issue belongs to the request that renewed).
      return { userKey, id, record: stored, graced: true }
    }
    if (presented !== stored.secret && presented !== stored.next) return undefined
    // The first request with a renewed token makes it the one in use.
    const current = presented === stored.next ? this.adopted(stored, now) : stored
    const found = { userKey, id, record: current, graced: false }
    if (state === 'renew' && deadline.roomToRenew()) return this.renew(found, stored)
    if (current === stored) return found
    return (await this.tryRewrite(key, stored, current)) ? found : { ...found, record: stored }
  }

  /**
   * Stores a new session in one atomic write, ending in it those it replaces: the user's session
   * from the same device (its id is the fingerprint's, so it is overwritten), the request's own
   * (`replacing`), and beyond `maxSessionsPerUser` the user's sessions idle longest. One round
   * trip, whatever the user's session count.
   */
  async create(session: NewSession): Promise<IssuedSession> {
    const now = this.now()
    const userKey = userKeyOf(session.userId)
    const secret = createSecret()
    const id = sessionIdOf(session.fingerprint)
    const record: SessionRecord = {
      userId: session.userId,
      fingerprint: session.fingerprint,
      createdAt: now,
      renewedAt: now,
      metadata: session.metadata,
      user: session.user,
      secret: hashSecret(secret),
    }
    const replaced = session.replacing !== undefined && session.replacing !== id ? [recordKeys.session(userKey, session.replacing)] : []
    await this.cache.batch(
      { put: [{ key: recordKeys.session(userKey, id), value: record }], delete: replaced },
      { ttlMs: this.timing.ttlMs, limit: { prefix: recordKeys.userSessions(userKey), max: this.maxSessionsPerUser }, ...waitFor(this.waits.logins) },
    )
    // With `writes: 'async'`, the next request (to any server) must still find it.
    await this.cache.flush()
    return { token: joinToken({ userKey, sessionId: id, secret }), userKey, id, record }
  }

  /** A user's live sessions, oldest first. */
  async devices(userId: KeyPart): Promise<StoredSession[]> {
    return this.stored(userKeyOf(userId))
  }

  /** Ends one session; resolves to whether it existed. */
  async revoke(userId: KeyPart, id: string): Promise<boolean> {
    const ended = await this.cache.delete(recordKeys.session(userKeyOf(userId), id), waitFor(this.waits.endings))
    await this.cache.flush()
    return ended
  }

  /**
   * Ends every session of a user, or every one but `exceptId`; resolves to how many ended. One
   * write per `REVOKE_BATCH` sessions, so that ending thousands never holds Redis for long.
   */
  async revokeAll(userId: KeyPart, exceptId?: string): Promise<number> {
    const userKey = userKeyOf(userId)
    const targets = (await this.stored(userKey)).filter((session) => session.id !== exceptId)
    for (let i = 0; i < targets.length; i += REVOKE_BATCH) {
      await this.cache.batch({ delete: targets.slice(i, i + REVOKE_BATCH).map((session) => recordKeys.session(userKey, session.id)) }, waitFor(this.waits.endings))
    }
    await this.cache.flush()
    return targets.length
  }

  /**
   * Puts a new copy of the user into every one of their sessions, each by compare-and-set (a
   * session renewed meanwhile is read again), so every server serves it on the next request.
   */
  async updateUser(userId: KeyPart, user: unknown): Promise<void> {
    const userKey = userKeyOf(userId)
    await Promise.all(
      (await this.stored(userKey)).map(async ({ id, record }) => {
        const key = recordKeys.session(userKey, id)
        for (let current: SessionRecord | undefined = record, attempt = 0; current && attempt < 3; attempt++) {
          if (await this.rewrite(key, current, { ...current, user })) return
          current = readSessionRecord(await this.cache.get(key))
        }
      }),
    )
  }

  /**
   * A renewal: a `next` secret for the session, by compare-and-set on the record as read
   * (`stored`). When the write loses (another server renewed first) or fails (Redis full or
   * gone), the request goes on with the token it came with, which still works.
   */
  private async renew(found: AuthenticatedSession, stored: SessionRecord): Promise<AuthenticatedSession> {
    const secret = createSecret()
    const renewed: SessionRecord = { ...found.record, renewedAt: this.now(), next: hashSecret(secret) }
    const key = recordKeys.session(found.userKey, found.id)
    if (!(await this.tryRewrite(key, stored, renewed))) return { ...found, record: stored }
    return { ...found, record: renewed, renewedToken: joinToken({ userKey: found.userKey, sessionId: found.id, secret }) }
  }

  /** The record once its `next` secret is in use; the one it replaces stays accepted for `rotationGraceMs`. */
  private adopted(stored: SessionRecord, now: number): SessionRecord {
    const { next, ...rest } = stored
    return { ...rest, secret: next as string, previous: stored.secret, previousUntil: now + this.timing.rotationGraceMs }
  }

  /** `rewrite`, where losing and a cache that refuses writes (full, or failing over) both mean "not now". */
  private async tryRewrite(key: KeyPart[], expected: SessionRecord, next: SessionRecord): Promise<boolean> {
    try {
      return await this.rewrite(key, expected, next)
    } catch (error) {
      if (isCacheError(error) && error.code !== 'UNDECODABLE_VALUE') return false
      throw error
    }
  }

  /** Replaces a record only if it is still exactly as read; it lives `ttlMs` from its renewal, never past its maximum age. */
  private async rewrite(key: KeyPart[], expected: SessionRecord, next: SessionRecord): Promise<boolean> {
    const ttlMs = Math.ceil(expiresAt(next, this.timing) - this.now())
    if (ttlMs <= 0) return false
    return this.cache.putIf(key, next, { ifValue: expected, ttlMs })
  }

  /** A user's sessions, oldest first, read from the index in one round trip; unreadable ones are skipped. */
  private async stored(userKey: string): Promise<StoredSession[]> {
    const now = this.now()
    const records = await this.cache.all(recordKeys.sessionsOf(userKey))
    return records
      .flatMap(({ key, value }) => {
        const record = readSessionRecord(value)
        return record && freshness(record, now, this.timing) !== 'expired' ? [{ id: sessionIdIn(key), record }] : []
      })
      .sort((a, b) => a.record.createdAt - b.record.createdAt || (a.id < b.id ? -1 : 1))
  }
}

/** A write's options for `wait`: none when undefined. */
function waitFor(wait: ReplicaWait | undefined): { waitForReplicas?: ReplicaWait } {
  return wait === undefined ? {} : { waitForReplicas: wait }
}
