// `sessionvault/middleware`: token sessions. Importing it adds `req.auth` to Express's Request type.

export { sessions } from './sessions'
export type { SessionsMiddleware } from './sessions'
export { asyncHandler } from './async-handler'
export type { AsyncRoute } from './async-handler'
export type { SessionsOptions, SessionCookieOptions, UnavailableHandler } from './options'
export type { SessionContext, SessionInfo, DeviceSession, LoginOptions, LoginResult, SessionMetadata } from './context'
export { SESSION_TAG_DEPTH } from './records'
export type { SessionsEvents, SessionLifeEvent, SessionEndedEvent, SessionEndReason } from './session-events'
export { MIDDLEWARE_CHANNEL } from './middleware-stats'
export type { MiddlewareStats, MiddlewareOperation, MiddlewareOperationContext } from './middleware-stats'
export type { Cache, SessionReplicaWait } from '../cache/cache'

export * from '../public-errors'
