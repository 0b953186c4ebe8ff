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
import type { EventEmitter } from 'node:events'
import type { Cache, ReplicaWait } from '../cache/cache'
import type { KeyPart } from '../cache/key'
import { NOT_IN_MEMORY, peekShared, readShared } from '../cache/shared-read'
import { isCacheError } from '../errors'
import type { ExpiryMarkers } from './expiry-markers'
import { middlewareOperations } from './middleware-stats'
import { readSessionRecord, recordKeys, sessionIdIn, type SessionRecord } from './records'
import { NO_DEADLINE, type RenewalDeadline } from './request-deadline'
import type { SessionEndReason, SessionsEvents } from './session-events'
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
  /** `recordKeys.session(userKey, sessionId)`, frozen: one array for every request of a token, so the cache places it once. */
  readonly sessionKey: readonly KeyPart[]
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

/**
 * What a presented secret opens of a record as read. With `stored`, the request is the session's
 * holder: a `found.record` other than `stored` must still be written (a renewed token's first
 * use), and `renew` says a renewal is due.
 */
interface Judgement {
  found: AuthenticatedSession | undefined
  stored?: SessionRecord
  renew?: boolean
}

const NOTHING: Judgement = Object.freeze({ found: undefined })

/** Sessions ended by one write of `revokeAll`. */
const REVOKE_BATCH = 1_000

export class CredentialsCache {
  /** The middleware's counters and tracing channel: its calls all come here. */
  readonly operations = middlewareOperations()

  constructor(
    private readonly cache: Cache,
    private readonly timing: SessionTiming,
    private readonly now: () => number,
    /** Most sessions a user keeps; a login beyond it ends the oldest. */
    private readonly maxSessionsPerUser: number,
    /** What endings and logins wait for before they resolve (`waitForReplicas`). */
    private readonly waits: { endings: ReplicaWait | undefined; logins: ReplicaWait | undefined } = {
      endings: undefined,
      logins: undefined,
    },
    /** Where `created`, `renewed` and `ended` go. */
    private readonly events?: EventEmitter<SessionsEvents>,
    /** Where a login, while someone listens for `ended`, marks when its session falls due (cache permitting). */
    private readonly markers?: ExpiryMarkers,
  ) {}

  /**
   * The session a token opens, renewed when due. One read; one more write only when the request
   * renews the session or is the first to present a renewed token. `deadline`: the request's,
   * so a renewal whose token could not reach the client does not start.
   */
  async authenticate(token: string, deadline: RenewalDeadline = NO_DEADLINE): Promise<AuthenticatedSession | undefined> {
    const parts = splitToken(token)
    if (parts === undefined) return undefined
    return this.authenticatePresented(
      {
        userKey: parts.userKey,
        sessionId: parts.sessionId,
        secretHash: hashSecret(parts.secret),
        sessionKey: Object.freeze(recordKeys.session(parts.userKey, parts.sessionId)),
      },
      deadline,
    )
  }

  /** `authenticate`, for a token already taken apart and its secret hashed (see verified-tokens.ts). */
  async authenticatePresented(
    token: PresentedCredentials,
    deadline: RenewalDeadline = NO_DEADLINE,
  ): Promise<AuthenticatedSession | undefined> {
    const { found, stored, renew } = this.judge(token, await readShared(this.cache, token.sessionKey))
    if (found === undefined || stored === undefined) return found
    if (renew && deadline.roomToRenew()) return this.operations.run('renew', () => this.renew(found, stored))
    if (found.record === stored) return found
    return (await this.tryRewrite(token.sessionKey, stored, found.record)) ? found : { ...found, record: stored }
  }

  /**
   * `authenticatePresented` answered from this process's memory, at once, or `NOT_IN_MEMORY` when
   * it cannot be: the record is not a decoded near-cache copy, the request has something to write
   * (a renewal, a renewed token's first use), or someone traces the middleware. Counted as an
   * `authenticate` only when answered. For a request that has waited a turn of the event loop
   * since it arrived, so that the invalidations Redis sent meanwhile have been read (see
   * in-memory-hits.ts).
   */
  authenticateInMemory(token: PresentedCredentials): AuthenticatedSession | undefined | typeof NOT_IN_MEMORY {
    if (this.operations.listened) return NOT_IN_MEMORY
    const value = peekShared(this.cache, token.sessionKey)
    if (value === NOT_IN_MEMORY) return NOT_IN_MEMORY
    const { found, stored, renew } = this.judge(token, value)
    if (stored !== undefined && (renew || found?.record !== stored)) return NOT_IN_MEMORY
    this.operations.counts.authenticate++
    return found
  }

  /** What a token's secret opens of the record as read, and what remains to be written for it: pure. */
  private judge(token: PresentedCredentials, value: unknown): Judgement {
    const { userKey, sessionId: id, secretHash: presented } = token
    const stored = readSessionRecord(value)
    if (stored === undefined) return NOTHING
    const now = this.now()
    const state = freshness(stored, now, this.timing)
    if (state === 'expired') return NOTHING
    if (presented === stored.previous && now < (stored.previousUntil ?? 0)) {
      // A request that left before its client had the new token: served, never renewed (the
      // token a renewal would issue belongs to the request that renewed).
      return { found: { userKey, id, record: stored, graced: true } }
    }
    if (presented !== stored.secret && presented !== stored.next) return NOTHING
    // The first request with a renewed token makes it the one in use.
    const current = presented === stored.next ? this.adopted(stored, now) : stored
    return { found: { userKey, id, record: current, graced: false }, stored, renew: state === 'renew' }
  }

