/**
 * When the cache is out of reach: which errors mean that, the bound on waiting for it, and the
 * default answer (a 503, JSON or HTML as the client prefers).
 */
import { CacheError, isCacheError } from '../errors'
import type { UnavailableHandler } from './options'

// Error replies that mean "try again shortly", not "this request is wrong".
const TRANSIENT_REPLY = /^(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY)\b/

/** True for a cache error that says the cache cannot answer right now. */
export function isUnavailable(error: unknown): error is CacheError {
  if (!isCacheError(error)) return false
  if (error.code === 'REDIS_UNAVAILABLE') return true
  const reply = error.cause instanceof Error ? error.cause.message : ''
  return error.code === 'REDIS_ERROR' && TRANSIENT_REPLY.test(reply)
}

/** Rejects with a `REDIS_UNAVAILABLE` CacheError when `work` takes longer than `timeoutMs` (0: never). */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  if (timeoutMs === 0) return work
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CacheError('REDIS_UNAVAILABLE', `no answer within ${timeoutMs} ms`, { operation })),
      timeoutMs,
    )
  })
  // The work goes on after a timeout; its outcome is dropped, never an unhandled rejection.
  work.catch(() => undefined)
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

const MESSAGE = 'Sessions are temporarily unavailable. Please try again in a moment.'

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head>
<body><h1>Temporarily unavailable</h1><p>${MESSAGE}</p></body></html>
`

export function unavailableResponder(status: number): UnavailableHandler {
  return function sessionsUnavailable(_error, req, res) {
    res.status(status).set({ 'Retry-After': '1', 'Cache-Control': 'no-store' })
    if (req.accepts(['json', 'html']) === 'html') res.type('html').send(PAGE)
    else res.json({ error: { code: 'SESSIONS_UNAVAILABLE', message: MESSAGE } })
  }
}
