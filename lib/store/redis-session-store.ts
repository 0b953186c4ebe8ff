/**
 * An express-session Store on the cache: a drop-in for connect-redis (same options, same
 * methods, callbacks or promises) that also lists and destroys a user's sessions, skips
 * needless touches, keeps destroyed sessions destroyed, moves connect-redis's sessions over on
 * first access, and fails fast while Redis is away. Key layout: see session-keys.ts.
 */
import type { Request } from 'express'
import { Store, type Session, type SessionData } from 'express-session'
import type { Cache } from '../cache/cache'
import { isExpiryQueue, type ExpiryQueue } from '../cache/expiry-queue'
import { ExpirySweeper } from '../cache/expiry-sweeper'
import { RedisCache } from '../cache/redis-cache'
import { parseError, serializeError, textSerializer } from '../cache/serializer'
import { canPeekShared, NOT_IN_MEMORY, peekSharedTimed } from '../cache/shared-read'
import { InMemoryHits } from '../shared/in-memory-hits'
import { withDeadline } from '../shared/deadline'
import { DEFAULT_STORE_TTL_SECONDS, EXPIRY_HOLD_MARGIN_MS, STORE_PROBE_INTERVAL_MS } from '../defaults'
import { UsageError } from '../errors'
import { arrivedOverHttp, warnInsecureRequest } from '../shared/insecure-request'
import { settle, unlessAnswered, type StoreCallback } from './callback'
import { ExpiredSessions, type ExpiredStoreSession } from './expired-sessions'
import { LegacySessions } from './legacy-sessions'
import { Readiness } from './readiness'
import { PROBE_KEY, SESSIONS_PREFIX, STORE_TAG_DEPTH, sessionKey, storedIdOf } from './session-keys'
import type { RedisSessionStoreEvents, StoreEndReason } from './store-events'
import { SessionRecords, type StoredSessionText } from './session-records'
import { secondsToMs, sessionTtlMs, touchIsFresh } from './session-ttl'
import { readCreatedAt, withCreatedAt } from './created-at'
import { SessionMarks } from './session-marks'
import { storeOperations, type StoreStats } from './store-stats'
import { hashedUserId, plainId, rememberedHashedIds } from './stored-id'
import { resolveStoreOptions, type RedisSessionStoreOptions, type ResolvedStoreOptions, type SessionSerializer } from './store-options'
import { assignedBoolean, assignedSerializer, assignedTtl, fixedFieldError, scanCountOf } from './connect-redis-fields'
import type { RedisClient } from '../cache/redis-connection'
import type { TtlOption } from './session-ttl'
import { DEFAULT_STORE_PREFIX } from '../defaults'

/** A session as `all()` returns it, with its `id` as stored (a hash of the session id, unless `hashIds: false`). */
export type SessionWithId = SessionData & { id: string }

/** One of a user's sessions, as `listUserSessions()` returns it. */
export interface UserSession {
  /** The session's id as stored: a hash of its express-session id, unless `hashIds: false`. */
  id: string
  session: SessionData
  /** When the stored session expires, in ms since the epoch, as the middleware's times are (as last written; `touchAfterMs` may let it lag a little). */
  expiresAt: number
}

interface LoadedSession extends StoredSessionText {
  session: SessionData
  /** When it was first saved (only with `absoluteTtlMs`). */
  createdAtMs?: number | undefined
}

/** A `get` waiting for the next turn, to be answered from the near-cache (in-memory-hits.ts). */
interface MemoryRead {
  sid: string
  resolve: (session: SessionData | null) => void
  reject: (error: unknown) => void
}

/** What a call with nothing to do resolves to. */
const DONE: Promise<void> = Promise.resolve()
/** Records handled at once by `clear()` and `destroyUserSessions()`; each batch gets `timeoutMs`. */
const BATCH_SIZE = 100
/** With no `touchAfterMs` given, a touch writes once this share of the TTL has passed since the last write, */
const DEFAULT_TOUCH_SHARE = 0.1
/** and at least once a minute. */
const DEFAULT_TOUCH_AFTER_MAX_MS = 60_000

