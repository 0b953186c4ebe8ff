/**
 * An express-session Store on the cache: a drop-in for connect-redis (same options, same
 * methods, callbacks or promises) that also lists and destroys a user's sessions, skips
 * needless touches, keeps destroyed sessions destroyed, moves connect-redis's sessions over on
 * first access, and fails fast while Redis is away. Key layout: see session-keys.ts.
 */
import type { Request } from 'express'
import { Store, type Session, type SessionData } from 'express-session'
import type { Cache, PutIfOptions } from '../cache/cache'
import { RedisCache } from '../cache/redis-cache'
import { parseError, serializeError } from '../cache/serializer'
import { withDeadline } from '../deadline'
import { DEFAULT_STORE_TTL_SECONDS, STORE_PROBE_INTERVAL_MS } from '../defaults'
import { UsageError } from '../errors'
import { settle, type StoreCallback } from './callback'
import { LegacySessions } from './legacy-sessions'
import { Readiness } from './readiness'
import {
  ALL_SESSIONS,
  POINTER_INDEX,
  SESSION_INDEX,
  TOMBSTONE_INDEX,
  PROBE_KEY,
  STORE_TAG_DEPTH,
  sessionKey,
  sidOf,
  tombstoneKey,
  userSessionKey,
  userSessions,
} from './session-keys'
import { secondsToMs, sessionTtlMs, touchIsFresh } from './session-ttl'
import { resolveStoreOptions, type RedisSessionStoreOptions, type ResolvedStoreOptions } from './store-options'
import { decodeStored, encodeStored, storedTextSerializer, type StoredSession } from './stored-session'

/** A session as `all()` returns it: connect-redis adds its id the same way. */
export type SessionWithId = SessionData & { id: string }

/** One of a user's sessions, as `listUserSessions()` returns it. */
export interface UserSession {
  id: string
  session: SessionData
  /** When the stored session expires (as last written; `touchAfter` may let it lag a little). */
  expiresAt: Date
}

interface LoadedSession extends StoredSession {
  session: SessionData
}

/** A user pointer holds nothing: its key and index membership are the information. */
const POINTER = ''
/** What a call with nothing to do resolves to. */
const DONE: Promise<void> = Promise.resolve()
/** Records handled at once by `clear()` and `destroyUserSessions()`; each batch gets `timeoutMs`. */
const BATCH_SIZE = 100
/** A touch that loses its compare-and-set to a save re-reads and tries once more, then leaves the newer save be. */
const TOUCH_ATTEMPTS = 2

/** What must hold of the stored session for a write: nothing, no session yet (`absent`), or the text just read (`ifValue`). */
type Precondition = Pick<PutIfOptions, 'absent' | 'ifValue'>

export class RedisSessionStore extends Store {
  /** Where the sessions are kept: the cache given, or the RedisCache built on `client`. */
  readonly cache: Cache
  private readonly options: ResolvedStoreOptions
  /** Built on `client` by this store (so `close()` closes it), rather than given. */
  private readonly ownCache: RedisCache<string> | undefined
  private readonly legacy: LegacySessions | undefined
  private readonly readiness: Readiness | undefined
  /** The stored expiry of each session object this store handed out, so a touch can skip without a read. */
  private readonly loadedExpiry = new WeakMap<object, number>()
  /** The touch in flight for each session id, so concurrent requests of one session write it once. */
  private readonly touching = new Map<string, Promise<void>>()

  constructor(options: RedisSessionStoreOptions) {
    super()
    this.options = resolveStoreOptions(options)
    const { client, cache, prefix, legacyPrefix, nearCache, timeoutMs, whenUnavailable } = this.options
    this.ownCache =
      cache === undefined
        ? new RedisCache<string>({
            // resolveStoreOptions guarantees one of the two.
            client: client as NonNullable<typeof client>,
            namespace: prefix,
            // Every write passes its own TTL; this one only satisfies the cache.
            ttlMs: secondsToMs(DEFAULT_STORE_TTL_SECONDS),
            tagDepth: STORE_TAG_DEPTH,
            commandTimeoutMs: timeoutMs,
            serializer: storedTextSerializer,
            ...(nearCache === undefined ? {} : { nearCache }),
          })
        : undefined
    this.cache = cache ?? (this.ownCache as RedisCache<string>)
    this.legacy = client !== undefined && legacyPrefix !== undefined ? new LegacySessions(client, legacyPrefix, timeoutMs) : undefined
    this.readiness =
      whenUnavailable === 'skip' ? new Readiness(this, () => this.cache.get(PROBE_KEY), STORE_PROBE_INTERVAL_MS) : undefined
  }

