/**
 * An express-session Store on the cache: a drop-in for connect-redis (same options, same
 * methods, callbacks or promises) that also lists and destroys a user's sessions, skips
 * needless touches, keeps destroyed sessions destroyed, moves connect-redis's sessions over on
 * first access, and fails fast while Redis is away. Key layout: see session-keys.ts.
 */
import type { Request } from 'express'
import { Store, type Session, type SessionData } from 'express-session'
import type { Cache } from '../cache/cache'
import { RedisCache } from '../cache/redis-cache'
import { parseError, serializeError } from '../cache/serializer'
import { OptionError } from '../errors'
import { settle, type StoreCallback } from './callback'
import { withDeadline } from '../deadline'
import { LegacySessions } from './legacy-sessions'
import { Readiness } from './readiness'
import {
  ALL_SESSIONS,
  ALL_USER_POINTERS,
  PROBE_KEY,
  STORE_TAG_DEPTH,
  sessionKey,
  sidOf,
  tombstoneKey,
  userSessionKey,
  userSessions,
} from './session-keys'
import { secondsToMs, sessionTtlMs, touchIsFresh } from './session-ttl'
import { DEFAULT_STORE_TTL_SECONDS, STORE_PROBE_INTERVAL_MS } from './store-defaults'
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
/** Records handled at once by `clear()` and `destroyUserSessions()`. */
const BATCH_SIZE = 100

export class RedisSessionStore extends Store {
  /** Where the sessions are kept: the cache given, or the RedisCache built on `client`. */
  readonly cache: Cache
  private readonly options: ResolvedStoreOptions
  private readonly legacy: LegacySessions | undefined
  private readonly readiness: Readiness | undefined
  /** The stored expiry of each session object this store handed out, so a touch can skip without a read. */
  private readonly loadedExpiry = new WeakMap<object, number>()

