/**
 * Rejects calls that got no answer within `timeoutMs`: one FIFO and one timer for all of them.
 *
 * node-redis's own per-command timeout arms an `AbortSignal.timeout` per command (about 10 µs of
 * CPU each on Node 20, more than the rest of a GET) and stops counting once the command is
 * written, so a server that stops answering leaves the caller waiting forever.
 */
import { performance } from 'node:perf_hooks'

interface Watched {
  at: number
  reject: (error: Error) => void
  settled: boolean
}

export class Deadlines {
  private readonly queue: Watched[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly timeoutMs: number) {}

  watch<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Watched = { at: performance.now() + this.timeoutMs, reject, settled: false }
      this.queue.push(entry)
      // Every call has the same timeout, so the queue is in deadline order: one timer suffices.
      this.timer ??= setTimeout(this.sweep, this.timeoutMs).unref()
      promise.then(
        (value) => {
          this.settle(entry)
          resolve(value)
        },
        (error: unknown) => {
          this.settle(entry)
          reject(error)
        },
      )
    })
  }

  // Replies come back in order, so a settled entry is nearly always the head: O(1) amortized.
  private settle(entry: Watched): void {
    entry.settled = true
    while (this.head < this.queue.length && (this.queue[this.head] as Watched).settled) this.head++
    if (this.head === this.queue.length) {
      this.queue.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }

  private readonly sweep = (): void => {
    this.timer = undefined
    const now = performance.now()
    for (let entry = this.queue[this.head]; entry && entry.at <= now; entry = this.queue[this.head]) {
      if (!entry.settled) entry.reject(new Error(`no reply from Redis within ${this.timeoutMs} ms`))
      this.settle(entry)
    }
    const next = this.queue[this.head]
    if (next) this.timer = setTimeout(this.sweep, Math.max(1, Math.ceil(next.at - now))).unref()
  }
}
