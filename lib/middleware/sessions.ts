/**
 * `sessions(options)`: the token-session middleware (Pow's session plug, for Express).
 *
 * Per request: read the token (bearer header or cookie), verify its signature (a bad one costs
 * no cache access; a token verified before, a map lookup: verified-tokens.ts), read its session
 * (one cache read, none on a near-cache hit), renew it when due, and expose it all as
 * `req.auth`. The cache out of reach means a bounded wait and a 503, never a hang or a crash.
 */
import type { KeyObject } from 'node:crypto'
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express'
import type { KeyPart } from '../cache/key'
import { copyJson } from '../cache/shared-read'
import { isFullError, isUnavailableError, UsageError } from '../errors'
import type { SessionContext, SessionMetadata } from './context'
import { CredentialsCache, type AuthenticatedSession } from './credentials-cache'
import { resolveSessionsOptions, type SessionsOptions } from './options'
import { isUserId } from './records'
import { RequestDeadline } from './request-deadline'
import { RequestSession } from './request-session'
import { signToken } from './signing'
import { cookieMaxAgeSeconds } from './timing'
import { clearTokenCookie, deliverToken, presentedToken } from './transport'
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
  /**
   * An Express error handler, to `app.use()` after the routes: a cache outage inside a route
   * (a `login` or `logout` while Redis is down), or a login refused by a full Redis, gets the
   * same answer as an outage in the middleware (`onUnavailable`).
   */
  readonly errorHandler: ErrorRequestHandler
}

/** A request this middleware has seen: its context is kept under the middleware's own symbol. */
type WithContext<User, Meta> = Request & { [key: symbol]: RequestSession<User, Meta> | undefined }

export function sessions<User = unknown, Meta = SessionMetadata>(options: SessionsOptions<User>): SessionsMiddleware<User, Meta> {
  const resolved = resolveSessionsOptions(options)
  const { cache, signingKeys, timing, cookie, bearer, renewedTokenHeader, timeoutMs, now } = resolved
  const credentials = new CredentialsCache(cache, timing, now, resolved.maxSessionsPerUser, { endings: resolved.endingsWait, logins: resolved.loginsWait })
  const onUnavailable = resolved.onUnavailable ?? unavailableResponder(resolved.unavailableStatus)
  // Each request's context, under a key only this middleware knows. Not a WeakMap: V8's minor GC
  // keeps a WeakMap's values alive, and a context holds its request and response, so every
  // request would outlive its young generation and be left for the much costlier major GC.
  const contextKey = Symbol('sessions() context')
  const verifiedTokens = new VerifiedTokens(signingKeys)

  // Express 4 ignores a middleware's promise: a rejection would reach no one (an unhandled
  // rejection, a request never answered), so none leaves here. A throwing `onUnavailable` or
  // cookie write goes to `next(err)` like any other error.
  function sessionsMiddleware(req: Request, res: Response, next: NextFunction): void {
    resolveSession(req, res, next).catch((error: unknown) => next(error ?? new Error('sessions: the request failed with no reason')))
  }

  async function resolveSession(req: Request, res: Response, next: NextFunction): Promise<void> {
    const context = new RequestSession<User, Meta>(req, res, credentials, resolved)
    const seen = req as WithContext<User, Meta>
    seen[contextKey] = context
    req.auth = context as SessionContext
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

    let found: AuthenticatedSession | undefined
    const deadline = new RequestDeadline(timeoutMs)
    try {
      found = await deadline.bound(credentials.authenticatePresented(verified, deadline), 'sessions')
    } catch (error) {
      if (isUnavailableError(error)) return onUnavailable(error, req, res, next)
      return next(error)
    }
    // A correctly signed token that opens nothing (ended, expired, past its grace) is not cleared:
    // this request may have left before a renewal whose response set the new cookie, which a
    // clear arriving later would erase. It costs a read per request until its Max-Age runs out.
    if (found === undefined) return next()
    let user: User | undefined
    try {
      // A copy: the record may be shared with other requests (a near-cache hit), and the app may change its user.
      user = resolved.deserializeUser(copyJson(found.record.user))
    } catch (error) {
      return next(error)
    }
    if (user === undefined) return next()
    context.attach(found, user)

    // A renewed token, or the same token re-signed with the current secret. Never to a graced
    // request: the new token belongs to the request that renewed.
    const token = found.renewedToken ?? (verified.secretIndex > 0 && !found.graced ? verified.token : undefined)
    if (token !== undefined) {
      const maxAge = cookieMaxAgeSeconds(found.record, now(), timing)
      deliverToken(res, presented.source, signToken(token, signingKeys[0] as KeyObject), maxAge, cookie, renewedTokenHeader)
    }
    next()
  }

  function of(req: Request): SessionContext<User, Meta> {
    const context = (req as WithContext<User, Meta>)[contextKey]
    if (context === undefined) throw new UsageError('sessions: of(req) was given a request this middleware has not seen; app.use() it before the routes')
    return context
  }

  async function revokeAllSessions(userId: KeyPart): Promise<number> {
    if (!isUserId(userId)) throw new UsageError('revokeAllSessions(userId): userId must be a non-empty string or a finite number')
    return credentials.revokeAll(userId)
  }

  async function updateUser(user: User): Promise<void> {
    const userId: unknown = resolved.userId(user)
    if (!isUserId(userId)) {
      throw new UsageError('updateUser(user): the userId option returned no usable id for this user (a non-empty string or a finite number)', { option: 'userId' })
    }
    await credentials.updateUser(userId, resolved.serializeUser(user))
  }

  const errorHandler: ErrorRequestHandler = function sessionsErrorHandler(error, req, res, next) {
    // A full Redis refuses new sessions only: a login then gets the same "try again" answer.
    if ((isUnavailableError(error) || isFullError(error)) && !res.headersSent) return onUnavailable(error, req, res, next)
    next(error)
  }

  return Object.assign(sessionsMiddleware, { of, revokeAllSessions, updateUser, errorHandler })
}

/** The first of the presented values that a configured secret signed. */
function firstVerified(values: readonly string[], verifiedTokens: VerifiedTokens): VerifiedCredentials | undefined {
  for (const value of values) {
    const verified = verifiedTokens.verify(value)
    if (verified !== undefined) return verified
  }
  return undefined
}
