/**
 * The options of `RedisSessionStore`: connect-redis's, with the same names and meanings (but
 * resolved with `??`, so `ttl: 0` means 0), plus what connect-redis cannot do. Resolved once.
 */
import type { NearCacheOptions } from '../cache/redis-cache'
import type { SessionData } from 'express-session'
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_EXPIRY_SWEEP_MS,
  DEFAULT_STORE_PREFIX,
  DEFAULT_STORE_TTL_SECONDS,
  DEFAULT_TOMBSTONE_TTL_MS,
} from '../defaults'
import { deprecate, type DeprecationCode } from '../shared/deprecation'
import { OptionError } from '../errors'
import type { Cache, ReplicaWait, SessionReplicaWait } from '../cache/cache'
import { resolveSessionReplicaWait } from '../cache/cache-options'
import type { BreakerOptions } from '../cache/circuit-breaker'
import type { RedisClient } from '../cache/clients/client-types'
import { STORE_TAG_DEPTH } from './session-keys'
import { secondsToMs, type TtlOption } from './session-ttl'

/** connect-redis's serializer: `parse` may be async (and is awaited everywhere, `all()` included). */
export interface SessionSerializer {
  parse(text: string): SessionData | Promise<SessionData>
  stringify(session: SessionData): string | Promise<string>
}

/** Which user a session belongs to; `undefined` or `null` for none. Numbers and strings are the same id (`42` is `'42'`). */
export type UserOf = (session: SessionData) => string | number | null | undefined

/**
 * What the store does while Redis cannot be reached:
 * - `'fail'`: every call fails within `timeoutMs` with a `CacheError` (`REDIS_UNAVAILABLE`), which
 *   express-session hands to `next(err)`, so the app's error handler answers (e.g. a 503).
 * - `'skip'`: the first such failure also emits `disconnect`, and express-session then serves
 *   requests without a session (`req.session` is undefined) until Redis answers again and the
 *   store emits `connect`. Pages that need no session keep working; nobody's cookie is dropped.
 */
export type WhenUnavailable = 'fail' | 'skip'

