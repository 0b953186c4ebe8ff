import type { EventEmitter } from 'node:events'
import type { CacheEvents } from './cache'
import type { WriteMode } from './cache-options'

/**
 * Runs a cache's writes. Sync writes run at once and reject their caller. Async writes resolve
 * at once, run one after another in call order, and report failures on the cache's `error`
 * event, so no rejection is ever left unhandled.
 */
export class WriteQueue {
  private tail: Promise<void> = Promise.resolve()
  private readonly inFlight = new Set<Promise<void>>()

  constructor(
    private readonly mode: WriteMode,
    private readonly events: Pick<EventEmitter<CacheEvents>, 'emit' | 'listenerCount'>,
  ) {}

  run(write: () => Promise<void>): Promise<void> {
    if (this.mode === 'sync') return this.track(write())
    const done = this.tail.then(write)
    this.tail = done.catch((error: unknown) => this.report(error))
    return Promise.resolve()
  }

  /** A write whose caller needs its outcome: it rejects its caller and, in async mode, still waits its turn. */
  runAndWait<T>(write: () => Promise<T>): Promise<T> {
    if (this.mode === 'sync') return this.track(write())
    const done = this.tail.then(write)
    this.tail = done.then(
      () => undefined,
      () => undefined,
    )
    return done
  }

  /** Resolves once every write issued so far has finished, whatever its outcome. */
  async settled(): Promise<void> {
    await Promise.all([this.tail, ...this.inFlight])
  }

  private track<T>(write: Promise<T>): Promise<T> {
    const settled = write.then(
      () => undefined,
      () => undefined,
    )
    this.inFlight.add(settled)
    void settled.then(() => this.inFlight.delete(settled))
    return write
  }

  private report(error: unknown): void {
    const reported = error instanceof Error ? error : new Error(String(error))
    if (this.events.listenerCount('error') > 0) this.events.emit('error', reported)
    else process.emitWarning(reported)
  }
}
