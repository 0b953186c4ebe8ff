/**
 * A timer that claims expired records every `intervalMs` (see expiry-queue.ts) and hands them to
 * `deliver`, then acknowledges them. Runs only between `start()` and `stop()`, never two sweeps at
 * once, and never keeps the process alive. A sweep that fails (Redis out of reach) is simply
 * retried on the next tick: what it had claimed comes back once its lease runs out.
 */
import { EXPIRY_SWEEP_LEASE_MS, EXPIRY_SWEEP_MAX } from '../defaults'
import type { ClaimOptions, ExpiredClaims, ExpiredRecord } from './expiry-queue'
import type { KeyPart } from './key'

/** A queue to sweep: a cache, or one built on it that hands out records of its own kind. */
interface SweptQueue<R extends ExpiredRecord> {
  claimExpired(prefix: readonly KeyPart[], options: ClaimOptions): Promise<ExpiredClaims & { records: R[] }>
}

export class ExpirySweeper<R extends ExpiredRecord = ExpiredRecord> {
  private timer: NodeJS.Timeout | undefined
  private running = false
  /** A sweep under way schedules the next itself: started again meanwhile, nothing else does. */
  private sweeping = false

  constructor(
    private readonly queue: SweptQueue<R>,
    private readonly prefix: readonly KeyPart[],
    private readonly intervalMs: number,
    /** Called once per claimed record, synchronously; the claims are acknowledged after it returns. */
    private readonly deliver: (record: R) => void,
  ) {}

  start(): void {
    if (this.running) return
    this.running = true
    if (!this.sweeping) this.schedule()
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Sweeps start `intervalMs` apart (or at once when one took longer), so the time a sweep takes does not add up. */
  private schedule(startedAt = performance.now()): void {
    this.timer = setTimeout(() => void this.sweep(), Math.max(0, startedAt + this.intervalMs - performance.now()))
    this.timer.unref()
  }

  private async sweep(): Promise<void> {
    const startedAt = performance.now()
    this.sweeping = true
    let failure: { error: unknown } | undefined
    try {
      const claims = await this.queue.claimExpired(this.prefix, { max: EXPIRY_SWEEP_MAX, leaseMs: EXPIRY_SWEEP_LEASE_MS })
      for (const record of claims.records) {
        try {
          this.deliver(record)
        } catch (error) {
          // A listener's error is the app's: it is thrown again below, once the claims are acknowledged.
          failure ??= { error }
        }
      }
      // Always: a queue built on the cache may have claimed more than the records it hands out.
      await claims.acknowledge()
    } catch {
      // Redis out of reach: the next tick tries again.
    }
    this.sweeping = false
    if (this.running) this.schedule(startedAt)
    if (failure !== undefined) {
      const { error } = failure
      setImmediate(() => {
        throw error
      })
    }
  }
}
