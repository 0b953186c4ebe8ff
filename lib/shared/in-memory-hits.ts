/**
 * Requests to answer from memory, each on the next turn of the event loop (its check phase), all
 * of a turn's together. Two reasons to wait that turn rather than answer at once:
 * - By then this process has read what its connections received in the same turn as the request,
 *   the invalidations Redis sends when a session ends included, so a session ended on any server
 *   before the request was sent is never served from a stale copy (near-reads.ts waits the same).
 * - A busy server then runs one stage of many requests back to back, as it does when their reads
 *   go to Redis, which costs markedly less CPU than carrying each request through alone.
 * One `setImmediate` per turn and no promise per request: a hit should cost little more than a
 * map lookup. Each request is answered in its own async context (an `AsyncLocalStorage` store
 * set around it, an APM agent's span), not in that of the request that scheduled the turn.
 */
import { AsyncResource } from 'node:async_hooks'

export class InMemoryHits<T> {
  // Side by side rather than a record a request: one object less for each.
  private requests: T[] = []
  private scopes: AsyncResource[] = []

  /**
   * `answer`: runs once per request, on the next turn; `fail`: gets what `answer` threw, as a
   * request's async path would (the middleware's `next(error)`), and the other requests go on.
   */
  constructor(
    private readonly answer: (request: T) => void,
    private readonly fail: (request: T, error: unknown) => void,
  ) {}

  add(request: T): void {
    if (this.requests.length === 0) setImmediate(this.answerAll)
    this.requests.push(request)
    this.scopes.push(new AsyncResource('sessionvault.InMemoryHit'))
  }

  private readonly answerAll = (): void => {
    const { requests, scopes } = this
    this.requests = []
    this.scopes = []
    for (let i = 0; i < requests.length; i++) (scopes[i] as AsyncResource).runInAsyncScope(this.answerOne, undefined, requests[i])
  }

  private readonly answerOne = (request: T): void => {
    try {
      this.answer(request)
    } catch (error) {
      this.fail(request, error)
    }
  }
}
