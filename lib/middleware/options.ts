/**
 * The middleware's options, resolved once into a normalized form.
 */
import type { KeyObject } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'
import type { Cache, ReplicaWait, SessionReplicaWait } from '../cache/cache'
import { resolveSessionReplicaWait } from '../cache/cache-options'
import type { KeyPart } from '../cache/key'
import { OptionError, type CacheError } from '../errors'
import {
  DEFAULT_EXPIRY_SWEEP_MS,
  DEFAULT_MAX_SESSIONS_PER_USER,
  DEFAULT_RENEWED_TOKEN_HEADER,
  DEFAULT_ROTATION_GRACE_MS,
  DEFAULT_SECURE_TOKEN_COOKIE_NAME,
  DEFAULT_TOKEN_COOKIE_NAME,
  DEFAULT_TOKEN_COOKIE_PATH,
  DEFAULT_TOKEN_SESSION_MAX_AGE_MS,
  DEFAULT_TOKEN_SESSION_TIMEOUT_MS,
  DEFAULT_TOKEN_SESSION_TTL_MS,
  DEFAULT_TOKEN_SESSION_UNAVAILABLE_STATUS,
  MIN_TOKEN_SECRET_LENGTH,
} from '../defaults'
import { SESSION_TAG_DEPTH } from './records'
import { signingKey } from './signing'
import type { SessionTiming } from './timing'

/** Answers a request whose session could not be resolved because the cache is out of reach. */
export type UnavailableHandler = (error: CacheError, req: Request, res: Response, next: NextFunction) => void

export interface SessionCookieOptions {
  /**
   * The cookie's name. A `__Host-` name requires `secure`, path `/` and no domain; a `__Secure-`
   * name requires `secure`. @default '__Host-session' when `secure` (so no subdomain can plant or
   * overwrite it), 'session' otherwise
   */
  name?: string
  /** Send the cookie over HTTPS only. Turn it off for plain-HTTP development only. @default true */
  secure?: boolean
  /**
   * `'lax'`: sent on top-level navigations from other sites, not on their subrequests or form
   * posts. `'strict'`: never sent from another site. (`'none'` is not offered: a cookie sent on
   * cross-site requests invites CSRF; cross-site clients should use `Authorization: Bearer`.)
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict'
  /** The cookie's `Domain`. Needs a `name` without the `__Host-` prefix. @default none: only the host that set it */
  domain?: string
  /** The cookie's `Path`. Anything but `/` needs a `name` without the `__Host-` prefix. @default '/' */
  path?: string
}

