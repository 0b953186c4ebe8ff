// TTL arithmetic: pure code, no Redis.
import type { SessionData } from 'express-session'
import { UsageError } from 'sessionvault'
import { cookieExpiryMs, secondsToMs, sessionTtlMs, touchIsFresh } from '../../lib/store/session-ttl'
import { MAX_SESSION_TTL_MS } from '../../lib/defaults'
import { sessionData } from './session-data'

const NOW = Date.UTC(2030, 0, 1)
const rules = { ttl: 86_400, disableTTL: false }
const expiringAt = (ms: number | string | null) =>
  ({ cookie: { expires: ms === null ? null : typeof ms === 'string' ? ms : new Date(ms) } }) as unknown as SessionData

describe('sessionTtlMs', () => {
  test("follows the cookie's expiry to the millisecond", () => {
    expect(sessionTtlMs(expiringAt(NOW + 1_234), rules, NOW)).toBe(1_234)
  })

  test('reads an expiry that JSON turned into a string', () => {
    expect(sessionTtlMs(expiringAt(new Date(NOW + 5_000).toISOString()), rules, NOW)).toBe(5_000)
  })

  test('uses ttl, in seconds, when the cookie has no expiry', () => {
    expect(sessionTtlMs(expiringAt(null), { ...rules, ttl: 60 }, NOW)).toBe(60_000)
  })

  test('uses ttl when the expiry is not a date', () => {
    expect(sessionTtlMs(expiringAt('someday'), { ...rules, ttl: 60 }, NOW)).toBe(60_000)
  })

  test('ttl: 0 gives 0, which means destroy', () => {
    expect(sessionTtlMs(expiringAt(null), { ...rules, ttl: 0 }, NOW)).toBe(0)
  })

  test('an expiry in the past gives 0, which means destroy', () => {
    expect(sessionTtlMs(expiringAt(NOW - 1), rules, NOW)).toBe(0)
  })

  test('a ttl function wins over the cookie, in seconds', () => {
    expect(sessionTtlMs(expiringAt(NOW + 1_000), { ...rules, ttl: () => 2.5 }, NOW)).toBe(2_500)
  })

  test('a negative ttl function result gives 0', () => {
    expect(sessionTtlMs(expiringAt(NOW + 1_000), { ...rules, ttl: () => -5 }, NOW)).toBe(0)
  })

  test('a ttl function that returns no number is a UsageError (found while running, not at construction)', () => {
    expect(() => sessionTtlMs(expiringAt(null), { ...rules, ttl: () => NaN }, NOW)).toThrow(UsageError)
  })

  test('disableTTL stands in about a hundred years for any positive TTL', () => {
    expect(sessionTtlMs(expiringAt(NOW + 1_000), { ...rules, disableTTL: true }, NOW)).toBe(MAX_SESSION_TTL_MS)
  })

  test('disableTTL still destroys a session whose cookie has expired (as connect-redis does)', () => {
    expect(sessionTtlMs(expiringAt(NOW - 1_000), { ...rules, disableTTL: true }, NOW)).toBe(0)
  })

  test('no TTL exceeds the hundred-year cap', () => {
    expect(sessionTtlMs(expiringAt(null), { ...rules, ttl: () => Infinity }, NOW)).toBe(MAX_SESSION_TTL_MS)
    expect(sessionTtlMs(expiringAt(null), { ...rules, ttl: 1e12 }, NOW)).toBe(MAX_SESSION_TTL_MS)
  })

  test('a session with no cookie at all uses ttl', () => {
    expect(sessionTtlMs({} as SessionData, rules, NOW)).toBe(86_400_000)
    expect(cookieExpiryMs(sessionData({}))).toBeUndefined()
  })
})

describe('secondsToMs', () => {
  test('rounds up, so a positive time never becomes 0', () => {
    expect(secondsToMs(0.0001)).toBe(1)
    expect(secondsToMs(0)).toBe(0)
    expect(secondsToMs(1.5)).toBe(1_500)
  })
})

describe('touchIsFresh', () => {
  test('fresh while the new expiry is less than touchAfterMs past the stored one', () => {
    expect(touchIsFresh(NOW, NOW + 59_999, 60_000)).toBe(true)
    expect(touchIsFresh(NOW, NOW + 60_000, 60_000)).toBe(false)
  })

  test('touchAfterMs 0: never fresh, every touch writes', () => {
    expect(touchIsFresh(NOW, NOW, 0)).toBe(false)
  })

  test('a touch that would shorten the TTL is never skipped', () => {
    expect(touchIsFresh(NOW, NOW - 1, 60_000)).toBe(false)
  })
})