  constructor(options: RedisSessionStoreOptions) {
    super()
    this.options = resolveStoreOptions(options)
    const { client, cache, prefix, legacyPrefix, timeoutMs, whenUnavailable } = this.options
    this.cache =
      cache ??
      new RedisCache<string>({
        // resolveStoreOptions guarantees one of the two.
        client: client as NonNullable<typeof client>,
        namespace: prefix,
        // Every write passes its own TTL; this one only satisfies the cache.
        ttlMs: secondsToMs(DEFAULT_STORE_TTL_SECONDS),
        tagDepth: STORE_TAG_DEPTH,
        commandTimeoutMs: timeoutMs,
        serializer: storedTextSerializer,
      })
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

  /** Stores the session for its TTL; a TTL of 0 or less destroys it instead. Does nothing to a destroyed session. */
  override set(sid: string, session: SessionData): Promise<void>
  override set(sid: string, session: SessionData, callback: StoreCallback<void>): void
  override set(sid: string, session: SessionData, callback?: StoreCallback<void>): Promise<void> | void {
    return settle(this.bounded('set', () => this.save(sid, session)), callback)
  }

  /** Renews the session's TTL (unless `touchAfter` says it is recent enough) without changing its data. */
  override touch(sid: string, session: SessionData): Promise<void>
  override touch(sid: string, session: SessionData, callback: StoreCallback<void>): void
  override touch(sid: string, session: SessionData, callback?: StoreCallback<void>): Promise<void> | void {
    return settle(this.bounded('touch', () => this.refresh(sid, session)), callback)
  }

  /** Deletes the session and, for `tombstoneTtl` seconds, blocks late writes of it. */
  override destroy(sid: string): Promise<void>
  override destroy(sid: string, callback: StoreCallback<void>): void
  override destroy(sid: string, callback?: StoreCallback<void>): Promise<void> | void {
    return settle(this.bounded('destroy', () => this.remove(sid)), callback)
  }

  /** Every live session, each with its `id`, read from the index (no SCAN). */
  override all(): Promise<SessionWithId[]>
  override all(callback: StoreCallback<SessionWithId[]>): void
  override all(callback?: StoreCallback<SessionWithId[]>): Promise<SessionWithId[]> | void {
    return settle(this.list(), callback)
  }

  /** How many live sessions there are, counted from the index (no SCAN). */
  override length(): Promise<number>
  override length(callback: StoreCallback<number>): void
  override length(callback?: StoreCallback<number>): Promise<number> | void {
    return settle(
      this.cache.keys(ALL_SESSIONS).then((keys) => keys.length),
      callback,
    )
  }

  /** The ids of every live session, from the index (no SCAN). */
  ids(): Promise<string[]>
  ids(callback: StoreCallback<string[]>): void
  ids(callback?: StoreCallback<string[]>): Promise<string[]> | void {
    return settle(
      this.cache.keys(ALL_SESSIONS).then((keys) => keys.map(sidOf)),
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
    return this.sessionsOf(this.requireUserIndex('listUserSessions', userId))
  }

  /** Destroys every session of one user ("sign out everywhere"; needs `userOf`); resolves to how many. */
  async destroyUserSessions(userId: string | number): Promise<number> {
    const id = this.requireUserIndex('destroyUserSessions', userId)
    const sessions = await this.sessionsOf(id)
    await inBatches(sessions, (session) => this.bury(session.id, id))
    return sessions.length
  }

  /** express-session builds each request's Session here; the stored expiry follows it, for `touchAfter`. */
  override createSession(req: Request, session: SessionData): Session & SessionData {
    const expiresAtMs = this.loadedExpiry.get(session)
    const created = super.createSession(req, session)
    if (expiresAtMs !== undefined) this.loadedExpiry.set(created, expiresAtMs)
    return created
  }

  /** A call a request waits on: bounded by `timeoutMs`, and watched for outages when `whenUnavailable` is 'skip'. */
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
    if (legacy === undefined) return undefined
    const session = await this.parse(sid, legacy.text)
    const now = Date.now()
    // What is left of its connect-redis TTL; a key without one (its disableTTL) gets ours.
    const ttlMs = legacy.ttlMs ?? this.ttlOf(session, now)
    const stored = { expiresAtMs: now + ttlMs, text: legacy.text }
    const written = ttlMs > 0 && (await this.write(sid, session, stored, ttlMs))
    await this.legacy.remove(sid)
    return written ? { ...stored, session } : undefined
  }

  private async save(sid: string, session: SessionData): Promise<void> {
    const now = Date.now()
    const ttlMs = this.ttlOf(session, now)
    if (ttlMs <= 0) return this.remove(sid)
    await this.write(sid, session, { expiresAtMs: now + ttlMs, text: await this.stringify(sid, session) }, ttlMs)
  }

  private async refresh(sid: string, session: SessionData): Promise<void> {
    const { disableTouch, disableTTL, touchAfterMs } = this.options
    if (disableTouch || disableTTL) return
    const now = Date.now()
    const ttlMs = this.ttlOf(session, now)
    if (ttlMs <= 0) return this.remove(sid)
    const expiresAtMs = now + ttlMs
    const known = this.loadedExpiry.get(session)
    if (known !== undefined && touchIsFresh(known, expiresAtMs, touchAfterMs)) return
    // Rewrite the stored text, not this request's copy: a touch must not undo a concurrent save.
    const stored = await this.cache.get(sessionKey(sid))
    // Gone (expired or destroyed): a touch never brings a session back.
    if (stored === undefined) return
    const { expiresAtMs: storedExpiresAtMs, text } = decodeStored(stored, sid)
    if (touchIsFresh(storedExpiresAtMs, expiresAtMs, touchAfterMs)) return
    if (await this.write(sid, session, { expiresAtMs, text }, ttlMs)) this.loadedExpiry.set(session, expiresAtMs)
  }

  /**
   * Writes the session unless its tombstone exists (one atomic script, tombstone in the same
   * slot), then the user's pointer. Resolves to whether it was written.
   */
  private async write(sid: string, session: SessionData, stored: StoredSession, ttlMs: number): Promise<boolean> {
    const userId = this.userIdOf(session)
    const key = sessionKey(sid)
    const value = encodeStored(stored)
    if (this.options.tombstoneTtlMs > 0) {
      if (!(await this.cache.putIf(key, value, { ttlMs, unlessExists: tombstoneKey(sid) }))) return false
    } else {
      await this.cache.put(key, value, { ttlMs })
    }
    if (userId !== undefined) await this.cache.put(userSessionKey(userId, sid), POINTER, { ttlMs })
    return true
  }

  private async remove(sid: string): Promise<void> {
    await this.bury(sid, this.options.userOf === undefined ? undefined : await this.storedUserOf(sid))
  }

  /** Tombstone first, then the session: a concurrent guarded write either lands before the delete or not at all. */
  private async bury(sid: string, userId: string | undefined): Promise<void> {
    const { tombstoneTtlMs } = this.options
    if (tombstoneTtlMs > 0) await this.cache.put(tombstoneKey(sid), POINTER, { ttlMs: tombstoneTtlMs })
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

  private async removeAll(): Promise<void> {
    const sids = (await this.cache.keys(ALL_SESSIONS)).map(sidOf)
    await inBatches(sids, (sid) => this.bury(sid, undefined))
    const pointers = await this.cache.keys(ALL_USER_POINTERS)
    await inBatches(pointers, (key) => this.cache.delete(key))
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
    if (this.options.userOf === undefined) throw new OptionError('userOf', `is required for ${method}(): it tells the store whose session is whose`)
    return toUserId(userId)
  }

  private userIdOf(session: SessionData): string | undefined {
    const { userOf } = this.options
    if (userOf === undefined) return undefined
    const id: unknown = userOf(session)
    if (id === undefined || id === null) return undefined
    if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) return toUserId(id)
    throw new OptionError('userOf', `must return a string, a finite number, null or undefined (got ${typeof id})`)
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

async function inBatches<T>(items: readonly T[], each: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH_SIZE) await Promise.all(items.slice(i, i + BATCH_SIZE).map(each))
}

