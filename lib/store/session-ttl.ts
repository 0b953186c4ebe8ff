/**
 * How long a session lives, by connect-redis's rules but to the millisecond (pure, no I/O):
 *
 * 1. `ttl` as a function wins: it returns seconds.
 * 2. Otherwise the cookie's `expires`, to the millisecond (connect-redis rounds up to seconds).
 * 3. Otherwise `ttl` in seconds.
 *
 * A result of 0 or less means the session is already over: `set` deletes it instead of storing it
 * (connect-redis does the same), without the tombstone `destroy` leaves, so a later save of the
 * same id is stored. `disableTTL` turns any positive result into `MAX_SESSION_TTL_MS`.
 */
import type { SessionData } from 'express-session'
import { UsageError } from '../errors'
import { MAX_SESSION_TTL_MS } from '../defaults'

export type TtlOption = number | ((session: SessionData) => number)

export interface TtlRules {
  /** Seconds, or a function of the session returning seconds. */
  ttl: TtlOption
  disableTTL: boolean
}

/** Milliseconds the session should live from `nowMs`; `<= 0` means delete it. At most `MAX_SESSION_TTL_MS`. */
export function sessionTtlMs(session: SessionData, rules: TtlRules, nowMs: number): number {
  let ttlMs: number
  if (typeof rules.ttl === 'function') {
    const seconds: unknown = rules.ttl(session)
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
      const got = typeof seconds === 'number' ? 'NaN' : typeof seconds
      throw new UsageError(`the \`ttl\` function must return a number of seconds (got ${got})`, { option: 'ttl' })
    }
    ttlMs = secondsToMs(seconds)
  } else {
    const expiresMs = cookieExpiryMs(session)
    ttlMs = expiresMs === undefined ? secondsToMs(rules.ttl) : expiresMs - nowMs
  }
  if (ttlMs <= 0) return 0
  return rules.disableTTL ? MAX_SESSION_TTL_MS : Math.min(ttlMs, MAX_SESSION_TTL_MS)
}

/** Seconds to whole milliseconds, rounding up so that any positive time stays positive. */
export function secondsToMs(seconds: number): number {
  if (seconds === Infinity) return MAX_SESSION_TTL_MS
  return Math.ceil(seconds * 1000)
}

/** `cookie.expires` in ms since the epoch (a Date, or the ISO string JSON turns it into); undefined when absent or invalid. */
export function cookieExpiryMs(session: SessionData): number | undefined {
  const expires: unknown = (session as Partial<SessionData> | null | undefined)?.cookie?.expires
  if (expires === undefined || expires === null || expires === false) return undefined
  const ms = new Date(expires as string | number | Date).getTime()
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * Whether a touch may skip its write: the stored expiry is younger than `touchAfterMs`, i.e. the
 * new expiry is less than `touchAfterMs` past it. A touch that would shorten the TTL always writes.
 */
export function touchIsFresh(storedExpiresAtMs: number, nextExpiresAtMs: number, touchAfterMs: number): boolean {
  const aged = nextExpiresAtMs - storedExpiresAtMs
  return touchAfterMs > 0 && aged >= 0 && aged < touchAfterMs
}