/** The options every store takes, whatever it keeps sessions in. */
export interface CommonStoreOptions {
  /**
   * Seconds a session lives when its cookie has no `expires` (a browser-session cookie), or a
   * function of the session returning seconds, which then wins over the cookie. `0` (or a result
   * of 0 or less) stores nothing: `set` deletes the session, as connect-redis does. Unlike
   * `destroy`, that leaves no tombstone, so a later save of the same id (a login) is stored.
   * @default 86400 (one day)
   */
  ttl?: TtlOption
  /**
   * Sessions never expire in Redis (connect-redis's meaning). The cache needs a TTL on every
   * record, so they get about 100 years instead; `touch` does nothing.
   * @default false
   */
  disableTTL?: boolean
  /** `touch` does nothing: a session's TTL is only renewed when it is saved. @default false */
  disableTouch?: boolean
  /** How sessions become text and back; `parse` may return a promise. @default JSON */
  serializer?: SessionSerializer
  /**
   * Which user a session belongs to. When set, the store keeps a per-user index, and
   * `listUserSessions(userId)` and `destroyUserSessions(userId)` work.
   * @default undefined (no per-user index)
   */
  userOf?: UserOf
  /**
   * Milliseconds: a touch writes only when the stored expiry is at least this much older than
   * the one it would write, so most requests of an active session write nothing; a session then
   * expires between `ttl - touchAfterMs` and `ttl` after its last request. `0` writes on every
   * touch (connect-redis's behaviour).
   * @default a tenth of the session's TTL, at most 60000 (one minute)
   */
  touchAfterMs?: number
  /** @deprecated Seconds; renamed `touchAfterMs` (milliseconds). Works, with a warning, until the next minor version. */
  touchAfter?: number
  /**
   * Keep sessions under a hash of their id (SHA-256, 128 bits), so a Redis dump, a replica or
   * a key listing holds no id a cookie could carry. `ids()`, `all()` and `listUserSessions()`
   * then report the stored ids. `false` keeps express-session's ids as they are.
   * @default true
   */
  hashIds?: boolean
  /**
   * Keep users' ids (`userOf`'s answers, often e-mail addresses) hashed too, in the keys of the
   * per-user index. `listUserSessions(userId)` and `destroyUserSessions(userId)` take the ids as
   * before. @default false
   */
  hashUserIds?: boolean
  /**
   * Milliseconds a session lives at most from its first save, however often it is touched or
   * saved (an absolute timeout, next to the idle one `ttl` and the cookie give). `0`: no such limit.
   * @default 0
   */
  absoluteTtlMs?: number
  /** @deprecated Seconds; renamed `absoluteTtlMs` (milliseconds). Works, with a warning, until the next minor version. */
  absoluteTtl?: number
  /**
   * Most sessions one user keeps (needs `userOf`): the save of a new session beyond it destroys
   * the user's sessions idle longest (those that expire first), with tombstones, so one account
   * cannot pile up sessions without bound. `0`: no limit. @default 0
   */
  maxSessionsPerUser?: number
  /** The clock, in ms since the epoch, for TTL arithmetic (tests). Redis keeps its own time for expiry. @default Date.now */
  now?: () => number
  /**
   * Milliseconds between two sweeps for expired sessions, each of which emits an `ended` event
   * with reason `expired` (see the `ended` event). Sweeps run only while the store has an `ended`
   * listener; an expired session's event comes within about this time after its expiry.
   * @default 1000
   */
  expirySweepMs?: number
  /**
   * Milliseconds that the id of a session ended by `destroy`, `destroyUserSessions` or `clear`
   * stays blocked: a request that loaded the session before the logout and saves or touches it
   * afterwards, within this time, cannot bring it back. Keep it at least as long as your slowest
   * request. `0` writes no tombstone (connect-redis's behaviour).
   * @default 3600000 (one hour)
   */
  tombstoneTtlMs?: number
  /** @deprecated Seconds; renamed `tombstoneTtlMs` (milliseconds). Works, with a warning, until the next minor version. */
  tombstoneTtl?: number
  /**
   * Milliseconds a store call may take before it fails with a `CacheError`
   * (`REDIS_UNAVAILABLE`), so an unreachable Redis cannot hang requests: every method is bounded,
   * the listing ones included; `clear` and `destroyUserSessions`, which work in batches of 100
   * sessions, bound each batch. With `client`, it also bounds each Redis command. `0` waits forever.
   * @default 2000
   */
  timeoutMs?: number
  /** See `WhenUnavailable`. @default 'fail' */
  whenUnavailable?: WhenUnavailable
  /**
   * Durable logouts: `destroy`, `destroyUserSession(s)` and `clear` resolve only once
   * `replicas` Redis replicas have the ending (Redis `WAIT`, up to `timeoutMs` milliseconds), so
   * a failover cannot bring back a session the user was told had ended; with `logins: true`, the
   * first save of a session too. When fewer replicas acknowledge in time the call fails with a
   * `CacheError` `NOT_REPLICATED` (express-session passes it to `next`: answer 503, the user tries
   * again); the ending is made on the master meanwhile. Needs a Redis with replicas; a
   * `MemoryCache` ignores it. @default undefined (no waiting)
   */
  waitForReplicas?: SessionReplicaWait
}

