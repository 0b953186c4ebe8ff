/**
 * `sessions(options)`: the token-session middleware (Pow's session plug, for Express).
 *
 * Per request: read the token (bearer header or cookie), verify its signature (a bad one costs
 * no cache access; a token verified before, a map lookup: verified-tokens.ts), read its session
 * (one cache read, none on a near-cache hit), renew it when due, and expose it all as
 * `req.auth`. The cache out of reach means a bounded wait and a 503, never a hang or a crash.
 */
import type { KeyObject } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express'
import type { KeyPart } from '../cache/key'
import { isExpiryQueue } from '../cache/expiry-queue'
import { ExpirySweeper } from '../cache/expiry-sweeper'
import { canPeekShared, copyJson, NOT_IN_MEMORY } from '../cache/shared-read'
import { isFullError, isUnavailableError, UsageError } from '../errors'
import type { SessionContext, SessionMetadata } from './context'
import { CredentialsCache, type AuthenticatedSession } from './credentials-cache'
import { ExpiryMarkers, MARKERS_PREFIX } from './expiry-markers'
import type { MiddlewareOperationContext, MiddlewareStats } from './middleware-stats'
import { resolveSessionsOptions, type SessionsOptions } from './options'
import { isUserId, sessionIdIn } from './records'
import { RequestDeadline } from './request-deadline'
import { RequestSession } from './request-session'
import type { SessionsEvents } from './session-events'
import { signToken } from './signing'
import { cookieMaxAgeSeconds } from './timing'
import { InMemoryHits } from '../shared/in-memory-hits'
import { clearTokenCookie, deliverToken, presentedToken, type TokenSource } from './transport'
import { unavailableResponder } from './unavailable'
import { VerifiedTokens, type VerifiedCredentials } from './verified-tokens'

export interface SessionsMiddleware<User = unknown, Meta = SessionMetadata> {
  /** Returns nothing to Express: every failure goes to `next(err)`, on Express 4 as on 5. */
  (req: Request, res: Response, next: NextFunction): void
  /** `req.auth`, typed with this middleware's `User` and metadata. Throws a `UsageError` for a request it has not seen. */
  of(req: Request): SessionContext<User, Meta>
  /** Ends every session of a user, from any server ("sign out everywhere", an admin's ban); resolves to how many ended. */
  revokeAllSessions(userId: KeyPart): Promise<number>
  /** Replaces the stored user in every one of their sessions: every server serves the new copy from the next request on. */
  updateUser(user: User): Promise<void>
  /** Calls of each operation, and the stats of the cache (plain counters: cheap to read on every scrape). */
  stats(): MiddlewareStats
  /**
   * An Express error handler, to `app.use()` after the routes: a cache outage inside a route
   * (a `login` or `logout` while Redis is down), or a login refused by a full Redis, gets the
   * same answer as an outage in the middleware (`onUnavailable`).
   */
  readonly errorHandler: ErrorRequestHandler
  /** Listens for sessions created, renewed and ended by this process (see `SessionsEvents`). */
  on<E extends keyof SessionsEvents>(event: E, listener: (...args: SessionsEvents[E]) => void): this
  once<E extends keyof SessionsEvents>(event: E, listener: (...args: SessionsEvents[E]) => void): this
  off<E extends keyof SessionsEvents>(event: E, listener: (...args: SessionsEvents[E]) => void): this
}

/** A request with a verified token, on its way to its session. */
interface PresentedRequest<User, Meta> {
  req: Request
  res: Response
  next: NextFunction
  context: RequestSession<User, Meta>
  source: TokenSource
  verified: VerifiedCredentials
}

/** What `authenticate` gives once the request has been answered `onUnavailable`. */
const UNAVAILABLE: unique symbol = Symbol('answered as unavailable')

/** A request this middleware has seen: its context is kept under the middleware's own symbol. */
type WithContext<User, Meta> = Request & { [key: symbol]: RequestSession<User, Meta> | undefined }