  // express-session's Store declares these methods `void` and always passes a callback; with a
  // callback they do return undefined. Without one they return the promise, for `await` users.
  /* eslint-disable @typescript-eslint/no-misused-promises */

  /** The session stored under `sid`, or `null`. With `legacyPrefix`, a connect-redis session is moved in first. */
  override get(sid: string): Promise<SessionData | null>
  override get(sid: string, callback: StoreCallback<SessionData | null>): void
  override get(sid: string, callback?: StoreCallback<SessionData | null>): Promise<SessionData | null> | void {
    return settle(this.bounded('get', () => this.fetch(sid)), callback)
  }

  /**
   * Stores the session for its TTL. A TTL of 0 or less deletes it instead, leaving no tombstone
   * (so a later save of the id is stored). Does nothing to a destroyed session.
   */
  override set(sid: string, session: SessionData): Promise<void>
  override set(sid: string, session: SessionData, callback: StoreCallback<void>): void
  override set(sid: string, session: SessionData, callback?: StoreCallback<void>): Promise<void> | void {
    return settle(this.bounded('set', () => this.save(sid, session)), callback)
  }

  /**
   * Renews the session's TTL (unless `touchAfter` says it is recent enough) without changing its
   * data: it rewrites the stored text only if nobody saved a new one since it was read.
   */
  override touch(sid: string, session: SessionData): Promise<void>
  override touch(sid: string, session: SessionData, callback: StoreCallback<void>): void
  override touch(sid: string, session: SessionData, callback?: StoreCallback<void>): Promise<void> | void {
    return settle(this.refresh(sid, session), callback)
  }

  /** Deletes the session and, for `tombstoneTtl` seconds, blocks late writes of it. */
  override destroy(sid: string): Promise<void>
  override destroy(sid: string, callback: StoreCallback<void>): void
  override destroy(sid: string, callback?: StoreCallback<void>): Promise<void> | void {
    return settle(this.bounded('destroy', () => this.remove(sid, true)), callback)
  }

  /** Every live session, each with its `id`, read from the index (no SCAN). */
  override all(): Promise<SessionWithId[]>
  override all(callback: StoreCallback<SessionWithId[]>): void
  override all(callback?: StoreCallback<SessionWithId[]>): Promise<SessionWithId[]> | void {
    return settle(this.bounded('all', () => this.list()), callback)
  }

  /** How many live sessions there are, counted from the index (no SCAN). */
  override length(): Promise<number>
  override length(callback: StoreCallback<number>): void
  override length(callback?: StoreCallback<number>): Promise<number> | void {
    return settle(
      this.bounded('length', () => this.cache.count(ALL_SESSIONS)),
      callback,
    )
  }

  /** The ids of every live session, from the index (no SCAN). */
  ids(): Promise<string[]>
  ids(callback: StoreCallback<string[]>): void
  ids(callback?: StoreCallback<string[]>): Promise<string[]> | void {
    return settle(
      this.bounded('ids', async () => (await this.cache.keys(ALL_SESSIONS)).map(sidOf)),
      callback,
    )
  }

  /** Destroys every session (with tombstones) and the per-user index. */
  override clear(): Promise<void>
  override clear(callback: StoreCallback<void>): void
  override clear(callback?: StoreCallback<void>): Promise<void> | void {
    return settle(this.removeAll(), callback)
  }

  /* eslint-enable @typescript-eslint/no-misused-promises */

  /** The live sessions of one user (needs `userOf`): one index read, then one read per session. */
  async listUserSessions(userId: string | number): Promise<UserSession[]> {
    const id = this.requireUserIndex('listUserSessions', userId)
    return this.bounded('listUserSessions', () => this.sessionsOf(id))
  }