export interface SessionsOptions<User = unknown> {
  /**
   * Where sessions live: a `RedisCache` (shared by every server) or a `MemoryCache` (one process).
   * Give sessions a cache of their own (its own `namespace`). On Redis Cluster its `tagDepth`
   * must be 2 (`SESSION_TAG_DEPTH`), so that each user's sessions share a slot and users spread over the slots.
   */
  cache: Cache
  /**
   * The HMAC secret that signs tokens, at least 32 characters; or a list of them: the first
   * signs, every one verifies. To rotate, put the new secret first and keep the old one second
   * until every token it signed has expired (`ttlMs`).
   */
  secret: string | readonly string[]
  /**
   * Most sessions one user keeps at once: a login beyond it ends the user's oldest session, so a
   * login costs bounded work however often a user logs in. @default 100
   */
  maxSessionsPerUser?: number
  /**
   * Milliseconds between two sweeps for expired sessions, each of which emits `ended` with
   * reason `expired`. Sweeps run only while the middleware has an `ended` listener; an expired
   * session's event comes within about this time after its expiry. @default 1000
   */
  expirySweepMs?: number
  /** Milliseconds a session lives without a renewal; also the cookie's `Max-Age`. @default 1_800_000 (30 minutes) */
  ttlMs?: number
  /**
   * Milliseconds after which a request renews its session: a new token, the same fingerprint, a
   * fresh `ttlMs`. Less than `ttlMs`. `0`: every request renews, but for those that arrive while
   * a renewal of the same session is under way (they keep the token they came with).
   * @default half of `ttlMs` (15 minutes)
   */
  renewAfterMs?: number
  /**
   * Milliseconds a session lives at most from its login, however often it renews: then the user
   * logs in again. At least `ttlMs`; `0`: no limit. @default 2_592_000_000 (30 days)
   */
  maxAgeMs?: number
  /**
   * Milliseconds a token replaced by a renewal is still accepted, for requests that were already
   * on their way with it. `0` rejects it as soon as the renewal is stored. @default 10_000
   */
  rotationGraceMs?: number
  /** The session cookie's name and attributes; it is always `HttpOnly`. */
  cookie?: SessionCookieOptions
  /** Accept `Authorization: Bearer <token>` (the token `login` returns). @default true */
  bearer?: boolean
  /** Response header that carries a renewed token to a client that sent `Authorization: Bearer`. @default 'Session-Token' */
  renewedTokenHeader?: string
  /** The user's id: a string or finite number, stable for the user's life. @default `user.id` */
  userId?: (user: User) => KeyPart
  /** What is stored of a user, as JSON (keep it small: it is copied into each session). @default the user itself */
  serializeUser?: (user: User) => unknown
  /** The user back from what `serializeUser` stored; `undefined` treats the request as logged out. @default the stored value itself */
  deserializeUser?: (stored: unknown) => User | undefined
  /**
   * Milliseconds resolving a request's session (a read, and a renewal when one is due) may take
   * before the request is answered by `onUnavailable`. A renewal starts only while half of it is
   * left, and is undone if the answer goes out without it. `0`: no bound here, only the cache's
   * own (`RedisCache`'s `commandTimeoutMs`). @default 3_000
   */
  timeoutMs?: number
  /** HTTP status of the default `onUnavailable` answer (400 to 599). @default 503 */
  unavailableStatus?: number
  /**
   * Answers a request when the cache is out of reach. @default a `unavailableStatus` answer with
   * `Retry-After: 1`, JSON or HTML as the request's `Accept` prefers
   */
  onUnavailable?: UnavailableHandler
  /** The clock for renewal, grace and expiry decisions, in milliseconds since the epoch. For tests. @default Date.now */
  now?: () => number
  /**
   * Durable logouts: `logout()`, `revokeSession()`, `revokeOtherSessions()` and
   * `revokeAllSessions()` resolve only once `replicas` Redis replicas have the ending (Redis
   * `WAIT`, up to `timeoutMs` milliseconds), so a failover cannot bring back a session the user
   * was told had ended; with `logins: true`, `login()` too. When fewer replicas acknowledge in
   * time the call fails with a `CacheError` `NOT_REPLICATED` (the error handler answers 503, the
   * user tries again); the ending is made on the master meanwhile. Needs a Redis with replicas;
   * a `MemoryCache` ignores it. @default undefined (no waiting)
   */
  waitForReplicas?: SessionReplicaWait
}

export interface ResolvedCookie {
  name: string
  secure: boolean
  sameSite: 'lax' | 'strict'
  domain: string | undefined
  path: string
}

export interface ResolvedSessionsOptions<User> {
  cache: Cache
  secrets: readonly string[]
  /** `secrets` as HMAC keys, made once: the first signs, every one verifies. */
  signingKeys: readonly KeyObject[]
  timing: SessionTiming
  maxSessionsPerUser: number
  expirySweepMs: number
  cookie: ResolvedCookie
  bearer: boolean
  renewedTokenHeader: string
  userId: (user: User) => unknown
  serializeUser: (user: User) => unknown
  deserializeUser: (stored: unknown) => User | undefined
  timeoutMs: number
  unavailableStatus: number
  /** What endings wait for; undefined: nothing. */
  endingsWait: ReplicaWait | undefined
  /** What logins wait for; undefined: nothing. */
  loginsWait: ReplicaWait | undefined
  onUnavailable: UnavailableHandler | undefined
  now: () => number
}

/** Estimated bits of randomness a signing secret must show (see estimatedEntropyBits). */
const MIN_TOKEN_SECRET_ENTROPY_BITS = 96
const COOKIE_DOMAIN = /^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/
// RFC 6265 path-value: any CHAR except CTLs or ';' (and no spaces, which proxies mangle).
const COOKIE_PATH = /^[\x21-\x3A\x3C-\x7E]+$/
// RFC 9110 token characters: what a cookie or header name may contain.
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const CACHE_METHODS = ['get', 'putIf', 'batch', 'delete', 'all', 'settled'] as const

