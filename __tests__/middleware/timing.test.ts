// The middleware's time decisions: pure functions, no Redis.
import { cookieMaxAgeSeconds, expiresAt, freshness, withinGrace } from '../../lib/middleware/timing'

const timing = { ttlMs: 30_000, renewAfterMs: 15_000, rotationGraceMs: 5_000, maxAgeMs: 0 }
const issued = 1_000_000
const session = { createdAt: issued, renewedAt: issued }

test('a session is fresh until renewAfterMs, due for renewal until ttlMs, then expired', () => {
  expect(freshness(session, issued, timing)).toBe('fresh')
  expect(freshness(session, issued + 14_999, timing)).toBe('fresh')
  expect(freshness(session, issued + 15_000, timing)).toBe('renew')
  expect(freshness(session, issued + 29_999, timing)).toBe('renew')
  expect(freshness(session, issued + 30_000, timing)).toBe('expired')
})

test('a timestamp from a clock that runs ahead counts as fresh', () => {
  expect(freshness({ createdAt: issued + 2_000, renewedAt: issued + 2_000 }, issued, timing)).toBe('fresh')
})

test('renewAfterMs 0 renews on every request', () => {
  expect(freshness(session, issued, { ...timing, renewAfterMs: 0 })).toBe('renew')
})

test('a rotated-out token is accepted for rotationGraceMs, and never with a grace of 0', () => {
  expect(withinGrace(issued, issued + 4_999, timing)).toBe(true)
  expect(withinGrace(issued, issued + 5_000, timing)).toBe(false)
  expect(withinGrace(issued, issued, { ...timing, rotationGraceMs: 0 })).toBe(false)
})

test('the cookie lives as long as the session, rounded up to whole seconds', () => {
  expect(expiresAt(session, timing)).toBe(issued + 30_000)
  expect(cookieMaxAgeSeconds(session, issued, timing)).toBe(30)
  expect(cookieMaxAgeSeconds(session, issued + 10_500, timing)).toBe(20)
  expect(cookieMaxAgeSeconds(session, issued + 60_000, timing)).toBe(0)
})

test('maxAgeMs ends a session that long after its login, however recently it renewed', () => {
  const capped = { ...timing, maxAgeMs: 100_000 }
  const renewedLate = { createdAt: issued, renewedAt: issued + 90_000 }
  expect(expiresAt(renewedLate, capped)).toBe(issued + 100_000)
  expect(freshness(renewedLate, issued + 99_999, capped)).toBe('fresh')
  expect(freshness(renewedLate, issued + 100_000, capped)).toBe('expired')
  expect(cookieMaxAgeSeconds(renewedLate, issued + 90_000, capped)).toBe(10)
  // Without the cap, the same session would have lived on.
  expect(freshness(renewedLate, issued + 100_000, timing)).toBe('fresh')
})
