import { DeadlineQueue } from './deadline-queue'
import { CacheError } from '../errors'

/**
 * Bounds a whole call of the session layers, which may take several Redis round trips: past
 * `timeoutMs` (`0`: never) it fails with `REDIS_UNAVAILABLE` instead of hanging. Each command is
 * also bounded by the cache's own `commandTimeoutMs`, so nothing is left queued to run after the
 * caller has given up.
 *
 * Every call runs this (the middleware once per request, the store on each `get` and `touch`),
 * so it arms no timer of its own: like Node's timer lists, one queue per `timeoutMs` and one
 * timer per queue serve every call in flight (see deadline-queue.ts).
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  if (timeoutMs === 0) return work
  let queue = queues.get(timeoutMs)
  if (queue === undefined) {
    const expired = (name: string) =>
      new CacheError('REDIS_UNAVAILABLE', `Redis did not answer within ${timeoutMs} ms`, { operation: name })
    queues.set(timeoutMs, (queue = new DeadlineQueue(timeoutMs, expired, true)))
  }
  return queue.watch(work, operation)
}

/** One per distinct `timeoutMs` ever used: a handful in a process (each store's and middleware's option). */
const queues = new Map<number, DeadlineQueue>()