export interface ClientStoreOptions extends CommonStoreOptions {
  /**
   * A connected client: node-redis 5 or 6 (client, cluster or sentinel) or ioredis 5 (`Redis`,
   * Sentinel included, or `Cluster`); the store builds its own `RedisCache` on it, which `close()`
   * closes. The client itself stays the app's to close.
   */
  client: RedisClient
  cache?: never
  /**
   * Separates this app's sessions from others' on the same Redis: every key the store writes
   * starts with it (one trailing `:` is dropped, then `:` follows), so `<prefix>*` matches them
   * all. 1 to 64 characters from `A-Z a-z 0-9 _ - . : /`.
   * @default 'sess:'
   */
  prefix?: string
  /**
   * connect-redis's key prefix (its `prefix` option, `'sess:'` by default). When set, a session
   * found only under `<legacyPrefix><sid>` is moved into this store on first access and the old
   * key removed, so switching from connect-redis logs nobody out. Costs two more round trips for
   * a session id found in neither place (the old key, then the new place again).
   * @default undefined (no migration)
   */
  legacyPrefix?: string
  /**
   * connect-redis's SCAN page size, accepted so its configurations work unchanged, and unused:
   * this store never runs SCAN (it reads its own index). `store.scanCount` reports it.
   * @default 100
   */
  scanCount?: number
  /**
   * Keep recently read sessions in this process (see RedisCache's `nearCache`): a hot session is
   * read with no round trip, and Redis evicts every server's copy the moment any server changes
   * or destroys it. Best with `touchAfterMs`, so most requests write nothing. Its connection is
   * closed by `close()`; on Sentinel the process cannot exit before that. @default off
   */
  nearCache?: NearCacheOptions
  /** The breaker of the cache the store builds (see RedisCache's `breaker`). @default { probeIntervalMs: 500 } */
  breaker?: BreakerOptions | false
}

export interface CacheStoreOptions extends CommonStoreOptions {
  /**
   * A cache to keep sessions in (a `MemoryCache` for tests or one process, or a `RedisCache` you
   * built; on Redis Cluster it must have `tagDepth: STORE_TAG_DEPTH`, which the constructor
   * checks). Its namespace plays `prefix`'s role. `close()` leaves it open: it is yours.
   */
  cache: Cache
  client?: never
  prefix?: never
  legacyPrefix?: never
  /** Give the cache its own `nearCache` option instead. */
  nearCache?: never
  /** Give the cache its own `breaker` option instead. */
  breaker?: never
}

/** Give `client` (connect-redis style) or `cache`, not both. */
export type RedisSessionStoreOptions = ClientStoreOptions | CacheStoreOptions

export interface ResolvedStoreOptions {
  client: RedisClient | undefined
  cache: Cache | undefined
  /** The namespace of the cache the store builds: `prefix` without its trailing `:`. */
  namespace: string
  legacyPrefix: string | undefined
  nearCache: NearCacheOptions | undefined
  breaker: BreakerOptions | false | undefined
  ttl: TtlOption
  disableTTL: boolean
  disableTouch: boolean
  serializer: SessionSerializer
  userOf: UserOf | undefined
  /** undefined: the default, a share of each session's TTL. */
  touchAfterMs: number | undefined
  tombstoneTtlMs: number
  hashIds: boolean
  hashUserIds: boolean
  /** 0: no absolute limit. */
  absoluteTtlMs: number
  /** 0: no limit. */
  maxSessionsPerUser: number
  now: () => number
  expirySweepMs: number
  timeoutMs: number
  whenUnavailable: WhenUnavailable
  /** What endings wait for; undefined: nothing. */
  endingsWait: ReplicaWait | undefined
  /** What a session's first save waits for; undefined: nothing. */
  loginsWait: ReplicaWait | undefined
}

