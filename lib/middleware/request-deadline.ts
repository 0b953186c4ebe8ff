/**
 * One request's time budget (`timeoutMs`), as a renewal needs to see it: a token issued after
 * the request has been answered `onUnavailable` never reaches the client (which then keeps the
 * token it has, still valid), so a renewal only starts with time to spare.
 */
import { performance } from 'node:perf_hooks'
import { withDeadline } from '../shared/deadline'

export interface RenewalDeadline {
  /** True while at least half of the request's budget is left: room for a renewal's round trip. */
  roomToRenew(): boolean
}

/** For calls outside a request (and tests): all the time in the world. */
export const NO_DEADLINE: RenewalDeadline = { roomToRenew: () => true }

export class RequestDeadline implements RenewalDeadline {
  private readonly startedAt: number
  private expired = false

  /** `timeoutMs`: `0` bounds nothing. `now`: a monotonic clock in ms, for tests. */
  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.startedAt = now()
  }

  get passed(): boolean {
    return this.expired
  }

  roomToRenew(): boolean {
    return this.timeoutMs === 0 || (!this.expired && this.now() - this.startedAt <= this.timeoutMs / 2)
  }

  /**
   * `work`, bounded by the budget. Once the answer has given up, `passed` is true and there is no
   * more room to renew: a renewal that would start after it could not reach the client.
   */
  bound<T>(work: Promise<T>, operation: string): Promise<T> {
    return withDeadline(work, this.timeoutMs, operation).catch((error: unknown) => {
      this.expired = true
      throw error
    })
  }
}

function monotonicNow(): number {
  return performance.now()
}