  /** Destroys every session of one user ("sign out everywhere"; needs `userOf`); resolves to how many. */
  async destroyUserSessions(userId: string | number): Promise<number> {
    const id = this.requireUserIndex('destroyUserSessions', userId)
    const sessions = await this.bounded('destroyUserSessions', () => this.sessionsOf(id))
    await this.inBatches('destroyUserSessions', sessions, (session) => this.erase(session.id, id, true))
    return sessions.length
  }

  /**
   * Stops probing Redis for readiness (`whenUnavailable: 'skip'`) and, when the store built its
   * cache on `client`, closes that cache. The client and a cache given as `cache` stay open:
   * they are the app's. The store is not meant to be used afterwards.
   */
  async close(): Promise<void> {
    this.readiness?.stop()
    await this.ownCache?.close()
  }

  /** express-session builds each request's Session here; the stored expiry follows it, for `touchAfter`. */
  override createSession(req: Request, session: SessionData): Session & SessionData {
    const expiresAtMs = this.loadedExpiry.get(session)
    const created = super.createSession(req, session)
    if (expiresAtMs !== undefined) this.loadedExpiry.set(created, expiresAtMs)
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

  private async fetch(sid: string): Promise<SessionData | null> {
    const loaded = (await this.read(sid)) ?? (await this.migrate(sid))
    if (loaded === undefined) return null
    if (typeof loaded.session === 'object' && loaded.session !== null) this.loadedExpiry.set(loaded.session, loaded.expiresAtMs)
    return loaded.session
  }

  private async read(sid: string): Promise<LoadedSession | undefined> {
    const stored = await this.cache.get(sessionKey(sid))
    if (stored === undefined) return undefined
    const { expiresAtMs, text } = decodeStored(stored, sid)
    return { expiresAtMs, text, session: await this.parse(sid, text) }
  }

  /** A session connect-redis wrote: stored in the new layout first, then its old key removed. */
  private async migrate(sid: string): Promise<LoadedSession | undefined> {
    if (this.legacy === undefined) return undefined
    const legacy = await this.legacy.read(sid)
    // Not there either: another server may have moved it between the two reads (it writes the
    // new place before it removes the old one), so look again.
    if (legacy === undefined) return this.read(sid)
    const session = await this.parse(sid, legacy.text)
    const now = Date.now()
    // What is left of its connect-redis TTL; a key without one (its disableTTL) gets ours.
    const ttlMs = legacy.ttlMs ?? this.ttlOf(session, now)
    const stored = { expiresAtMs: now + ttlMs, text: legacy.text }
    // Only into an empty place: a server that moved it first may have saved a newer version since.
    const moved = ttlMs > 0 && (await this.write(sid, this.userIdOf(session), stored, ttlMs, { absent: true }))
    await this.legacy.remove(sid)
    if (moved) return { ...stored, session }
    // Someone else's move (and maybe save) won, or a destroy did: what is there now is the answer.
    return ttlMs > 0 ? this.read(sid) : undefined
  }

  private async save(sid: string, session: SessionData): Promise<void> {
    const now = Date.now()
    const ttlMs = this.ttlOf(session, now)
    // Over, not destroyed: no tombstone, or a later save of this id (a login) would be dropped.
    if (ttlMs <= 0) return this.remove(sid, false)
    await this.write(sid, this.userIdOf(session), { expiresAtMs: now + ttlMs, text: await this.stringify(sid, session) }, ttlMs)
  }

  /**
   * Most touches have nothing to write (`touchAfter`): that is decided here, at once, without a
   * deadline to arm or a promise chain of its own (express-session touches on every request).
   * Only a write, or the delete of a session whose time is up, goes to Redis, bounded.
   */
  private refresh(sid: string, session: SessionData): Promise<void> {
    const { disableTouch, disableTTL, touchAfterMs } = this.options
    if (disableTouch || disableTTL) return DONE
    const now = Date.now()
    let ttlMs: number
    try {
      ttlMs = this.ttlOf(session, now)
    } catch (error) {
      return Promise.reject(error)
    }
    if (ttlMs <= 0) return this.bounded('touch', () => this.remove(sid, false))
    const expiresAtMs = now + ttlMs
    const known = this.loadedExpiry.get(session)
    if (known !== undefined && touchIsFresh(known, expiresAtMs, touchAfterMs)) return DONE
    return this.bounded('touch', () => this.touchOnce(sid, session, ttlMs, expiresAtMs))
  }

  /**
   * Concurrent requests of one session all come due at once: one touch per session at a time in
   * this process, and the others wait for it (then find the stored expiry fresh).
   */
  private touchOnce(sid: string, session: SessionData, ttlMs: number, expiresAtMs: number): Promise<void> {
    const running = this.touching.get(sid)
    if (running !== undefined) return running
    const touch = this.rewriteExpiry(sid, session, ttlMs, expiresAtMs).finally(() => this.touching.delete(sid))
    this.touching.set(sid, touch)
    return touch
  }

  private async rewriteExpiry(sid: string, session: SessionData, ttlMs: number, expiresAtMs: number): Promise<void> {
    const { touchAfterMs } = this.options
    for (let attempt = 0; attempt < TOUCH_ATTEMPTS; attempt++) {
      // The stored text, not this request's copy, and only while it is still the text read
      // (compare-and-set): a save by another server in between is never undone.
      const stored = await this.cache.get(sessionKey(sid))
      // Gone (expired or destroyed): a touch never brings a session back.
      if (stored === undefined) return
      const { expiresAtMs: storedExpiresAtMs, text } = decodeStored(stored, sid)
      if (touchIsFresh(storedExpiresAtMs, expiresAtMs, touchAfterMs)) return
      // The pointer follows the session as stored, which may have been saved since this request read it.
      const userId = this.options.userOf === undefined ? undefined : this.userIdOf(await this.parse(sid, text))
      if (await this.write(sid, userId, { expiresAtMs, text }, ttlMs, { ifValue: stored })) {
        this.loadedExpiry.set(session, expiresAtMs)
        return
      }
    }
  }

  /**
   * Writes the session if `precondition` holds and its tombstone does not exist (one atomic
   * script: the tombstone shares the session's slot), then the user's pointer. Resolves to
   * whether it was written.
   */
  private async write(sid: string, userId: string | undefined, stored: StoredSession, ttlMs: number, precondition: Precondition = {}): Promise<boolean> {
    const key = sessionKey(sid)
    const value = encodeStored(stored)
    const options: PutIfOptions = { ttlMs, ...SESSION_INDEX, ...precondition }
    if (this.options.tombstoneTtlMs > 0) options.unlessExists = tombstoneKey(sid)
    const conditional = options.absent === true || 'ifValue' in options || options.unlessExists !== undefined
    if (!conditional) await this.cache.put(key, value, { ttlMs, ...SESSION_INDEX })
    else if (!(await this.cache.putIf(key, value, options))) return false
    if (userId !== undefined) await this.cache.put(userSessionKey(userId, sid), POINTER, { ttlMs, ...POINTER_INDEX })
    return true
  }

  /** Deletes the session; `tombstone` (for `destroy`) also blocks late writes of it for `tombstoneTtl`. */
  private async remove(sid: string, tombstone: boolean): Promise<void> {
    await this.erase(sid, this.options.userOf === undefined ? undefined : await this.storedUserOf(sid), tombstone)
  }

  /** Tombstone first, then the session: a concurrent guarded write either lands before the delete or not at all. */
  private async erase(sid: string, userId: string | undefined, tombstone: boolean): Promise<void> {
    const { tombstoneTtlMs } = this.options
    if (tombstone && tombstoneTtlMs > 0) await this.cache.put(tombstoneKey(sid), POINTER, { ttlMs: tombstoneTtlMs, ...TOMBSTONE_INDEX })
    await this.cache.delete(sessionKey(sid))
    if (userId !== undefined) await this.cache.delete(userSessionKey(userId, sid))
    if (this.legacy !== undefined) await this.legacy.remove(sid)
  }

  /** The user a stored session belongs to, to tidy their index; one that cannot be read has none. */
  private async storedUserOf(sid: string): Promise<string | undefined> {
    const stored = await this.cache.get(sessionKey(sid))
    if (stored === undefined) return undefined
    try {
      return this.userIdOf(await this.parse(sid, decodeStored(stored, sid).text))
    } catch {
      return undefined
    }
  }

  private async list(): Promise<SessionWithId[]> {
    const records = await this.cache.all(ALL_SESSIONS)
    return Promise.all(
      records.map(async ({ key, value }) => {
        const sid = sidOf(key)
        const session = await this.parse(sid, decodeStored(value, sid).text)
        return Object.assign(session, { id: sid })
      }),
    )
  }

  /**
   * Every session, then with `userOf` its user's pointer, which is found from the session (pointers
   * are indexed only per user, to save memory). A pointer of a session that cannot be parsed is
   * left to expire with it; listings skip pointers whose session is gone.
   */
  private async removeAll(): Promise<void> {
    if (this.options.userOf === undefined) {
      const sids = (await this.bounded('clear', () => this.cache.keys(ALL_SESSIONS))).map(sidOf)
      await this.inBatches('clear', sids, (sid) => this.erase(sid, undefined, true))
      return
    }
    const records = await this.bounded('clear', () => this.cache.all(ALL_SESSIONS))
    await this.inBatches('clear', records, async ({ key, value }) => {
      const sid = sidOf(key)
      let userId: string | undefined
      try {
        userId = this.userIdOf(await this.parse(sid, decodeStored(value, sid).text))
      } catch {
        userId = undefined
      }
      await this.erase(sid, userId, true)
    })
  }

  /** `each` over `items`, `BATCH_SIZE` at a time, each batch bounded as one call. */
  private async inBatches<T>(operation: string, items: readonly T[], each: (item: T) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      await this.bounded(operation, () => Promise.all(items.slice(i, i + BATCH_SIZE).map(each)))
    }
  }