export function resolveStoreOptions(options: RedisSessionStoreOptions): ResolvedStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw new OptionError('client', 'or `cache` is required: RedisSessionStore needs a Redis client (node-redis or ioredis) or a Cache')
  }
  // Read as the loosest shape: plain JavaScript callers may pass anything.
  const given = options as Partial<ClientStoreOptions & Omit<CacheStoreOptions, keyof ClientStoreOptions>> & { cache?: Cache }
  const { client, cache } = given
  if (client !== undefined && cache !== undefined) throw new OptionError('cache', 'cannot be combined with `client`: give one')
  if (client === undefined && cache === undefined) {
    throw new OptionError('client', 'or `cache` is required: RedisSessionStore needs a Redis client (node-redis or ioredis) or a Cache')
  }
  if (cache !== undefined && (given.prefix !== undefined || given.legacyPrefix !== undefined)) {
    const option = given.prefix !== undefined ? 'prefix' : 'legacyPrefix'
    throw new OptionError(option, "cannot be combined with `cache`: the cache's namespace separates sessions, and migration needs `client`")
  }
  if (cache !== undefined && given.breaker !== undefined) {
    throw new OptionError('breaker', 'cannot be combined with `cache`: give the RedisCache its own `breaker` option')
  }
  if (cache !== undefined && given.nearCache !== undefined) {
    throw new OptionError('nearCache', 'cannot be combined with `cache`: give the RedisCache its own `nearCache` option')
  }
  const missing = cache === undefined ? undefined : missingCacheMethod(cache)
  if (missing !== undefined)
    throw new OptionError('cache', `must be a Cache (a RedisCache or a MemoryCache): it has no ${missing}() method`)
  const clusterTagDepth = cache === undefined ? undefined : clusterTagDepthOf(cache)
  if (clusterTagDepth !== undefined && clusterTagDepth !== STORE_TAG_DEPTH) {
    throw new OptionError(
      'cache',
      `is a RedisCache on Redis Cluster with tagDepth ${clusterTagDepth}: the store needs tagDepth ${STORE_TAG_DEPTH} (STORE_TAG_DEPTH), so that a user's session entries share a slot`,
    )
  }

  const prefix = given.prefix ?? DEFAULT_STORE_PREFIX
  const namespace = typeof prefix === 'string' ? prefix.replace(/:$/, '') : ''
  if (!/^[A-Za-z0-9_.:/-]{1,64}$/.test(namespace)) {
    throw new OptionError(
      'prefix',
      'must be 1 to 64 characters from A-Z a-z 0-9 _ - . : / (no braces or glob characters, which Redis key names give a meaning)',
    )
  }
  const legacyPrefix = given.legacyPrefix
  if (legacyPrefix !== undefined && typeof legacyPrefix !== 'string') throw new OptionError('legacyPrefix', 'must be a string')

  const ttl = given.ttl ?? DEFAULT_STORE_TTL_SECONDS
  if (typeof ttl !== 'function' && !isSeconds(ttl)) {
    throw new OptionError('ttl', 'must be a number of seconds (0 or more) or a function of the session returning seconds')
  }
  const disableTTL = given.disableTTL ?? false
  const disableTouch = given.disableTouch ?? false
  requireBoolean(disableTTL, 'disableTTL')
  requireBoolean(disableTouch, 'disableTouch')

  const serializer = given.serializer ?? JSON
  if (typeof serializer?.parse !== 'function' || typeof serializer?.stringify !== 'function') {
    throw new OptionError('serializer', 'must have parse(text) and stringify(session) functions')
  }
  const userOf = given.userOf
  if (userOf !== undefined && typeof userOf !== 'function')
    throw new OptionError('userOf', 'must be a function of the session returning a user id')

  const touchAfterMs = renamedMsOption(given, 'touchAfterMs', 'touchAfter', 'SESSIONVAULT_DEP_TOUCH_AFTER')
  const hashIds = given.hashIds ?? true
  requireBoolean(hashIds, 'hashIds')
  const hashUserIds = given.hashUserIds ?? false
  requireBoolean(hashUserIds, 'hashUserIds')
  const absoluteTtlMs = renamedMsOption(given, 'absoluteTtlMs', 'absoluteTtl', 'SESSIONVAULT_DEP_ABSOLUTE_TTL') ?? 0
  const maxSessionsPerUser = given.maxSessionsPerUser ?? 0
  if (typeof maxSessionsPerUser !== 'number' || !Number.isSafeInteger(maxSessionsPerUser) || maxSessionsPerUser < 0) {
    throw new OptionError('maxSessionsPerUser', 'must be a whole number of sessions, 0 (no limit) or more')
  }
  if (maxSessionsPerUser > 0 && userOf === undefined)
    throw new OptionError('maxSessionsPerUser', 'needs `userOf`: it tells the store whose session is whose')
  const now = given.now ?? Date.now
  if (typeof now !== 'function') throw new OptionError('now', 'must be a function returning milliseconds since the epoch')
  const expirySweepMs = given.expirySweepMs ?? DEFAULT_EXPIRY_SWEEP_MS
  if (typeof expirySweepMs !== 'number' || !Number.isSafeInteger(expirySweepMs) || expirySweepMs < 1) {
    throw new OptionError('expirySweepMs', 'must be a whole number of milliseconds, 1 or more')
  }
  const tombstoneTtlMs =
    renamedMsOption(given, 'tombstoneTtlMs', 'tombstoneTtl', 'SESSIONVAULT_DEP_TOMBSTONE_TTL') ?? DEFAULT_TOMBSTONE_TTL_MS
  const timeoutMs = given.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 0) {
    throw new OptionError('timeoutMs', 'must be a whole number of milliseconds, 0 or more')
  }
  const whenUnavailable = given.whenUnavailable ?? 'fail'
  if (whenUnavailable !== 'fail' && whenUnavailable !== 'skip') throw new OptionError('whenUnavailable', "must be 'fail' or 'skip'")
  const { endings: endingsWait, logins: loginsWait } = resolveSessionReplicaWait(given.waitForReplicas)

  return {
    client,
    cache,
    namespace,
    legacyPrefix,
    nearCache: given.nearCache,
    breaker: given.breaker,
    ttl,
    disableTTL,
    disableTouch,
    serializer,
    userOf,
    touchAfterMs,
    tombstoneTtlMs,
    hashIds,
    hashUserIds,
    absoluteTtlMs,
    maxSessionsPerUser,
    now,
    expirySweepMs,
    timeoutMs,
    whenUnavailable,
    endingsWait,
    loginsWait,
  }
}

