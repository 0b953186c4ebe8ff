/**
 * Every error sessionvault throws. Messages name the operation and the key, never a stored
 * value: values hold user data and error messages end up in logs.
 */

export type ErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_USE'
  | 'MALFORMED_KEY'
  | 'UNDECODABLE_VALUE'
  | 'UNSERIALIZABLE_VALUE'
  | 'REDIS_ERROR'
  | 'UNEXPECTED_REPLY'
  | 'REDIS_UNAVAILABLE'
  | 'NOT_REPLICATED'

export interface SessionVaultErrorOptions {
  cause?: unknown
}

/** Base class: every sessionvault error has a `name`, a literal `code` and, where one exists, a `cause`. */
export class SessionVaultError extends Error {
  override name = 'SessionVaultError'
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options: SessionVaultErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined)
    this.code = code
  }
}

/** A bad option, thrown by a constructor or factory before anything runs. */
export class OptionError extends SessionVaultError {
  override name = 'OptionError'
  /** The option at fault, e.g. `ttlMs` or `store.ttl`. */
  readonly option: string

  constructor(option: string, message: string) {
    super('INVALID_OPTION', `option \`${option}\` ${message}`)
    this.option = option
  }
}

/**
 * A call that cannot be carried out as made, found while running (where `OptionError` is found
 * before): a method that needs an option the object was built without, or a function given as
 * an option that returned something unusable.
 */
export class UsageError extends SessionVaultError {
  override name = 'UsageError'
  /** The option involved, when there is one, e.g. `ttl` or `userOf`. */
  readonly option: string | undefined

  constructor(message: string, options: SessionVaultErrorOptions & { option?: string } = {}) {
    super('INVALID_USE', message, options)
    this.option = options.option
  }
}

export type CacheErrorCode = Exclude<ErrorCode, 'INVALID_OPTION' | 'INVALID_USE'>

export interface CacheErrorContext extends SessionVaultErrorOptions {
  /** The cache operation that failed: `put`, `get`, `delete`, `all`… */
  operation: string
  /** The Redis commands involved (names only, never their arguments). */
  commands?: readonly string[]
  /** The cache key involved, when there is one. */
  key?: readonly unknown[]
}

/** A cache operation failed: an unexpected Redis reply, Redis out of reach, a malformed key or an undecodable value. */
export class CacheError extends SessionVaultError {
  override name = 'CacheError'
  declare readonly code: CacheErrorCode
  readonly operation: string
  readonly commands: readonly string[]
  readonly key: readonly unknown[] | undefined

  constructor(code: CacheErrorCode, detail: string, context: CacheErrorContext) {
    const where = [
      context.commands?.length ? `(${context.commands.join(', ')})` : '',
      context.key ? `for key ${describeKey(context.key)}` : '',
    ]
      .filter(Boolean)
      .join(' ')
    super(code, `cache ${context.operation} failed${where ? ' ' + where : ''}: ${detail}`, context)
    this.operation = context.operation
    this.commands = context.commands ?? []
    this.key = context.key
  }
}

export function isSessionVaultError(error: unknown): error is SessionVaultError {
  return error instanceof SessionVaultError
}

export function isCacheError(error: unknown): error is CacheError {
  return error instanceof CacheError
}

export function isOptionError(error: unknown): error is OptionError {
  return error instanceof OptionError
}

export function isUsageError(error: unknown): error is UsageError {
  return error instanceof UsageError
}

// Error replies that mean "try again shortly", not "this request is wrong". NOREPLICAS: a master
// cut off from its replicas refuses writes (min-replicas-to-write) until it is back or replaced.
const TRANSIENT_REPLY = /^(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|NOREPLICAS)\b/

/**
 * True for a cache error that says Redis cannot answer right now: out of reach, too slow, busy
 * with a restart or a failover, or unable to confirm a change on enough replicas in time
 * (`NOT_REPLICATED`); so the right answer is a 503, not a 500.
 */
export function isUnavailableError(error: unknown): error is CacheError {
  if (!isCacheError(error)) return false
  if (error.code === 'REDIS_UNAVAILABLE' || error.code === 'NOT_REPLICATED') return true
  const reply = error.cause instanceof Error ? error.cause.message : ''
  return error.code === 'REDIS_ERROR' && TRANSIENT_REPLY.test(reply)
}

/**
 * True for a cache error that says Redis is full (`maxmemory` reached, with the `noeviction`
 * policy): it refuses new records, while reads, touches and endings go on working. New sessions
 * fail with it until memory is freed or raised; the right answer is a 503, not a 500.
 */
export function isFullError(error: unknown): error is CacheError {
  if (!isCacheError(error) || error.code !== 'REDIS_ERROR') return false
  const reply = error.cause instanceof Error ? error.cause.message : ''
  return reply.startsWith('OOM ')
}

/** Keys are identifiers (`['user', 42]`), safe to log; anything else is summarised by its type. */
function describeKey(key: readonly unknown[]): string {
  return `[${key.map((part) => (typeof part === 'string' || typeof part === 'number' ? JSON.stringify(part) : `<${typeof part}>`)).join(', ')}]`
}
