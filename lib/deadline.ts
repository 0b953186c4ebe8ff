import { CacheError } from './errors'

/**
 * Bounds a whole call of the session layers, which may take several Redis round trips: past
 * `timeoutMs` (`0`: never) it fails with `REDIS_UNAVAILABLE` instead of hanging. Each command is
 * also bounded by the cache's own `commandTimeoutMs`, so nothing is left queued to run after the
 * caller has given up.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  if (timeoutMs === 0) return work
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      // The late outcome has nobody left to hear it.
      work.catch(() => undefined)
      reject(new CacheError('REDIS_UNAVAILABLE', `Redis did not answer within ${timeoutMs} ms`, { operation }))
    }, timeoutMs)
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