export function resolveSessionsOptions<User>(options: SessionsOptions<User>): ResolvedSessionsOptions<User> {
  if (options === null || typeof options !== 'object')
    throw new OptionError('cache', 'is required: sessions() needs options with a cache and a secret')
  const {
    cache,
    secret,
    ttlMs = DEFAULT_TOKEN_SESSION_TTL_MS,
    maxAgeMs = DEFAULT_TOKEN_SESSION_MAX_AGE_MS,
    rotationGraceMs = DEFAULT_ROTATION_GRACE_MS,
    cookie = {},
    bearer = true,
    renewedTokenHeader = DEFAULT_RENEWED_TOKEN_HEADER,
    userId = defaultUserId,
    serializeUser = (user: User): unknown => user,
    deserializeUser = (stored: unknown) => stored as User,
    timeoutMs = DEFAULT_TOKEN_SESSION_TIMEOUT_MS,
    unavailableStatus = DEFAULT_TOKEN_SESSION_UNAVAILABLE_STATUS,
    onUnavailable,
    now = Date.now,
    maxSessionsPerUser = DEFAULT_MAX_SESSIONS_PER_USER,
    expirySweepMs = DEFAULT_EXPIRY_SWEEP_MS,
  } = options

  if (cache === null || typeof cache !== 'object' || CACHE_METHODS.some((method) => typeof cache[method] !== 'function')) {
    throw new OptionError('cache', 'must be a Cache (a RedisCache or a MemoryCache)')
  }
  const layout = cache as Partial<Record<'isCluster' | 'tagDepth', unknown>>
  if (layout.isCluster === true && layout.tagDepth !== SESSION_TAG_DEPTH) {
    throw new OptionError(
      'cache',
      `must have tagDepth: ${SESSION_TAG_DEPTH} on Redis Cluster, so that each user's session records share a slot`,
    )
  }
  const secrets = resolveSecrets(secret)
  requireWhole(ttlMs, 'ttlMs', 1)
  const renewAfterMs = options.renewAfterMs ?? Math.floor(ttlMs / 2)
  requireWhole(renewAfterMs, 'renewAfterMs', 0)
  if (renewAfterMs >= ttlMs)
    throw new OptionError('renewAfterMs', `must be less than ttlMs (${ttlMs}), or sessions would expire before they renew`)
  requireWhole(maxAgeMs, 'maxAgeMs', 0)
  if (maxAgeMs !== 0 && maxAgeMs < ttlMs) throw new OptionError('maxAgeMs', `must be at least ttlMs (${ttlMs}), or 0 for no limit`)
  requireWhole(rotationGraceMs, 'rotationGraceMs', 0)
  if (rotationGraceMs > ttlMs) throw new OptionError('rotationGraceMs', `must not exceed ttlMs (${ttlMs})`)
  if (typeof bearer !== 'boolean') throw new OptionError('bearer', 'must be true or false')
  if (typeof renewedTokenHeader !== 'string' || !TOKEN_NAME.test(renewedTokenHeader)) {
    throw new OptionError('renewedTokenHeader', 'must be a valid HTTP header name')
  }
  requireFunction(userId, 'userId')
  requireFunction(serializeUser, 'serializeUser')
  requireFunction(deserializeUser, 'deserializeUser')
  requireWhole(timeoutMs, 'timeoutMs', 0)
  if (!Number.isInteger(unavailableStatus) || unavailableStatus < 400 || unavailableStatus > 599) {
    throw new OptionError('unavailableStatus', 'must be an HTTP error status, 400 to 599')
  }
  if (onUnavailable !== undefined) requireFunction(onUnavailable, 'onUnavailable')
  requireFunction(now, 'now')
  if (typeof maxSessionsPerUser !== 'number' || !Number.isSafeInteger(maxSessionsPerUser) || maxSessionsPerUser < 1) {
    throw new OptionError('maxSessionsPerUser', 'must be a whole number, at least 1')
  }
  requireWhole(expirySweepMs, 'expirySweepMs', 1)
  const { endings: endingsWait, logins: loginsWait } = resolveSessionReplicaWait(options.waitForReplicas)

  return {
    cache,
    secrets,
    signingKeys: secrets.map((item) => signingKey(item)),
    timing: { ttlMs, renewAfterMs, rotationGraceMs, maxAgeMs },
    maxSessionsPerUser,
    expirySweepMs,
    cookie: resolveCookie(cookie),
    bearer,
    renewedTokenHeader,
    userId,
    serializeUser,
    deserializeUser,
    timeoutMs,
    unavailableStatus,
    onUnavailable,
    now,
    endingsWait,
    loginsWait,
  }
}

