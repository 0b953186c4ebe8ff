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
}

/**
 * `expired`: older than the TTL. `renew`: past `renewAfterMs`, time for a new token.
 * `fresh`: nothing to do. A timestamp from a server whose clock runs ahead counts as fresh.
 */
export type Freshness = 'fresh' | 'renew' | 'expired'

export function freshness(renewedAt: number, now: number, timing: SessionTiming): Freshness {
  const age = now - renewedAt
  if (age >= timing.ttlMs) return 'expired'
  if (age >= timing.renewAfterMs) return 'renew'
  return 'fresh'
}

/** Whether a token rotated out at `rotatedAt` is still accepted. A grace of 0 accepts none. */
export function withinGrace(rotatedAt: number, now: number, timing: SessionTiming): boolean {
  return now - rotatedAt < timing.rotationGraceMs
}

/** When a session renewed at `renewedAt` expires, in ms since the epoch. */
export function expiresAt(renewedAt: number, timing: SessionTiming): number {
  return renewedAt + timing.ttlMs
}

/** Whole seconds a cookie for this session should live: what is left of the session, rounded up. */
export function cookieMaxAgeSeconds(renewedAt: number, now: number, timing: SessionTiming): number {
  return Math.max(0, Math.ceil((expiresAt(renewedAt, timing) - now) / 1000))
}