type RenamedMsOption = 'touchAfterMs' | 'absoluteTtlMs' | 'tombstoneTtlMs'
type SecondsOption = 'touchAfter' | 'absoluteTtl' | 'tombstoneTtl'

/**
 * A duration option in milliseconds that replaced one in seconds: the old name still works,
 * converted, with a deprecation warning; giving both is refused.
 */
function renamedMsOption(
  given: Partial<Record<RenamedMsOption | SecondsOption, unknown>>,
  name: RenamedMsOption,
  formerName: SecondsOption,
  code: DeprecationCode,
): number | undefined {
  const ms = given[name]
  const seconds = given[formerName]
  if (ms !== undefined && seconds !== undefined) {
    throw new OptionError(formerName, `cannot be combined with \`${name}\`: it is its former name (in seconds); give \`${name}\` only`)
  }
  if (seconds !== undefined) {
    if (!isSeconds(seconds)) throw new OptionError(formerName, 'must be a finite number of seconds, 0 or more')
    deprecate(
      code,
      `option \`${formerName}\` (seconds) is renamed \`${name}\` (milliseconds); \`${formerName}\` goes in the next minor version`,
    )
    return secondsToMs(seconds)
  }
  if (ms === undefined) return undefined
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0)
    throw new OptionError(name, 'must be a whole number of milliseconds, 0 or more')
  return ms
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

function requireBoolean(value: unknown, option: string): void {
  if (typeof value !== 'boolean') throw new OptionError(option, 'must be true or false')
}

/** The hash-tag depth of a cache on Redis Cluster (a RedisCache says so); undefined for any other cache. */
function clusterTagDepthOf(cache: Cache): number | undefined {
  const { isCluster, tagDepth } = cache as { isCluster?: unknown; tagDepth?: unknown }
  return isCluster === true && typeof tagDepth === 'number' ? tagDepth : undefined
}

/** The cache methods the store calls: a cache without one of them (one written for sessionvault 0.1) is refused up front. */
const CACHE_METHODS_USED = ['get', 'getTimed', 'putIf', 'batch', 'touchMany', 'delete', 'all', 'keys', 'countUnder'] as const

/** The first cache method the store needs that `value` lacks; undefined for a usable cache. */
function missingCacheMethod(value: unknown): string | undefined {
  const cache = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<keyof Cache, unknown>>
  return CACHE_METHODS_USED.find((method) => typeof cache[method] !== 'function')
}