/** The store's own events, typed (express-session's `connect` and `disconnect` are typed as any EventEmitter event). */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-declaration-merging -- typed overloads over EventEmitter's own */
export interface RedisSessionStore {
  on<E extends keyof RedisSessionStoreEvents>(event: E, listener: (...args: RedisSessionStoreEvents[E]) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once<E extends keyof RedisSessionStoreEvents>(event: E, listener: (...args: RedisSessionStoreEvents[E]) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
  off<E extends keyof RedisSessionStoreEvents>(event: E, listener: (...args: RedisSessionStoreEvents[E]) => void): this
  off(event: string | symbol, listener: (...args: any[]) => void): this
  emit<E extends keyof RedisSessionStoreEvents>(event: E, ...args: RedisSessionStoreEvents[E]): boolean
  emit(event: string | symbol, ...args: any[]): boolean
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export class RedisSessionStore extends Store {
  /** Where the sessions are kept: the cache given, or the RedisCache built on `client`. */
  readonly cache: Cache
  private readonly options: ResolvedStoreOptions
  private readonly records: SessionRecords
  /** Built on `client` by this store (so `close()` closes it), rather than given. */
  private readonly ownCache: RedisCache<string> | undefined
  private readonly legacy: LegacySessions | undefined
  private readonly readiness: Readiness | undefined
  private readonly storedIdOf: (sid: string) => string
  /** The stored expiry of each session object this store handed out or saved, so a touch can skip without a read, and a save knows a new session. */
  private readonly loadedExpiry = new SessionMarks()
  /** When each session object this store handed out or saved was first saved (`absoluteTtlMs` counts from there). */
  private readonly loadedCreatedAt = new SessionMarks()
  /** With `userOf`: whose each session object this store handed out was, so a save that changes it drops the old user's entry. */
  private readonly loadedUser = new SessionMarks<string>()
  /** The touch in flight for each session id, so concurrent requests of one session write it once. */
  private readonly touching = new Map<string, Promise<void>>()
  /** connect-redis's `prefix` and `scanCount` as given (see the connect-redis fields below). */
  private readonly given: { prefix: string | undefined; scanCount: number }
  private readonly operations = storeOperations()
  /** Claims expired sessions for `ended` events while there is an `ended` listener; undefined on a cache that cannot. */
  private readonly expirySweeper: ExpirySweeper<ExpiredStoreSession> | undefined
  /** Reads a near-cache can answer: taken from memory a turn later, with one promise and no deadline. */
  private readonly memoryReads: InMemoryHits<MemoryRead> | undefined

  constructor(options: RedisSessionStoreOptions) {
    super()
    this.options = resolveStoreOptions(options)
    const { client, cache, namespace, legacyPrefix, nearCache, breaker, timeoutMs, whenUnavailable, tombstoneTtlMs, hashIds, endingsWait } =
      this.options
    this.ownCache =
      cache === undefined
        ? new RedisCache<string>({
            // resolveStoreOptions guarantees one of the two.
            client: client as NonNullable<typeof client>,
            namespace,
            // Every write passes its own TTL; this one only satisfies the cache.
            ttlMs: secondsToMs(DEFAULT_STORE_TTL_SECONDS),
            tagDepth: STORE_TAG_DEPTH,
            commandTimeoutMs: timeoutMs,
            serializer: textSerializer,
            ...(nearCache === undefined ? {} : { nearCache }),
            ...(breaker === undefined ? {} : { breaker }),
          })
        : undefined
    this.cache = cache ?? (this.ownCache as RedisCache<string>)
    this.records = new SessionRecords(this.cache as Cache<string>, tombstoneTtlMs, endingsWait)
    this.memoryReads = canPeekShared(this.cache)
      ? new InMemoryHits<MemoryRead>(
          (read) => this.answerFromMemory(read),
          (read, error) => read.reject(error),
        )
      : undefined
    this.storedIdOf = hashIds ? rememberedHashedIds() : plainId
    this.legacy = client !== undefined && legacyPrefix !== undefined ? new LegacySessions(client, legacyPrefix, timeoutMs) : undefined
    this.readiness = whenUnavailable === 'skip' ? new Readiness(this, () => this.cache.get(PROBE_KEY), STORE_PROBE_INTERVAL_MS) : undefined
    this.given = {
      prefix: cache === undefined ? ((options as { prefix?: string }).prefix ?? DEFAULT_STORE_PREFIX) : undefined,
      scanCount: scanCountOf(options),
    }
    const { expirySweepMs, userOf, hashUserIds } = this.options
    const expiredSessions = isExpiryQueue(this.cache)
      ? new ExpiredSessions(
          this.cache as Cache<string> & ExpiryQueue,
          userOf !== undefined && !hashUserIds,
          expirySweepMs + EXPIRY_HOLD_MARGIN_MS,
          async (storedId) => {
            const loaded = await this.read(storedId)
            return loaded && { expiresAtMs: loaded.expiresAtMs, userId: this.userIdOf(loaded.session) }
          },
        )
      : undefined
    const sweeper = expiredSessions && new ExpirySweeper(expiredSessions, SESSIONS_PREFIX, expirySweepMs, (record) => this.expired(record))
    this.expirySweeper = sweeper
    if (sweeper !== undefined) {
      // Sweeps cost Redis work: they run only while someone listens.
      this.on('newListener', (event: string) => event === 'ended' && sweeper.start())
      this.on('removeListener', (event: string) => event === 'ended' && this.listenerCount('ended') === 0 && sweeper.stop())
    }
  }

  /** Calls of each method, and the stats of the cache (plain counters: cheap to read on every scrape). */
  stats(): StoreStats {
    return { operations: this.operations.snapshot(), cache: this.cache.stats?.() }
  }

  // connect-redis's public fields, with its meanings and defaults (see connect-redis-fields.ts).
  // Those it reads on every call can be assigned later, and are checked as the options are; the
  // others throw a TypeError that says why (their setters take `never`, so TypeScript refuses
  // the assignment too).

  /** The node-redis client given as `client`; undefined for a store built on `cache`. */
  get client(): RedisClient | undefined {
    return this.options.client
  }
  set client(_value: never) {
    throw fixedFieldError('client')
  }

  /** The `prefix` given (`'sess:'` by default): every key the store writes starts with it. Undefined for a store built on `cache`. */
  get prefix(): string | undefined {
    return this.given.prefix
  }
  set prefix(_value: never) {
    throw fixedFieldError('prefix')
  }

  /** connect-redis's SCAN page size (`scanCount`, 100 by default), reported as given: this store never SCANs. */
  get scanCount(): number {
    return this.given.scanCount
  }
  set scanCount(_value: never) {
    throw fixedFieldError('scanCount')
  }

  /** The `ttl` option; an assignment applies from the next call on. */
  get ttl(): TtlOption {
    return this.options.ttl
  }
  set ttl(value: TtlOption) {
    this.options.ttl = assignedTtl(value)
  }

  /** The `serializer` option; an assignment applies from the next call on. */
  get serializer(): SessionSerializer {
    return this.options.serializer
  }
  set serializer(value: SessionSerializer) {
    this.options.serializer = assignedSerializer(value)
  }

  /** The `disableTTL` option; an assignment applies from the next call on. */
  get disableTTL(): boolean {
    return this.options.disableTTL
  }
  set disableTTL(value: boolean) {
    this.options.disableTTL = assignedBoolean(value, 'disableTTL')
  }

  /** The `disableTouch` option; an assignment applies from the next call on. */
  get disableTouch(): boolean {
    return this.options.disableTouch
  }
  set disableTouch(value: boolean) {
    this.options.disableTouch = assignedBoolean(value, 'disableTouch')
  }

  // express-session's Store declares these methods `void` and always passes a callback. They
  // return a promise either way, as connect-redis's do: without a callback it carries the result;
  // with one it settles once the callback has run, and never rejects (see callback.ts).
  /* eslint-disable @typescript-eslint/no-misused-promises */

  /** The session stored under `sid`, or `null`. With `legacyPrefix`, a connect-redis session is moved in first. */
  override get(sid: string): Promise<SessionData | null>
  override get(sid: string, callback: StoreCallback<SessionData | null>): Promise<void>
  override get(sid: string, callback?: StoreCallback<SessionData | null>): Promise<SessionData | null> | Promise<void> {
    const memoryReads = this.memoryReads
    // express-session reads on every request: with a near-cache, from memory when it can (a
    // traced call takes the full path, so that it has its events). The callback still runs in a
    // promise reaction, as after a read from Redis: express-session's response, written partly
    // before its touch and finished after, then leaves in one write.
    if (memoryReads !== undefined && !this.operations.listened) {
      this.operations.counts.get++
      return settle(new Promise<SessionData | null>((resolve, reject) => memoryReads.add({ sid, resolve, reject })), callback)
    }
    return settle(this.fetchBounded(sid), callback)
  }

  /**
   * Stores the session for its TTL. A TTL of 0 or less deletes it instead, leaving no tombstone
   * (so a later save of the id is stored). Does nothing to a destroyed session.
   */
  override set(sid: string, session: SessionData): Promise<void>
  override set(sid: string, session: SessionData, callback: StoreCallback<void>): Promise<void>
  override set(sid: string, session: SessionData, callback?: StoreCallback<void>): Promise<void> {
    warnIfCookieWithheld(session)
    return settle(
      this.operations.run('set', () => this.bounded('set', () => this.save(sid, session))),
      unlessAnswered(callback, session, (error) => this.failedAfterResponse(error, 'set')),
    )
  }

  /**
   * Renews the session's TTL without resending it (one small script), unless `touchAfterMs` says
   * the stored expiry is recent enough. Never brings back a session that ended.
   */
  override touch(sid: string, session: SessionData): Promise<void>
  override touch(sid: string, session: SessionData, callback: StoreCallback<void>): Promise<void>
  override touch(sid: string, session: SessionData, callback?: StoreCallback<void>): Promise<void> {
    // express-session touches on every request: no closure unless someone listens.
    const touched = this.operations.counted('touch')
      ? this.operations.trace('touch', () => this.refresh(sid, session))
      : this.refresh(sid, session)
    return settle(
      touched,
      unlessAnswered(callback, session, (error) => this.failedAfterResponse(error, 'touch')),
    )
  }

  /** Deletes the session and, for `tombstoneTtlMs`, blocks late writes of it. An unknown id writes nothing. */
  override destroy(sid: string): Promise<void>
  override destroy(sid: string, callback: StoreCallback<void>): Promise<void>
  override destroy(sid: string, callback?: StoreCallback<void>): Promise<void> {
    return settle(
      this.operations.run('destroy', () => this.bounded('destroy', () => this.end(this.storedIdOf(sid), true, sid))),
      callback,
    )
  }

  /** Every live session, each with its stored `id`, read from the index (no SCAN). */
  override all(): Promise<SessionWithId[]>
  override all(callback: StoreCallback<SessionWithId[]>): Promise<void>
  override all(callback?: StoreCallback<SessionWithId[]>): Promise<SessionWithId[]> | Promise<void> {
    return settle(
      this.operations.run('all', () => this.bounded('all', () => this.list())),
      callback,
    )
  }

  /** How many live sessions there are: one counter per bucket, summed in Redis (no SCAN). */
  override length(): Promise<number>
  override length(callback: StoreCallback<number>): Promise<void>
  override length(callback?: StoreCallback<number>): Promise<number> | Promise<void> {
    return settle(
      this.operations.run('length', () => this.bounded('length', () => this.records.count())),
      callback,
    )
  }

  /** The stored ids of every live session, from the index (no SCAN): hashes, unless `hashIds: false`. */
  ids(): Promise<string[]>
  ids(callback: StoreCallback<string[]>): Promise<void>
  ids(callback?: StoreCallback<string[]>): Promise<string[]> | Promise<void> {
    return settle(
      this.operations.run('ids', () => this.bounded('ids', () => this.records.ids())),
      callback,
    )
  }

  /** Destroys every session (with tombstones) and the per-user index. */
  override clear(): Promise<void>
  override clear(callback: StoreCallback<void>): Promise<void>
  override clear(callback?: StoreCallback<void>): Promise<void> {
    return settle(
      this.operations.run('clear', () => this.removeAll()),
      callback,
    )
  }

  /* eslint-enable @typescript-eslint/no-misused-promises */

  /** The live sessions of one user (needs `userOf`): one index read, then one read per session. */
  listUserSessions(userId: string | number): Promise<UserSession[]> {
    return this.operations.run('listUserSessions', async () => {
      const id = this.requireUserIndex('listUserSessions', userId)
      return this.bounded('listUserSessions', () => this.sessionsOf(id))
    })
  }

  /**
   * Destroys one of a user's sessions, by the `id` `listUserSessions()` reported ("sign out that
   * device"; needs `userOf`), with a tombstone as `destroy` leaves. Only if that session is the
   * user's: an id that came back from a form is not trusted. Resolves to whether it was.
   */
  destroyUserSession(userId: string | number, id: string): Promise<boolean> {
    return this.operations.run('destroyUserSession', async () => {
      const user = this.requireUserIndex('destroyUserSession', userId)
      return this.bounded('destroyUserSession', async () => {
        if (typeof id !== 'string' || (await this.sessionOf(user, id)) === undefined) return false
        if (await this.records.remove(id, user, true)) this.ended(id, toUserId(userId), 'revoked')
        return true
      })
    })
  }

  /**
   * The id the session `sid` (express-session's `req.sessionID`) is stored under: what `ids()`,
   * `all()` and `listUserSessions()` report for it. A hash of `sid`, unless `hashIds: false`.
   * Compare it with a listed id to tell the current session from the others.
   */
  storedId(sid: string): string {
    return this.storedIdOf(sid)
  }

  /** Destroys every session of one user ("sign out everywhere"; needs `userOf`); resolves to how many. */
  destroyUserSessions(userId: string | number): Promise<number> {
    return this.operations.run('destroyUserSessions', async () => {
      const id = this.requireUserIndex('destroyUserSessions', userId)
      const storedIds = await this.bounded('destroyUserSessions', () => this.records.idsOfUser(id))
      let destroyed = 0
      // Each batch reads its sessions (to skip one that is someone else's now) and ends them, within one bound.
      await this.inBatches('destroyUserSessions', storedIds, async (storedId) => {
        if ((await this.sessionOf(id, storedId)) === undefined) return
        if (await this.records.remove(storedId, id, true)) this.ended(storedId, toUserId(userId), 'revoked')
        destroyed++
      })
      return destroyed
    })
  }

  /**
   * Stops probing Redis for readiness (`whenUnavailable: 'skip'`) and sweeping for expired
   * sessions, and, when the store built its cache on `client`, closes that cache. The client and
   * a cache given as `cache` stay open: they are the app's. The store is not meant to be used
   * afterwards.
   */
  async close(): Promise<void> {
    this.readiness?.stop()
    this.expirySweeper?.stop()
    await this.ownCache?.close()
  }

  /**
   * A save or touch that failed after express-session had started the response: no request is
   * left to answer, so it is emitted as `failedAfterResponse` (for the app's logs) instead.
   */
  private failedAfterResponse(error: unknown, operation: 'set' | 'touch'): void {
    this.emit('failedAfterResponse', error, operation)
  }

  /** express-session builds each request's Session here; the stored expiry follows it, for `touchAfterMs`. */
  override createSession(req: Request, session: SessionData): Session & SessionData {
    const expiresAtMs = this.loadedExpiry.get(session)
    const createdAtMs = this.loadedCreatedAt.get(session)
    const userId = this.loadedUser.get(session)
    const created = super.createSession(req, session)
    if (expiresAtMs !== undefined) this.loadedExpiry.set(created, expiresAtMs)
    if (createdAtMs !== undefined) this.loadedCreatedAt.set(created, createdAtMs)
    if (userId !== undefined) this.loadedUser.set(created, userId)
    return created
  }

  /** Every call, or each batch of one: bounded by `timeoutMs`, and watched for outages when `whenUnavailable` is 'skip'. */
  private bounded<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const done = withDeadline(work(), this.options.timeoutMs, `store.${operation}`)
    const readiness = this.readiness
    if (readiness === undefined) return done
    return done.catch((error: unknown) => {
      readiness.failed(error)
      throw error
    })
  }

  /** `get`'s full path: counted (traced when someone listens) and bounded by `timeoutMs`. */
  private fetchBounded(sid: string): Promise<SessionData | null> {
    return this.operations.run('get', () => this.bounded('get', () => this.fetch(sid)))
  }

  private async fetch(sid: string): Promise<SessionData | null> {
    const storedId = this.storedIdOf(sid)
    return this.handedOut((await this.read(storedId)) ?? (await this.migrate(sid, storedId)))
  }

  /**
   * A `get` on its turn (memoryReads): a session whose near-cache copy is still there is
   * answered from it (an async serializer's parse within `timeoutMs`); anything else (no copy,
   * invalidated meanwhile) takes `get`'s full path, not counted twice. A miss has waited that
   * turn before its read goes to Redis, as the token middleware's do.
   */
  private answerFromMemory(read: MemoryRead): void {
    const storedId = this.storedIdOf(read.sid)
    const found = peekSharedTimed(this.cache as Cache<string>, sessionKey(storedId))
    if (found === NOT_IN_MEMORY) return this.answerBounded(read, () => this.fetch(read.sid))
    const loaded = this.loaded(storedId, found.value, found.expiresAtMs)
    if (!isThenable(loaded)) return read.resolve(this.handedOut(loaded))
    this.answerBounded(read, () => loaded.then((session) => this.handedOut(session)))
  }

  private answerBounded(read: MemoryRead, work: () => Promise<SessionData | null>): void {
    this.bounded('get', work).then(read.resolve, read.reject)
  }

  /** What `get` gives for a loaded session, marked with what later saves and touches of it need. */
  private handedOut(loaded: LoadedSession | undefined): SessionData | null {
    if (loaded === undefined) return null
    if (typeof loaded.session === 'object' && loaded.session !== null) {
      this.loadedExpiry.set(loaded.session, loaded.expiresAtMs)
      if (loaded.createdAtMs !== undefined) this.loadedCreatedAt.set(loaded.session, loaded.createdAtMs)
      if (this.options.userOf !== undefined) this.loadedUser.set(loaded.session, this.userIdAtLoad(loaded.session))
    }
    return loaded.session
  }

  /** The stored session, unless its absolute lifetime (`absoluteTtlMs`) is over. */
  private async read(storedId: string): Promise<LoadedSession | undefined> {
    const stored = await this.records.read(storedId)
    return stored && this.loaded(storedId, stored.text, stored.expiresAtMs)
  }

  /** A stored session's text, parsed (at once, unless the serializer is async), unless its absolute lifetime is over. */
  private loaded(storedId: string, stored: string, expiresAtMs: number): LoadedSession | undefined | Promise<LoadedSession> {
    const { createdAtMs, text } = readCreatedAt(stored)
    if (this.lifetimeOver(createdAtMs)) return undefined
    const parsed = this.parseNow(storedId, text)
    return isThenable(parsed)
      ? Promise.resolve(parsed).then((session) => ({ text, expiresAtMs, createdAtMs, session }))
      : { text, expiresAtMs, createdAtMs, session: parsed }
  }

  /** A session connect-redis wrote: stored in the new layout first, then its old key removed. */
  private async migrate(sid: string, storedId: string): Promise<LoadedSession | undefined> {
    if (this.legacy === undefined) return undefined
    const legacy = await this.legacy.read(sid)
    // Not there either: another server may have moved it between the two reads (it writes the
    // new place before it removes the old one), so look again.
    if (legacy === undefined) return this.read(storedId)
    const session = await this.parse(storedId, legacy.text)
    const now = this.options.now()
    // What is left of its connect-redis TTL; a key without one (its disableTTL) gets ours.
    const ttlMs = legacy.ttlMs ?? this.ttlOf(session, now)
    // Only into an empty place: a server that moved it first may have saved a newer version since.
    const moved =
      ttlMs > 0 &&
      (await this.records.write(storedId, this.stamped(legacy.text, now), ttlMs, this.userIdOf(session), { onlyIfAbsent: true }))
    await this.legacy.remove(sid)
    if (moved) return { text: legacy.text, expiresAtMs: now + ttlMs, session }
    // Someone else's move (and maybe save) won, or a destroy did: what is there now is the answer.
    return ttlMs > 0 ? this.read(storedId) : undefined
  }

  private async save(sid: string, session: SessionData): Promise<void> {
    const storedId = this.storedIdOf(sid)
    const now = this.options.now()
    const createdAtMs = this.loadedCreatedAt.get(session) ?? now
    const ttlMs = this.ttlOf(session, now, createdAtMs)
    // Over, not destroyed: no tombstone, or a later save of this id (a login) would be dropped.
    if (ttlMs <= 0) return this.end(storedId, false, sid)
    const appUserId = this.appUserIdOf(session)
    const userId = appUserId === undefined ? undefined : this.userKey(appUserId)
    // A session this store never handed out is a new one (a login).
    const isNew = !this.loadedExpiry.has(session)
    const wait = isNew ? this.options.loginsWait : undefined
    const written = await this.records.write(storedId, this.stamped(await this.stringify(storedId, session), createdAtMs), ttlMs, userId, {
      wait,
    })
    // The user changed (or left): the old user's entry goes, so that neither their listing nor
    // the session's expiry event names them. A failure in between leaves it to expire.
    const before = this.loadedUser.get(session)
    if (written && before !== undefined && before !== userId) await this.records.forgetEntry(before, storedId)
    // Saved, the object is as if handed out: no longer new. express-session saves a regenerated
    // session twice (the app's save, then its own at the end of the response): one login, created at the first.
    if (written) {
      this.loadedExpiry.set(session, now + ttlMs)
      this.loadedCreatedAt.set(session, createdAtMs)
      if (this.options.userOf !== undefined) this.loadedUser.set(session, userId)
    }
    if (written && isNew && this.listenerCount('created') > 0) {
      this.emit('created', { sessionId: storedId, userId: appUserId, at: now, expiresAt: now + ttlMs })
    }
    // Only a login can make a user's count grow.
    if (userId !== undefined && this.options.maxSessionsPerUser > 0 && isNew) await this.enforceLimit(userId, appUserId, storedId)
  }

  /** Destroys the user's sessions idle longest beyond `maxSessionsPerUser`, keeping `keep` (the one just saved). */
  private async enforceLimit(userId: string, appUserId: string | undefined, keep: string): Promise<void> {
    const others = (await this.records.entriesOfUser(userId)).filter((entry) => entry.storedId !== keep)
    const excess = others.length + 1 - this.options.maxSessionsPerUser
    if (excess <= 0) return
    await Promise.all(
      others.slice(0, excess).map(async (entry) => {
        if (await this.records.remove(entry.storedId, userId, true)) this.ended(entry.storedId, appUserId, 'evicted')
      }),
    )
  }

  /** Emits `ended` for a session this process ended (the sweep emits `expired` ones). */
  private ended(sessionId: string, userId: string | undefined, reason: StoreEndReason): void {
    if (this.listenerCount('ended') > 0) this.emit('ended', { sessionId, userId, at: this.options.now(), reason })
  }

  /** A session the sweep claimed, with the user its entry named (expired-sessions.ts). */
  private expired({ key, expiresAtMs, userId }: ExpiredStoreSession): void {
    this.emit('ended', { sessionId: storedIdOf(key), userId, at: expiresAtMs, reason: 'expired' })
  }

  /** With `absoluteTtlMs`: whether a session first saved at `createdAtMs` has lived its time. */
  private lifetimeOver(createdAtMs: number | undefined): boolean {
    const { absoluteTtlMs } = this.options
    return absoluteTtlMs > 0 && createdAtMs !== undefined && createdAtMs + absoluteTtlMs <= this.options.now()
  }

  /** The text to store: with `absoluteTtlMs`, behind the time of the session's first save. */
  private stamped(text: string, createdAtMs: number): string {
    return this.options.absoluteTtlMs > 0 ? withCreatedAt(createdAtMs, text) : text
  }

  /**
   * Most touches have nothing to write (`touchAfterMs`): that is decided here, at once, without a
   * deadline to arm or a promise chain of its own (express-session touches on every request).
   * Only a write, or the delete of a session whose time is up, goes to Redis, bounded.
   */
  private refresh(sid: string, session: SessionData): Promise<void> {
    const { disableTouch, disableTTL } = this.options
    if (disableTouch || disableTTL) return DONE
    const now = this.options.now()
    let ttlMs: number
    try {
      ttlMs = this.ttlOf(session, now, this.loadedCreatedAt.get(session))
    } catch (error) {
      return Promise.reject(error)
    }
    if (ttlMs <= 0) return this.bounded('touch', () => this.end(this.storedIdOf(sid), false, sid))
    const expiresAtMs = now + ttlMs
    const known = this.loadedExpiry.get(session)
    const touchAfterMs = this.options.touchAfterMs ?? Math.min(DEFAULT_TOUCH_AFTER_MAX_MS, ttlMs * DEFAULT_TOUCH_SHARE)
    if (known !== undefined && touchIsFresh(known, expiresAtMs, touchAfterMs)) return DONE
    const storedId = this.storedIdOf(sid)
    return this.bounded('touch', () => this.touchOnce(storedId, session, ttlMs, expiresAtMs))
  }

  /**
   * Concurrent requests of one session all come due at once: one touch per session at a time in
   * this process, and the others wait for it.
   */
  private touchOnce(storedId: string, session: SessionData, ttlMs: number, expiresAtMs: number): Promise<void> {
    const running = this.touching.get(storedId)
    if (running !== undefined) return running
    const touch = this.records
      .touch(storedId, ttlMs, this.userIdOf(session))
      .then(() => {
        this.loadedExpiry.set(session, expiresAtMs)
      })
      .finally(() => this.touching.delete(storedId))
    this.touching.set(storedId, touch)
    return touch
  }

  /** Ends a session (with a tombstone when `destroyed`), with `userOf` its user's entry, and any copy connect-redis left. */
  private async end(storedId: string, destroyed: boolean, sid?: string): Promise<void> {
    // A destroy only leaves a tombstone where a session is: one connect-redis still holds is
    // moved in first, or a server migrating it at this moment could store it after the destroy.
    const migrateFirst = destroyed && this.legacy !== undefined && sid !== undefined
    // A session that is merely over (its TTL is 0) is deleted only if it is there: deleting
    // blindly would also erase the tombstone of a destroy, and a late save would bring it back.
    const mustRead = migrateFirst || !destroyed || this.options.userOf !== undefined
    const found = mustRead ? await this.storedForEnd(storedId, migrateFirst ? sid : undefined) : { userId: undefined, appUserId: undefined }
    const live = (found !== undefined || destroyed) && (await this.records.remove(storedId, found?.userId, destroyed))
    if (live) this.ended(storedId, found?.appUserId, destroyed ? 'logout' : 'expired')
    if (this.legacy !== undefined && sid !== undefined) await this.legacy.remove(sid)
  }

  /**
   * What an end finds where the session is kept (with `sid`, after moving in a session
   * connect-redis holds): undefined when no session is there (nothing, or a tombstone), else its
   * user, to tidy their index. One that cannot be read is there, with no user.
   */
  private async storedForEnd(
    storedId: string,
    sid?: string,
  ): Promise<{ userId: string | undefined; appUserId: string | undefined } | undefined> {
    try {
      const loaded = (await this.read(storedId)) ?? (sid === undefined ? undefined : await this.migrate(sid, storedId))
      if (loaded === undefined) return undefined
      const appUserId = this.appUserIdOf(loaded.session)
      return { userId: appUserId === undefined ? undefined : this.userKey(appUserId), appUserId }
    } catch {
      return { userId: undefined, appUserId: undefined }
    }
  }

  private async list(): Promise<SessionWithId[]> {
    const records = await this.records.all()
    const live = records.flatMap(({ storedId, text: stored }) => {
      const { createdAtMs, text } = readCreatedAt(stored)
      return this.lifetimeOver(createdAtMs) ? [] : [{ storedId, text }]
    })
    return Promise.all(live.map(async ({ storedId, text }) => Object.assign(await this.parse(storedId, text), { id: storedId })))
  }

  /** Every session (with tombstones), then every user entry. */
  private async removeAll(): Promise<void> {
    const ids = await this.bounded('clear', () => this.records.ids())
    await this.inBatches('clear', ids, async (storedId) => {
      if (await this.records.remove(storedId, undefined, true)) this.ended(storedId, undefined, 'revoked')
    })
    if (this.options.userOf === undefined) return
    const entries = await this.bounded('clear', () => this.records.allUserEntries())
    await this.inBatches('clear', entries, ([userId, storedId]) => this.records.forgetEntry(userId, storedId))
  }

  /** `each` over `items`, `BATCH_SIZE` at a time, each batch bounded as one call. */
  private async inBatches<T>(operation: string, items: readonly T[], each: (item: T) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      await this.bounded(operation, () => Promise.all(items.slice(i, i + BATCH_SIZE).map(each)))
    }
  }

  /**
   * A user's sessions, checked against `userOf`. Entries of sessions that are not there or are
   * someone else's now are skipped, not removed: on Redis Cluster a save writes the entry before
   * the session, so an entry without its session may be a login under way (removing it would
   * hide that session from `destroyUserSessions` for its whole life). Expiry removes the others.
   */
  private async sessionsOf(userId: string): Promise<UserSession[]> {
    const ids = await this.records.idsOfUser(userId)
    const found = await Promise.all(ids.map((storedId) => this.sessionOf(userId, storedId)))
    return found.filter((session): session is UserSession => session !== undefined)
  }

  /** The session stored as `storedId`, if it is there and belongs to `userId`. */
  private async sessionOf(userId: string, storedId: string): Promise<UserSession | undefined> {
    const loaded = await this.read(storedId)
    if (loaded === undefined || this.userIdOf(loaded.session) !== userId) return undefined
    return { id: storedId, session: loaded.session, expiresAt: loaded.expiresAtMs }
  }

  private requireUserIndex(method: string, userId: string | number): string {
    if (this.options.userOf === undefined) {
      throw new UsageError(`${method}() needs the \`userOf\` option: it tells the store whose session is whose`, { option: 'userOf' })
    }
    return this.userKey(toUserId(userId))
  }

  /** What a user's id is in keys: itself, or with `hashUserIds` its hash. */
  private userKey(userId: string): string {
    return this.options.hashUserIds ? hashedUserId(userId) : userId
  }

  /** Whose a session just read is, as its entry's key has it; undefined when `userOf` fails on it (the save will say why). */
  private userIdAtLoad(session: SessionData): string | undefined {
    try {
      return this.userIdOf(session)
    } catch {
      return undefined
    }
  }

  private userIdOf(session: SessionData): string | undefined {
    const id = this.appUserIdOf(session)
    return id === undefined ? undefined : this.userKey(id)
  }

  /** What `userOf` says, as a string: the id the app knows the user by. */
  private appUserIdOf(session: SessionData): string | undefined {
    const { userOf } = this.options
    if (userOf === undefined) return undefined
    const id: unknown = userOf(session)
    if (id === undefined || id === null) return undefined
    if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) return toUserId(id)
    throw new UsageError(`the \`userOf\` function must return a string, a finite number, null or undefined (got ${typeof id})`, {
      option: 'userOf',
    })
  }

