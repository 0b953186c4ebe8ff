/**
 * Requests of one session come due for a touch together: the store writes the touch once per
 * session at a time, and the rest find it done.
 */
import { MemoryCache, RedisSessionStore } from 'sessionvault'
import { sessionData } from './session-data'

const HOUR = 3_600_000

test('20 concurrent touches of one session write it once', async () => {
  const cache = new MemoryCache({ ttlMs: HOUR })
  const store = new RedisSessionStore({ cache, touchAfterMs: 60_000 })
  await store.set('sid', sessionData({ views: 1 }, HOUR))
  // Each request holds its own copy, loaded before the expiry moved on by more than touchAfterMs.
  const copies = await Promise.all(Array.from({ length: 20 }, () => store.get('sid')))
  const later = sessionData({ views: 1 }, HOUR + 120_000)
  for (const copy of copies) Object.assign(copy as object, { cookie: later.cookie })
  const writes = jest.spyOn(cache, 'touchMany')
  await Promise.all(copies.map((copy) => store.touch('sid', copy as never)))
  expect(writes).toHaveBeenCalledTimes(1)
})

test('touches of different sessions do not wait for each other', async () => {
  const cache = new MemoryCache({ ttlMs: HOUR })
  const store = new RedisSessionStore({ cache })
  await store.set('a', sessionData({ views: 1 }, HOUR))
  await store.set('b', sessionData({ views: 2 }, HOUR))
  const writes = jest.spyOn(cache, 'touchMany')
  await Promise.all([store.touch('a', sessionData({ views: 1 }, HOUR)), store.touch('b', sessionData({ views: 2 }, HOUR))])
  expect(writes).toHaveBeenCalledTimes(2)
})
