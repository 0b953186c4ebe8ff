/**
 * What the demo's pages need from a session layer, so one app runs on either of sessionvault's
 * two: the token-session middleware (token-auth.ts) or express-session with RedisSessionStore
 * (express-session-auth.ts).
 */
import type { Cache } from 'sessionvault/cache'
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express'
import type { HeardEvent } from './event-log'

export type AuthMode = 'token' | 'express-session'

export const AUTH_MODES: readonly AuthMode[] = ['token', 'express-session']

/** What a login records about the browser, shown in the device list. */
export interface DeviceInfo {
  userAgent: string
  ip: string
}

/** One of the signed-in user's sessions. */
export interface Device extends DeviceInfo {
  id: string
  /** Milliseconds since the epoch. */
  createdAt: number
  /** The session of the request that asked. */
  current: boolean
}

export interface DemoAuth {
  readonly mode: AuthMode
  /** Mounted before the routes. */
  readonly middleware: RequestHandler
  /** Mounted after the routes: turns a Redis outage inside a route into the same answer as one in the middleware. */
  readonly errorHandler: ErrorRequestHandler | undefined
  /** The signed-in user's name, or `undefined`. */
  userOf(req: Request): string | undefined
  login(req: Request, res: Response, name: string, device: DeviceInfo): Promise<void>
  logout(req: Request, res: Response): Promise<void>
  /** The signed-in user's sessions, oldest first. */
  devices(req: Request): Promise<Device[]>
  /** Ends one of the signed-in user's sessions (the current one too); false when it is not theirs. */
  revoke(req: Request, res: Response, id: string): Promise<boolean>
  /** Ends every session of the signed-in user but this one. */
  revokeOthers(req: Request): Promise<number>
  /** The sessions' cache: its breaker says whether Redis answers (see `/healthz`). */
  readonly cache: Cache
  /** Calls `listener` for each session event this instance emits (with express-session, `expired` ones too). */
  onEvent(listener: (event: HeardEvent) => void): void
}

export function isAuthMode(value: unknown): value is AuthMode {
  return AUTH_MODES.includes(value as AuthMode)
}