  /** The session's TTL from `now`; with `absoluteTtlMs`, never past `createdAtMs + absoluteTtl`. */
  private ttlOf(session: SessionData, now: number, createdAtMs?: number): number {
    const ttlMs = sessionTtlMs(session, this.options, now)
    const { absoluteTtlMs } = this.options
    if (absoluteTtlMs === 0 || createdAtMs === undefined) return ttlMs
    return Math.min(ttlMs, Math.max(0, createdAtMs + absoluteTtlMs - now))
  }

  /** Errors name the stored id (a hash unless `hashIds: false`), never the session id a cookie carries. */
  private async parse(storedId: string, text: string, parsing?: PromiseLike<SessionData>): Promise<SessionData> {
    try {
      return await (parsing ?? this.options.serializer.parse(text))
    } catch (error) {
      throw parseError(sessionKey(storedId), error)
    }
  }

  /** `parse`, without waiting a turn of the microtask queue for a serializer that answers at once (JSON does). */
  private parseNow(storedId: string, text: string): SessionData | Promise<SessionData> {
    let parsed: SessionData | PromiseLike<SessionData>
    try {
      parsed = this.options.serializer.parse(text)
    } catch (error) {
      throw parseError(sessionKey(storedId), error)
    }
    return isThenable(parsed) ? this.parse(storedId, text, parsed) : parsed
  }

  private async stringify(storedId: string, session: SessionData): Promise<string> {
    try {
      return await this.options.serializer.stringify(session)
    } catch (error) {
      throw serializeError(sessionKey(storedId), error)
    }
  }
}

/**
 * express-session does not send a `Secure` cookie in answer to a request that did not arrive over
 * HTTPS, and says nothing: the session is saved, and the next request starts another. Its
 * Session objects carry their request (`session.req`), so a save can tell.
 */
function warnIfCookieWithheld(session: SessionData): void {
  if (session?.cookie?.secure !== true || !arrivedOverHttp((session as { req?: unknown }).req)) return
  warnInsecureRequest(
    'RedisSessionStore',
    'a session whose cookie is Secure was saved for a request that did not arrive over HTTPS (req.secure is false): express-session does not send that cookie, so the next request starts a new session.',
  )
}

/** User ids are keys of their index: `42` and `'42'` are the same user. */
function toUserId(id: string | number): string {
  return typeof id === 'number' ? String(id) : id
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>> | null)?.then === 'function'
}