  /**
   * Stores a new session in one atomic write, ending in it those it replaces: the user's session
   * from the same device (its id is the fingerprint's, so it is overwritten), the request's own
   * (`replacing`), and beyond `maxSessionsPerUser` the user's sessions idle longest. One round
   * trip, whatever the user's session count; while someone listens for `ended`, three more (the
   * user's sessions before and after, to tell which ended, and the session's expiry marker).
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
    // Only for an `ended` listener: which sessions the user had, to tell which `maxSessionsPerUser` ends.
    const before = this.listening('ended') ? await this.ids(userKey) : undefined
    await this.cache.batch(
      { put: [{ key: recordKeys.session(userKey, id), value: record }], delete: replaced },
      {
        ttlMs: this.timing.ttlMs,
        limit: { prefix: recordKeys.userSessions(userKey), max: this.maxSessionsPerUser },
        ...waitFor(this.waits.logins),
      },
    )
    // With `writes: 'async'`, the next request (to any server) must still find it.
    await this.cache.settled()
    if (before !== undefined && this.markers !== undefined) await this.markers.mark(session.userId, id, this.timing.ttlMs)
    // The same device's session, overwritten: it ends, and a new one (with the same id) begins.
    if (before?.includes(id)) this.emitEnded(id, session.userId, 'replaced')
    if (this.listening('created'))
      this.events?.emit('created', { sessionId: id, userId: session.userId, at: now, expiresAt: expiresAt(record, this.timing) })
    // Only if it was there: one another server ended meanwhile has had its event there.
    if (replaced.length > 0 && before?.includes(session.replacing as string))
      this.emitEnded(session.replacing as string, session.userId, 'replaced')
    if (before !== undefined && before.filter((other) => other !== id && other !== session.replacing).length >= this.maxSessionsPerUser) {
      const after = new Set(await this.ids(userKey))
      for (const other of before)
        if (!after.has(other) && other !== id && other !== session.replacing) this.emitEnded(other, session.userId, 'evicted')
    }
    return { token: joinToken({ userKey, sessionId: id, secret }), userKey, id, record }
  }

  /** A user's live sessions, oldest first. */
  async devices(userId: KeyPart): Promise<StoredSession[]> {
    return this.stored(userKeyOf(userId))
  }

  /** Ends one session; resolves to whether it existed. */
  async revoke(userId: KeyPart, id: string, reason: SessionEndReason = 'revoked'): Promise<boolean> {
    const ended = await this.cache.delete(recordKeys.session(userKeyOf(userId), id), waitFor(this.waits.endings))
    await this.cache.settled()
    if (ended) this.emitEnded(id, userId, reason)
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
      await this.cache.batch(
        { delete: targets.slice(i, i + REVOKE_BATCH).map((session) => recordKeys.session(userKey, session.id)) },
        waitFor(this.waits.endings),
      )
    }
    await this.cache.settled()
    for (const session of targets) this.emitEnded(session.id, userId, 'revoked')
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
    if (this.listening('renewed'))
      this.events?.emit('renewed', {
        sessionId: found.id,
        userId: renewed.userId,
        at: renewed.renewedAt,
        expiresAt: expiresAt(renewed, this.timing),
      })
    return { ...found, record: renewed, renewedToken: joinToken({ userKey: found.userKey, sessionId: found.id, secret }) }
  }

  /** The record once its `next` secret is in use; the one it replaces stays accepted for `rotationGraceMs`. */
  private adopted(stored: SessionRecord, now: number): SessionRecord {
    const { next, ...rest } = stored
    return { ...rest, secret: next as string, previous: stored.secret, previousUntil: now + this.timing.rotationGraceMs }
  }

  private listening(event: keyof SessionsEvents): boolean {
    return (this.events?.listenerCount(event) ?? 0) > 0
  }

  private emitEnded(sessionId: string, userId: KeyPart, reason: SessionEndReason): void {
    if (this.listening('ended')) this.events?.emit('ended', { sessionId, userId, at: this.now(), reason })
  }

  /** `rewrite`, where losing and a cache that refuses writes (full, or failing over) both mean "not now". */
  private async tryRewrite(key: readonly KeyPart[], expected: SessionRecord, next: SessionRecord): Promise<boolean> {
    try {
      return await this.rewrite(key, expected, next)
    } catch (error) {
      if (isCacheError(error) && error.code !== 'UNDECODABLE_VALUE' && error.code !== 'UNSERIALIZABLE_VALUE') return false
      throw error
    }
  }

  /** Replaces a record only if it is still exactly as read; it lives `ttlMs` from its renewal, never past its maximum age. */
  private async rewrite(key: readonly KeyPart[], expected: SessionRecord, next: SessionRecord): Promise<boolean> {
    const ttlMs = Math.ceil(expiresAt(next, this.timing) - this.now())
    if (ttlMs <= 0) return false
    return this.cache.putIf(key, next, { ifValue: expected, ttlMs })
  }

  /** The ids of a user's live sessions, from the index alone. */
  private async ids(userKey: string): Promise<string[]> {
    return (await this.cache.keys(recordKeys.sessionsOf(userKey))).map(sessionIdIn)
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