function resolveSecrets(secret: unknown): string[] {
  const secrets: unknown[] = Array.isArray(secret) ? secret : [secret]
  if (secrets.length === 0 || secret === undefined)
    throw new OptionError('secret', 'is required: a string of at least 32 characters, or a list of them')
  secrets.forEach((item, index) => {
    const which = Array.isArray(secret) ? `secret[${index}]` : 'secret'
    if (typeof item !== 'string' || item.length < MIN_TOKEN_SECRET_LENGTH) {
      throw new OptionError(
        which,
        `must be a string of at least ${MIN_TOKEN_SECRET_LENGTH} characters (e.g. randomBytes(32).toString('base64url'))`,
      )
    }
    if (estimatedEntropyBits(item) < MIN_TOKEN_SECRET_ENTROPY_BITS) {
      throw new OptionError(
        which,
        `is too predictable (repeated or too few different characters): use a random secret, e.g. randomBytes(32).toString('base64url')`,
      )
    }
  })
  return secrets as string[]
}

/**
 * A rough upper bound on how much a secret could be guessed from its own text: its length times
 * the Shannon entropy of its characters, and nothing for a text that repeats itself. It catches
 * `'a'.repeat(32)`, `'password'.repeat(4)` or 32 NULs; 32 random hex digits pass, and so does
 * anything `randomBytes` makes. A passphrase of words may pass and still be weak: it is a net
 * for mistakes, not a proof of randomness.
 */
export function estimatedEntropyBits(text: string): number {
  for (let period = 1; period <= text.length / 2; period++) {
    if (text.length % period === 0 && text.slice(0, period).repeat(text.length / period) === text) return 0
  }
  const counts = new Map<string, number>()
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1)
  let perChar = 0
  for (const count of counts.values()) perChar -= (count / text.length) * Math.log2(count / text.length)
  return perChar * text.length
}

function resolveCookie(cookie: SessionCookieOptions): ResolvedCookie {
  if (cookie === null || typeof cookie !== 'object') throw new OptionError('cookie', 'must be an object')
  const { secure = true, sameSite = 'lax', domain, path = DEFAULT_TOKEN_COOKIE_PATH } = cookie
  if (typeof secure !== 'boolean') throw new OptionError('cookie.secure', 'must be true or false')
  const name = cookie.name ?? (secure ? DEFAULT_SECURE_TOKEN_COOKIE_NAME : DEFAULT_TOKEN_COOKIE_NAME)
  if (typeof name !== 'string' || !TOKEN_NAME.test(name)) throw new OptionError('cookie.name', 'must be a valid cookie name')
  if (sameSite !== 'lax' && sameSite !== 'strict') throw new OptionError('cookie.sameSite', "must be 'lax' or 'strict'")
  // Anything else would end the attribute early (`;`) or break the header: every login would fail.
  if (domain !== undefined && (typeof domain !== 'string' || !COOKIE_DOMAIN.test(domain))) {
    throw new OptionError('cookie.domain', 'must be a host name: letters, digits, dots and dashes')
  }
  if (typeof path !== 'string' || !path.startsWith('/') || !COOKIE_PATH.test(path)) {
    throw new OptionError('cookie.path', "must start with '/' and hold no ';', space or control character")
  }
  // Browsers drop prefixed cookies that break their rules (whatever the prefix's case): fail here instead.
  if (/^__secure-/i.test(name) && !secure) throw new OptionError('cookie.secure', 'must be true for a __Secure- cookie')
  if (/^__host-/i.test(name) && (!secure || path !== '/' || domain !== undefined)) {
    const why =
      cookie.name === undefined ? ` (the default name when secure): to set a domain or path, name the cookie, e.g. '__Secure-session'` : ''
    throw new OptionError('cookie.name', `is a __Host- cookie, which needs secure: true, path '/' and no domain${why}`)
  }
  if (!secure) warnInsecureInProduction()
  return { name, secure, sameSite, domain, path }
}

let warnedInsecure = false

/** `secure: false` is for plain-HTTP development: said once per process when NODE_ENV says production. */
function warnInsecureInProduction(): void {
  if (warnedInsecure || process.env['NODE_ENV'] !== 'production') return
  warnedInsecure = true
  process.emitWarning(
    'sessions(): cookie.secure is false while NODE_ENV is production: session cookies will travel over plain HTTP, where anyone on the path can read them',
    { code: 'SESSIONVAULT_INSECURE_COOKIE' },
  )
}

function defaultUserId(user: unknown): unknown {
  return typeof user === 'object' && user !== null ? (user as { id?: unknown }).id : undefined
}

function requireWhole(value: unknown, option: string, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OptionError(option, `must be a whole number of milliseconds, at least ${min}`)
  }
}

function requireFunction(value: unknown, option: string): void {
  if (typeof value !== 'function') throw new OptionError(option, 'must be a function')
}
