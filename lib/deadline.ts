import { performance } from 'node:perf_hooks'
import { CacheError } from './errors'

/**
 * Bounds a whole call of the session layers, which may take several Redis round trips: past
 * `timeoutMs` (`0`: never) it fails with `REDIS_UNAVAILABLE` instead of hanging. Each command is
 * also bounded by the cache's own `commandTimeoutMs`, so nothing is left queued to run after the
 * caller has given up.
 *
 * Every call runs this (the middleware once per request, the store on each `get` and `touch`),
 * so it arms no timer of its own: like Node's timer lists, one queue per `timeoutMs` and one
 * timer per queue serve every call in flight (see `DeadlineQueue`).
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  if (timeoutMs === 0) return work
  let queue = queues.get(timeoutMs)
  if (queue === undefined) queues.set(timeoutMs, (queue = new DeadlineQueue(timeoutMs)))
  return queue.watch(work, operation)
}

/** One per distinct `timeoutMs` ever used: a handful in a process (each store's and middleware's option). */
const queues = new Map<number, DeadlineQueue>()

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
 * The calls in flight with one `timeoutMs`, oldest first. They all wait the same time, so they
 * give up in the order they started: one timer, armed for the oldest, suffices. It keeps the
 * process alive only while a call is in flight, as a timer per call would.
 */
class DeadlineQueue {
  private readonly calls: Watched[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly timeoutMs: number) {}

  watch<T>(work: Promise<T>, operation: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: Watched = { at: performance.now() + this.timeoutMs, operation, reject, settled: false }
      this.calls.push(call)
      if (this.timer === undefined) this.timer = setTimeout(this.sweep, this.timeoutMs)
      else if (this.calls.length - this.head === 1) this.timer.ref()
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
      call.reject(new CacheError('REDIS_UNAVAILABLE', `Redis did not answer within ${this.timeoutMs} ms`, { operation: call.operation }))
    }
    this.advance()
    const next = this.calls[this.head]
    // A timer can fire a little early on the monotonic clock (it counts from the loop's cached time): then it is armed again.
    if (next) this.timer = setTimeout(this.sweep, Math.max(1, Math.ceil(next.at - now)))
  }
}
