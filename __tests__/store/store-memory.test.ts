import { MemoryCache } from 'sessionvault/cache'
import { RedisSessionStore } from 'sessionvault/store'
import { sessionCacheKey, storedIdFor } from './redis-keys'
import { describeStoreContract } from './store-contract'
import { describeStoreRaces } from './store-races'

describeStoreContract('on a MemoryCache', async (options) => {
  let clock = Date.now()
  let advanced = 0
  const cache = new MemoryCache({ ttlMs: 60_000, now: () => clock })
  const store = new RedisSessionStore({ ...options, cache })
  const keyOf = (sid: string) => sessionCacheKey(storedIdFor(sid, options))
  return {
    store,
    twin: (other = options) => new RedisSessionStore({ ...other, cache }),
    advance: async (ms) => {
      clock += ms
      advanced += ms
    },
    // The store reckons TTLs from cookie expiries by the real clock; the cache ages them by the fake one.
    now: () => Date.now() + advanced,
    corrupt: (sid, text) => cache.put(keyOf(sid), text),
    ttlLeftMs: async (sid) => {
      const found = await cache.getTimed(keyOf(sid))
      return found && found.expiresAtMs - clock
    },
  }
})

describeStoreRaces('on a MemoryCache', async () => new MemoryCache({ ttlMs: 60_000 }))
