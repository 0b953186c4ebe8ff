/**
 * The middleware's own time decisions: pure, no I/O.
 *
 * Records expire in the cache on the cache's clock (Redis's, on Redis). On top of that, the
 * middleware decides from timestamps it stores in the records, read against its own `now()`,
 * so tests can move time with an injected clock while the records' real TTLs stay long.
 */

export interface SessionTiming {
  ttlMs: number
  renewAfterMs: number
  rotationGraceMs: number
  /** Longest life from login, however often the session renews; `0`: no such limit. */
  maxAgeMs: number
}

/** The two times a session's life is counted from, in ms since the epoch. */
export interface SessionTimes {
  createdAt: number
  renewedAt: number
}

/**
 * `expired`: older than the TTL, or than `maxAgeMs` since login. `renew`: past `renewAfterMs`,
 * time for a new token. `fresh`: nothing to do. A timestamp from a server whose clock runs ahead
 * counts as fresh.
 */
export type Freshness = 'fresh' | 'renew' | 'expired'

export function freshness(times: SessionTimes, now: number, timing: SessionTiming): Freshness {
  if (now >= expiresAt(times, timing)) return 'expired'
  if (now - times.renewedAt >= timing.renewAfterMs) return 'renew'
  return 'fresh'
}

/** Whether a token rotated out at `rotatedAt` is still accepted. A grace of 0 accepts none. */
export function withinGrace(rotatedAt: number, now: number, timing: SessionTiming): boolean {
  return now - rotatedAt < timing.rotationGraceMs
}

/** When a session expires unless a request renews it first, in ms since the epoch; a renewal never moves it past `maxAgeMs` from login. */
export function expiresAt({ createdAt, renewedAt }: SessionTimes, timing: SessionTiming): number {
  const idle = renewedAt + timing.ttlMs
  return timing.maxAgeMs === 0 ? idle : Math.min(idle, createdAt + timing.maxAgeMs)
}

/** Whole seconds a cookie for this session should live: what is left of the session, rounded up. */
export function cookieMaxAgeSeconds(times: SessionTimes, now: number, timing: SessionTiming): number {
  return Math.max(0, Math.ceil((expiresAt(times, timing) - now) / 1000))
}
