/**
 * Requests to answer from memory, each on the next turn of the event loop (its check phase), all
 * of a turn's together. Two reasons to wait that turn rather than answer at once:
 * - By then this process has read what its connections received in the same turn as the request,
 *   the invalidations Redis sends when a session ends included, so a session ended on any server
 *   before the request was sent is never served from a stale copy (near-reads.ts waits the same).
 * - A busy server then runs one stage of many requests back to back, as it does when their reads
 *   go to Redis, which costs markedly less CPU than carrying each request through alone.
 * One `setImmediate` per turn and no promise per request: a hit should cost little more than a
 * map lookup.
 */
export class InMemoryHits<T> {
  private pending: T[] = []

  /** `answer`: runs once per request, on the next turn (it sends its own errors to `next`). */
  constructor(private readonly answer: (request: T) => void) {}

  add(request: T): void {
    if (this.pending.length === 0) setImmediate(this.answerAll)
    this.pending.push(request)
  }

  private readonly answerAll = (): void => {
    const requests = this.pending
    this.pending = []
    for (const request of requests) {
      try {
        this.answer(request)
      } catch (error) {
        // Not for the requests after it to pay for: thrown again on its own, as uncaught.
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }
}
