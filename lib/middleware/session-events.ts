/**
 * The events `sessions()` emits as sessions begin, renew and end, on the process that made the
 * change (`expired`: on one of the processes that listen). Times are in ms since the epoch, on the middleware's clock, as in `SessionInfo`; ids are
 * `SessionInfo.id` (not a credential), never a token.
 */
import type { KeyPart } from '../cache/key'

/** Why a session ended. */
export type SessionEndReason =
  /** `req.auth.logout()`, or `revokeSession()` of the request's own session. */
  | 'logout'
  /** `req.auth.revokeSession()`, `revokeOtherSessions()`, or the middleware's `revokeAllSessions()`. */
  | 'revoked'
  /**
   * A login replaced it: the request's own session (of this or another user), or the same
   * user's session on the same device, which the login overwrote (its id stays: `ended`, then
   * `created`, for one id).
   */
  | 'replaced'
  /**
   * A login of the same user went beyond `maxSessionsPerUser`, and this session, idle longest,
   * ended. To tell which, a login lists the user's sessions before and after its write (only
   * while there is an `ended` listener): a session another process ended in between is reported
   * as evicted too.
   */
  | 'evicted'
  /**
   * Its time ran out (`ttlMs` without a renewal, or `maxAgeMs`). Not emitted by the process that
   * made the change: a sweep of every process with an `ended` listener finds it, and exactly one
   * emits it, with `at` its expiry by Redis's clock (see README, "Events").
   */
  | 'expired'

export interface SessionLifeEvent {
  sessionId: string
  userId: KeyPart
  /** When it happened. */
  at: number
  /** When the session ends unless a request renews it first. */
  expiresAt: number
}

export interface SessionEndedEvent {
  sessionId: string
  userId: KeyPart
  /** When it ended. */
  at: number
  reason: SessionEndReason
}

/** Event names and listener arguments, for `middleware.on(…)`. */
export interface SessionsEvents {
  /** A login stored a new session. */
  created: [SessionLifeEvent]
  /** A request renewed its session: a new token was issued (the session and its id stay). */
  renewed: [SessionLifeEvent]
  ended: [SessionEndedEvent]
}
