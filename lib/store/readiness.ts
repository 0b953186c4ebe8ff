/**
 * The `disconnect` and `connect` events express-session listens for (with `whenUnavailable:
 * 'skip'`). express-session serves requests without a session between the two, so the store
 * itself must notice when Redis is back: it probes with a cheap read until one succeeds.
 */
import type { EventEmitter } from 'node:events'
import { isUnavailableError } from '../errors'

export class Readiness {
  private down = false
  private stopped = false
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly events: EventEmitter,
    private readonly probe: () => Promise<unknown>,
    private readonly intervalMs: number,
  ) {}

  /** A store call failed: if Redis is out of reach, say so once and start probing. */
  failed(error: unknown): void {
    // NOT_REPLICATED: Redis answered (a replica lagged), so it is not out of reach.
    if (this.down || this.stopped || !isUnavailableError(error) || error.code === 'NOT_REPLICATED') return
    this.down = true
    this.events.emit('disconnect')
    this.schedule()
  }

  /** Stops probing for good (the store is being closed); a probe in flight emits nothing. */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.probe().then(
        () => {
          this.timer = undefined
          this.down = false
          if (!this.stopped) this.events.emit('connect')
        },
        () => {
          if (!this.stopped) this.schedule()
        },
      )
    }, this.intervalMs)
    // A store waiting for Redis must not keep the process alive.
    this.timer.unref()
  }
}
