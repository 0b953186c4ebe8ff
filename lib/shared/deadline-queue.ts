/**
 * Bounds how long promises may take, for many at once: one FIFO and one timer per timeout, since
 * calls that all wait the same time give up in the order they started. Used on every request
 * (whole calls, lib/shared/deadline.ts) and every Redis command (lib/cache/redis-connection.ts), where a
 * timer each would cost more than the work it guards.
 */
import { performance } from 'node:perf_hooks'

interface Watched {
  /** When the call gives up, on the `performance.now()` clock. */
  at: number
  operation: string
  reject: (error: Error) => void
  settled: boolean
}

/** How far the settled head of the queue may grow before it is cut off. */
const COMPACT_AFTER = 1024

/**
 * The calls in flight with one `timeoutMs`, oldest first: one timer, armed for the oldest,
 * suffices. With `keepAlive` it holds the process open while a call is in flight, as a timer per
 * call would; without, never (a Redis command's socket does that already).
 */
export class DeadlineQueue {
  private readonly calls: Watched[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly timeoutMs: number,
    /** The error a call that ran out of time is rejected with. */
    private readonly expired: (operation: string) => Error,
    private readonly keepAlive: boolean,
  ) {}

  watch<T>(work: Promise<T>, operation = ''): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: Watched = { at: performance.now() + this.timeoutMs, operation, reject, settled: false }
      this.calls.push(call)
      if (this.timer === undefined) this.arm(this.timeoutMs)
      else if (this.keepAlive && this.calls.length - this.head === 1) this.timer.ref()
      // Both outcomes are handled here, so a late rejection is never unhandled.
      work.then(
        (value) => {
          this.settle(call)
          resolve(value)
        },
        (error: unknown) => {
          this.settle(call)
          reject(error)
        },
      )
    })
  }

  // Calls mostly finish in the order they started, so a settled call is nearly always the head: O(1) amortized.
  private settle(call: Watched): void {
    call.settled = true
    this.advance()
  }

  private advance(): void {
    const calls = this.calls
    while (this.head < calls.length && (calls[this.head] as Watched).settled) this.head++
    if (this.head === calls.length) {
      calls.length = 0
      this.head = 0
      // Nothing in flight: the armed timer must not keep the process alive (it finds nothing when it fires).
      this.timer?.unref()
    } else if (this.head > COMPACT_AFTER && this.head * 2 > calls.length) {
      calls.splice(0, this.head)
      this.head = 0
    }
  }

  private readonly sweep = (): void => {
    this.timer = undefined
    const now = performance.now()
    for (let call = this.calls[this.head]; call && (call.settled || call.at <= now); call = this.calls[this.head]) {
      this.head++
      if (call.settled) continue
      // The late outcome has nobody left to hear it.
      call.settled = true
      call.reject(this.expired(call.operation))
    }
    this.advance()
    const next = this.calls[this.head]
    // A timer can fire a little early on the monotonic clock (it counts from the loop's cached time): then it is armed again.
    if (next) this.arm(Math.max(1, Math.ceil(next.at - now)))
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(this.sweep, delayMs)
    if (!this.keepAlive) this.timer.unref()
  }
}