export function sessions<User = unknown, Meta = SessionMetadata>(options: SessionsOptions<User>): SessionsMiddleware<User, Meta> {
  const resolved = resolveSessionsOptions(options)
  const { cache, signingKeys, timing, cookie, bearer, renewedTokenHeader, timeoutMs, now } = resolved
  const events = new EventEmitter<SessionsEvents>()
  const markers = isExpiryQueue(cache) ? new ExpiryMarkers(cache, resolved.secrets) : undefined
  const credentials = new CredentialsCache(
    cache,
    timing,
    now,
    resolved.maxSessionsPerUser,
    { endings: resolved.endingsWait, logins: resolved.loginsWait },
    events,
    markers,
  )
  if (markers !== undefined) {
    const sweeper = new ExpirySweeper(markers, MARKERS_PREFIX, resolved.expirySweepMs, ({ key, userId, expiresAtMs }) =>
      events.emit('ended', { sessionId: sessionIdIn(key), userId, at: expiresAtMs, reason: 'expired' }),
    )
    // Sweeps cost Redis work: they run only while someone listens.
    const emitter = events as EventEmitter
    emitter.on('newListener', (event: string) => event === 'ended' && sweeper.start())
    emitter.on('removeListener', (event: string) => event === 'ended' && events.listenerCount('ended') === 0 && sweeper.stop())
  }
  const onUnavailable = resolved.onUnavailable ?? unavailableResponder(resolved.unavailableStatus)
  // Each request's context, under a key only this middleware knows. Not a WeakMap: V8's minor GC
  // keeps a WeakMap's values alive, and a context holds its request and response, so every
  // request would outlive its young generation and be left for the much costlier major GC.
  const contextKey = Symbol('sessions() context')
  const verifiedTokens = new VerifiedTokens(signingKeys)

  // A near-cache copy answers a request without a promise (in-memory-hits.ts); anything else,
  // or a copy that turns out to need a write, takes the request's async path.
  const inMemory = canPeekShared(cache)
    ? new InMemoryHits<PresentedRequest<User, Meta>>(answerFromMemory, (request, error) => request.next(error))
    : undefined

  // Express 4 ignores a middleware's promise: a rejection would reach no one (an unhandled
  // rejection, a request never answered), so none leaves here. A throwing `onUnavailable` or
  // cookie write goes to `next(err)` like any other error.
  function sessionsMiddleware(req: Request, res: Response, next: NextFunction): void {
    const context = new RequestSession<User, Meta>(req, res, credentials, resolved)
    const seen = req as WithContext<User, Meta>
    seen[contextKey] = context
    req.auth = context as SessionContext
    let request: PresentedRequest<User, Meta>
    try {
      const presented = presentedToken(req, cookie, bearer)
      if (presented === undefined) return next()
      const verified = firstVerified(presented.values, verifiedTokens)
      if (verified === undefined) {
        // No secret signed this cookie, so it can never open a session: dropped, so the browser
        // stops sending it. Not when there are several: the clear would hit the real one, and
        // the others may have been planted by a sibling subdomain to sign the user out.
        if (presented.source === 'cookie' && presented.values.length === 1) clearTokenCookie(res, cookie)
        return next()
      }
      request = { req, res, next, context, source: presented.source, verified }
    } catch (error) {
      return next(error)
    }
    // A token signed with an older secret is re-signed, and a traced request has its events: both take the async path.
    if (inMemory !== undefined && request.verified.secretIndex === 0 && !credentials.operations.listened) return inMemory.add(request)
    resolveSession(request)
  }

  /** What `inMemory` runs for each request on its turn; what it throws goes to the request's `next`. */
  function answerFromMemory(request: PresentedRequest<User, Meta>): void {
    const found = credentials.authenticateInMemory(request.verified)
    if (found === NOT_IN_MEMORY) resolveSession(request)
    else attachSession(request, found)
  }

  function resolveSession(request: PresentedRequest<User, Meta>): void {
    authenticate(request)
      .then((found) => {
        if (found !== UNAVAILABLE) attachSession(request, found)
      })
      .catch((error: unknown) => request.next(error ?? new Error('sessions: the request failed with no reason')))
  }

  /** The session the request's token opens, read (and renewed when due) within the request's budget; `UNAVAILABLE` once answered `onUnavailable`. */
  async function authenticate(request: PresentedRequest<User, Meta>): Promise<AuthenticatedSession | undefined | typeof UNAVAILABLE> {
    const { req, res, next, verified } = request
    const deadline = new RequestDeadline(timeoutMs)
    try {
      const { operations } = credentials
      // Every request with a token comes here: no closure unless someone listens.
      return await (operations.counted('authenticate')
        ? operations.trace(
            'authenticate',
            () => deadline.bound(credentials.authenticatePresented(verified, deadline), 'sessions'),
            0,
            authenticated,
          )
        : deadline.bound(credentials.authenticatePresented(verified, deadline), 'sessions'))
    } catch (error) {
      if (!isUnavailableError(error)) throw error
      onUnavailable(error, req, res, next)
      return UNAVAILABLE
    }
  }

  /** Exposes what the token opened as `req.auth`, sends a renewed (or re-signed) token, and goes on to the routes. */
  function attachSession(request: PresentedRequest<User, Meta>, found: AuthenticatedSession | undefined): void {
    const { res, next, context, source, verified } = request
    // A correctly signed token that opens nothing (ended, expired, past its grace) is not cleared:
    // this request may have left before a renewal whose response set the new cookie, which a
    // clear arriving later would erase. It costs a read per request until its Max-Age runs out.
    if (found === undefined) return next()
    try {
      // A copy: the record may be shared with other requests (a near-cache hit), and the app may change its user.
      const user = resolved.deserializeUser(copyJson(found.record.user))
      if (user === undefined) return next()
      context.attach(found, user)
      // A renewed token, or the same token re-signed with the current secret. Never to a graced
      // request: the new token belongs to the request that renewed.
      const token = found.renewedToken ?? (verified.secretIndex > 0 && !found.graced ? verified.token : undefined)
      if (token !== undefined) {
        const maxAge = cookieMaxAgeSeconds(found.record, now(), timing)
        deliverToken(res, source, signToken(token, signingKeys[0] as KeyObject), maxAge, cookie, renewedTokenHeader)
      }
    } catch (error) {
      return next(error)
    }
    next()
  }

  function of(req: Request): SessionContext<User, Meta> {
    const context = (req as WithContext<User, Meta>)[contextKey]
    if (context === undefined)
      throw new UsageError('sessions: of(req) was given a request this middleware has not seen; app.use() it before the routes')
    return context
  }

  function revokeAllSessions(userId: KeyPart): Promise<number> {
    return credentials.operations.run('revokeAllSessions', async () => {
      if (!isUserId(userId)) throw new UsageError('revokeAllSessions(userId): userId must be a non-empty string or a finite number')
      return credentials.revokeAll(userId)
    })
  }

  function updateUser(user: User): Promise<void> {
    return credentials.operations.run('updateUser', async () => {
      const userId: unknown = resolved.userId(user)
      if (!isUserId(userId)) {
        throw new UsageError(
          'updateUser(user): the userId option returned no usable id for this user (a non-empty string or a finite number)',
          { option: 'userId' },
        )
      }
      await credentials.updateUser(userId, resolved.serializeUser(user))
    })
  }

  function stats(): MiddlewareStats {
    return { operations: credentials.operations.snapshot(), cache: cache.stats?.() }
  }

  const errorHandler: ErrorRequestHandler = function sessionsErrorHandler(error, req, res, next) {
    // A full Redis refuses new sessions only: a login then gets the same "try again" answer.
    if ((isUnavailableError(error) || isFullError(error)) && !res.headersSent) return onUnavailable(error, req, res, next)
    next(error)
  }

  const middleware: SessionsMiddleware<User, Meta> = Object.assign(sessionsMiddleware, {
    of,
    revokeAllSessions,
    updateUser,
    stats,
    errorHandler,
    on<E extends keyof SessionsEvents>(event: E, listener: (...args: SessionsEvents[E]) => void) {
      events.on(event, listener as never)
      return middleware
    },
    once<E extends keyof SessionsEvents>(event: E, listener: (...args: SessionsEvents[E]) => void) {
      events.once(event, listener as never)
      return middleware
    },
    off<E extends keyof SessionsEvents>(event: E, listener: (...args: SessionsEvents[E]) => void) {
      events.off(event, listener as never)
      return middleware
    },
  })
  return middleware
}

/** What a traced `authenticate` ends with: whether the token opened a session, and whether it was renewed. */
function authenticated(context: MiddlewareOperationContext, found: AuthenticatedSession | undefined): void {
  context.found = found !== undefined
  context.renewed = found?.renewedToken !== undefined
}

/** The first of the presented values that a configured secret signed. */
function firstVerified(values: readonly string[], verifiedTokens: VerifiedTokens): VerifiedCredentials | undefined {
  for (const value of values) {
    const verified = verifiedTokens.verify(value)
    if (verified !== undefined) return verified
  }
  return undefined
}
