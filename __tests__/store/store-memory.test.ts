import { MemoryCache } from '../../lib/cache/memory-cache'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import { describeStoreContract } from './store-contract'
import { describeStoreRaces } from './store-races'

describeStoreContract('on a MemoryCache', async (options) => {
  let clock = Date.now()
  const cache = new MemoryCache({ ttlMs: 60_000, now: () => clock })
  const store = new RedisSessionStore({ ...options, cache })
  return {
    store,
    twin: () => new RedisSessionStore({ ...options, cache }),
    advance: async (ms) => {
      clock += ms
    },
    corrupt: (sid, text) => cache.put(['sess', sid], text),
  }
})

describeStoreRaces('on a MemoryCache', async () => new MemoryCache({ ttlMs: 60_000 }))
