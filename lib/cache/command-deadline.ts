/**
 * Bounds how long a Redis command may take, cheaply enough for every command.
 *
 * node-redis's own per-command `timeout` builds an `AbortSignal.timeout()` for each command
 * (measured at several µs per GET, most of a GET's client-side cost), and like `abortSignal` it
 * only covers the wait before the command is written. So commands that start within a tenth
 * of the timeout share one deadline: one timer, one AbortController that drops them from the
 * client's queue if still unsent (so they never run late), and one promise that rejects those
 * already written. A command's effective timeout is between 90% and 100% of `timeoutMs`.
 */

export interface Deadline {
  /** Aborts commands not yet written when the deadline passes. */
  readonly signal: AbortSignal
  /** Rejects with a `CommandTimeoutError` when the deadline passes. */
  readonly expired: Promise<never>
}

/** A command got no answer in time. */
export class CommandTimeoutError extends Error {
  override name = 'CommandTimeoutError'

  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
  }
}

export class CommandDeadlines {
  private current: (Deadline & { startedAt: number }) | undefined

  constructor(private readonly timeoutMs: number) {}

  /** The deadline for a command that starts now. */
  next(): Deadline {
    const now = performance.now()
    if (this.current && now - this.current.startedAt < this.timeoutMs / 10) return this.current
    const controller = new AbortController()
    let expire: (error: Error) => void = () => undefined
    const expired = new Promise<never>((_, reject) => (expire = reject))
    expired.catch(() => undefined) // nobody may be waiting on it when it fires
    const timer = setTimeout(() => {
      const error = new CommandTimeoutError(this.timeoutMs)
      expire(error) // first, so a race sees this error rather than the client's AbortError
      controller.abort(error)
    }, this.timeoutMs)
    timer.unref()
    this.current = { signal: controller.signal, expired, startedAt: now }
    return this.current
  }
}