  /** A user's sessions, checked against `userOf`: pointers to sessions gone or now someone else's are dropped. */
  private async sessionsOf(userId: string): Promise<UserSession[]> {
    const keys = await this.cache.keys(userSessions(userId))
    const found = await Promise.all(
      keys.map(async (key): Promise<UserSession | undefined> => {
        const sid = sidOf(key)
        const loaded = await this.read(sid)
        if (loaded !== undefined && this.userIdOf(loaded.session) === userId) {
          return { id: sid, session: loaded.session, expiresAt: new Date(loaded.expiresAtMs) }
        }
        await this.cache.delete(key)
        return undefined
      }),
    )
    return found.filter((session): session is UserSession => session !== undefined)
  }

  private requireUserIndex(method: string, userId: string | number): string {
    if (this.options.userOf === undefined) {
      throw new UsageError(`${method}() needs the \`userOf\` option: it tells the store whose session is whose`, { option: 'userOf' })
    }
    return toUserId(userId)
  }

  private userIdOf(session: SessionData): string | undefined {
    const { userOf } = this.options
    if (userOf === undefined) return undefined
    const id: unknown = userOf(session)
    if (id === undefined || id === null) return undefined
    if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) return toUserId(id)
    throw new UsageError(`the \`userOf\` function must return a string, a finite number, null or undefined (got ${typeof id})`, { option: 'userOf' })
  }

  private ttlOf(session: SessionData, now: number): number {
    return sessionTtlMs(session, this.options, now)
  }

  private async parse(sid: string, text: string): Promise<SessionData> {
    try {
      return await this.options.serializer.parse(text)
    } catch (error) {
      throw parseError(sessionKey(sid), error)
    }
  }

  private async stringify(sid: string, session: SessionData): Promise<string> {
    try {
      return await this.options.serializer.stringify(session)
    } catch (error) {
      throw serializeError(sessionKey(sid), error)
    }
  }
}

/** User ids are keys of their index: `42` and `'42'` are the same user. */
function toUserId(id: string | number): string {
  return typeof id === 'number' ? String(id) : id
}
