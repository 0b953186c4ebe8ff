import { CacheError, UsageError, type CacheErrorContext } from '../errors'

/**
 * Turns whatever a Redis call threw into a CacheError. An error reply (OOM, WRONGTYPE, a script
 * error) is `REDIS_ERROR`; anything else (a timeout, a closed or unreachable client) is
 * `REDIS_UNAVAILABLE`. Redis's own message is kept: it names commands and keys, never arguments.
 * Our own errors pass through as they are: a CacheError, or a UsageError (a listing its tagDepth
 * cannot serve), which is raised before anything is sent and says nothing of Redis's health.
 */
export function toCacheError(error: unknown, context: CacheErrorContext): CacheError | UsageError {
  if (error instanceof CacheError || error instanceof UsageError) return error
  const message = error instanceof Error ? error.message : String(error)
  if (isErrorReply(error)) return new CacheError('REDIS_ERROR', `Redis replied: ${message}`, { ...context, cause: error })
  return new CacheError('REDIS_UNAVAILABLE', `Redis is unavailable: ${errorName(error)}: ${message}`, { ...context, cause: error })
}

export function unexpectedReply(context: CacheErrorContext, expected: string): CacheError {
  return new CacheError('UNEXPECTED_REPLY', `Redis sent a reply that is not ${expected}`, context)
}

/** node-redis's error replies are instances of its `ErrorReply`, ioredis's of `ReplyError`; matched by name so any copy of either fits. */
export function isErrorReply(error: unknown): boolean {
  for (let proto: unknown = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name
    if (name === 'ErrorReply' || name === 'ReplyError') return true
  }
  return false
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error
}
