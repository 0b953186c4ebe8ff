/**
 * Operation counts and `node:diagnostics_channel` tracing, shared by the three layers.
 *
 * Each layer has one TracingChannel (`sessionvault:cache`, `sessionvault:store`,
 * `sessionvault:middleware`), as node-redis has `node-redis:command` and ioredis
 * `ioredis:command`: an APM agent subscribes to `tracing:<name>:start` (and `end`, `asyncStart`,
 * `asyncEnd`, `error`) and reads the operation from the context. With no subscriber a call costs
 * one counter increment and five `hasSubscribers` reads; no context is built.
 *
 * A context never holds a value, a token or a key: `result`, which `tracePromise` sets to what the
 * call resolved to (a session, a user), is always undefined here.
 */
import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'

/** What every layer's context holds. */
export interface OperationContext<Layer extends string = string, Operation extends string = string> {
  layer: Layer
  operation: Operation
  /** Milliseconds the call took, set before `error` and `asyncStart` are published. */
  durationMs?: number
  /** The error the call rejected with (as the caller gets it: it names no value and no token). */
  error?: unknown
}

export class TracedOperations<Operation extends string, Context extends OperationContext<string, Operation>> {
  /** Calls so far, per operation: plain counters, read by `stats()`. */
  readonly counts: Record<Operation, number>
  private readonly channel: TracingChannel<object, Context & object>

  constructor(
    channelName: string,
    operations: readonly Operation[],
    /** The context of a call, built only when someone listens. */
    private readonly contextOf: (operation: Operation, keyCount: number) => Context,
  ) {
    this.channel = tracingChannel(channelName)
    this.counts = Object.fromEntries(operations.map((operation) => [operation, 0])) as Record<Operation, number>
  }

  /**
   * Whether anything subscribed to one of the channel's events. Read from each event's channel:
   * Node 20 before 20.13 has no `hasSubscribers` on a TracingChannel.
   */
  get listened(): boolean {
    const { start, end, asyncStart, asyncEnd, error } = this.channel
    return start.hasSubscribers || end.hasSubscribers || asyncStart.hasSubscribers || asyncEnd.hasSubscribers || error.hasSubscribers
  }

  /**
   * Counts a call of `operation` and runs `work`; when someone listens, inside the channel's
   * events (`tracePromise`, so an AsyncLocalStorage bound to `start` reaches the work), with a
   * context `work` may add to and `ended` completes from the result.
   */
  run<T>(
    operation: Operation,
    work: (context: Context | undefined) => Promise<T>,
    keyCount = 0,
    ended?: (context: Context, result: T) => void,
  ): Promise<T> {
    return this.counted(operation) ? this.trace(operation, work, keyCount, ended) : work(undefined)
  }

  /**
   * Counts a call of `operation`; true when someone listens, and the call must then go through
   * `trace`. For the per-request calls: `counted(op) ? trace(op, work) : <the work, inline>`
   * allocates no closure when nobody listens.
   */
  counted(operation: Operation): boolean {
    this.counts[operation]++
    return this.listened
  }

  /** Runs `work` inside the channel's events, without counting it (see `counted`). */
  trace<T>(
    operation: Operation,
    work: (context: Context) => Promise<T>,
    keyCount = 0,
    ended?: (context: Context, result: T) => void,
  ): Promise<T> {
    return this.traced(this.contextOf(operation, keyCount), work, ended)
  }

  /** A snapshot of the counts. */
  snapshot(): Record<Operation, number> {
    return { ...this.counts }
  }

  private async traced<T>(
    context: Context,
    work: (context: Context) => Promise<T>,
    ended: ((context: Context, result: T) => void) | undefined,
  ): Promise<T> {
    const startedAt = performance.now()
    let result: T | undefined
    // The work's result stays out of the context: tracePromise sets `result` to what it resolves to.
    await this.channel.tracePromise(
      () =>
        work(context).then(
          (value) => {
            result = value
            context.durationMs = performance.now() - startedAt
            ended?.(context, value)
          },
          (error: unknown) => {
            context.durationMs = performance.now() - startedAt
            throw error
          },
        ),
      context,
    )
    return result as T
  }
}
