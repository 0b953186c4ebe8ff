// The middleware's time decisions: pure functions, no Redis.
import { cookieMaxAgeSeconds, expiresAt, freshness, withinGrace } from '../../lib/middleware/timing'

const timing = { ttlMs: 30_000, renewAfterMs: 15_000, rotationGraceMs: 5_000 }
const issued = 1_000_000

test('a session is fresh until renewAfterMs, due for renewal until ttlMs, then expired', () => {
  expect(freshness(issued, issued, timing)).toBe('fresh')
  expect(freshness(issued, issued + 14_999, timing)).toBe('fresh')
  expect(freshness(issued, issued + 15_000, timing)).toBe('renew')
  expect(freshness(issued, issued + 29_999, timing)).toBe('renew')
  expect(freshness(issued, issued + 30_000, timing)).toBe('expired')
})

test('a timestamp from a clock that runs ahead counts as fresh', () => {
  expect(freshness(issued + 2_000, issued, timing)).toBe('fresh')
})

test('renewAfterMs 0 renews on every request', () => {
  expect(freshness(issued, issued, { ...timing, renewAfterMs: 0 })).toBe('renew')
})

test('a rotated-out token is accepted for rotationGraceMs, and never with a grace of 0', () => {
  expect(withinGrace(issued, issued + 4_999, timing)).toBe(true)
  expect(withinGrace(issued, issued + 5_000, timing)).toBe(false)
  expect(withinGrace(issued, issued, { ...timing, rotationGraceMs: 0 })).toBe(false)
})

test('the cookie lives as long as the session, rounded up to whole seconds', () => {
  expect(expiresAt(issued, timing)).toBe(issued + 30_000)
  expect(cookieMaxAgeSeconds(issued, issued, timing)).toBe(30)
  expect(cookieMaxAgeSeconds(issued, issued + 10_500, timing)).toBe(20)
  expect(cookieMaxAgeSeconds(issued, issued + 60_000, timing)).toBe(0)
})
