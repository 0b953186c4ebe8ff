/**
 * What a request sees of its session: `req.auth`, typed by augmenting Express's Request.
 *
 * `req.auth` is typed with an unknown user; `middleware.of(req)` returns the same object typed
 * with the app's `User` and metadata types.
 */
import type { KeyPart } from '../cache/key'

/** What an app records about a login (user agent, IP, a device name…): stored as JSON. */
export type SessionMetadata = Record<string, unknown>

/** One session, as the app sees it. Times are in milliseconds since the epoch, on the middleware's clock. */
export interface SessionInfo<Meta = SessionMetadata> {
  /** Identifies the session for its whole life, across token renewals. Not a credential: safe to show. */
  readonly id: string
  readonly userId: KeyPart
  /** The device's identity: kept across renewals; a new login with it replaces this session. */
  readonly fingerprint: string
  readonly createdAt: number
  /** When the current token was issued (at login or at the last renewal). */
  readonly renewedAt: number
  /** When the session ends unless a request renews it first. */
  readonly expiresAt: number
  readonly metadata: Meta
}

/** An entry of the device list. */
export interface DeviceSession<Meta = SessionMetadata> extends SessionInfo<Meta> {
  /** True for the session of the request that asked. */
  readonly current: boolean
}

// `metadata` may only be left out when the app's metadata type has no required field.
type MetadataOption<Meta> = Record<never, never> extends Meta ? { metadata?: Meta } : { metadata: Meta }

export type LoginOptions<Meta = SessionMetadata> = MetadataOption<Meta> & {
  /** The device identity to give this session. @default the current session's, else a new random one */
  fingerprint?: string
  /**
   * Set the session cookie. `false` for API clients that keep the returned token themselves (the
   * response is then marked `Cache-Control: no-store`, as the token goes out in its body). @default true
   */
  cookie?: boolean
}

export interface LoginResult<Meta = SessionMetadata> {
  /** The signed token: what the cookie holds, and what an API client sends as `Authorization: Bearer <token>`. */
  token: string
  session: SessionInfo<Meta>
}

export interface SessionContext<User = unknown, Meta = SessionMetadata> {
  /** The logged-in user, or `undefined`. */
  readonly user: User | undefined
  /** The current session, or `undefined` when not logged in. */
  readonly session: SessionInfo<Meta> | undefined
  /**
   * Logs `user` in with a fresh token (never the one the request came with: no session
   * fixation). The request's current session, and any of the user's sessions with the same
   * fingerprint, are replaced. Throws a `UsageError` once the response headers are sent.
   */
  login(
    user: User,
    ...options: Record<never, never> extends Meta ? [options?: LoginOptions<Meta>] : [options: LoginOptions<Meta>]
  ): Promise<LoginResult<Meta>>
  /** Ends the current session everywhere and clears the cookie. Does nothing when not logged in. */
  logout(): Promise<void>
  /** The current user's sessions (devices), oldest first. Empty when not logged in. */
  listSessions(): Promise<DeviceSession<Meta>[]>
  /** Ends one of the current user's sessions; resolves to whether it existed. */
  revokeSession(id: string): Promise<boolean>
  /** Ends every session of the current user but this one; resolves to how many ended. */
  revokeOtherSessions(): Promise<number>
}

declare global {
  // Express's own extension point for request state.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The token session of this request, set by the `sessions()` middleware. */
      auth: SessionContext
    }
  }
}
