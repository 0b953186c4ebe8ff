/**
 * The store's expiry queue (lib/store/expired-sessions.ts), an internal unit on purpose, on a
 * MemoryCache and a clock of the test's own, for the moments a real sweep hits only by chance:
 * a user's entry that falls due a few milliseconds before its session (as on Cluster, where the
 * entry is written first, in its own slot), with the session expiring between the sweep's claim
 * of it and its read of it.
 */
import { MemoryCache } from 'sessionvault/cache'
import { ExpiredSessions, type ExpiredStoreSession } from '../../lib/store/expired-sessions'
import { Clock } from '../middleware/helpers'

const OPTIONS = { max: 100, leaseMs: 5_000 }
const HOLD_MS = 3_000

function queueOn(clock: Clock, beforeRead: () => void = () => undefined) {
  const cache = new MemoryCache<string>({ ttlMs: 60_000, now: clock.now })
  const queue = new ExpiredSessions(cache, true, HOLD_MS, async (storedId) => {
    beforeRead()
    const session = await cache.getTimed(['s', storedId])
    return session && { expiresAtMs: session.expiresAtMs, userId: 'ada' }
  })
  return { cache, queue }
}

test('a session that expires between the claim that found it live and the read: claimed again, with its user', async () => {
  const clock = new Clock(Date.now())
  let reads = 0
  const { cache, queue } = queueOn(clock, () => {
    // The read comes a few milliseconds after the claim: the session is over by then.
    if (reads++ === 0) clock.advance(10)
  })
  await queue.claimExpired([], OPTIONS)
  await cache.put(['s', 'x'], '{}', { ttlMs: 1_000 })
  await cache.put(['u', 'ada', 'x'], '', { ttlMs: 995 })
  clock.advance(996)
  const claims = await queue.claimExpired([], OPTIONS)
  expect((claims.records as ExpiredStoreSession[]).map(({ key, userId }) => [key, userId])).toEqual([[['s', 'x'], 'ada']])
  await claims.acknowledge()
  clock.advance(HOLD_MS + 1_000)
  expect((await queue.claimExpired([], OPTIONS)).records).toEqual([])
})

test('a session still live when read: its entry is written again, due just after it, and the session later comes with its user', async () => {
  const clock = new Clock(Date.now())
  const { cache, queue } = queueOn(clock)
  await queue.claimExpired([], OPTIONS)
  await cache.put(['s', 'x'], '{}', { ttlMs: 1_000 })
  await cache.put(['u', 'ada', 'x'], '', { ttlMs: 995 })
  clock.advance(996)
  expect((await queue.claimExpired([], OPTIONS)).records).toEqual([])
  expect((await cache.getTimed(['u', 'ada', 'x']))?.expiresAtMs).toBeGreaterThan(clock.time)
  clock.advance(10)
  const claims = await queue.claimExpired([], OPTIONS)
  expect((claims.records as ExpiredStoreSession[]).map(({ key, userId }) => [key, userId])).toEqual([[['s', 'x'], 'ada']])
})
