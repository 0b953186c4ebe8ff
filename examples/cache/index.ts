/**
 * The cache on its own: array keys, TTLs, listing by prefix with ANY. Runs against REDIS_URL,
 * or a throwaway redis-server of its own when none is given.
 *
 *   npm run demo:cache
 */
import { createClient } from 'redis'
import { ANY, RedisCache } from 'sessionvault/cache'
import { startRedisServer } from '../../scripts/redis-server'

async function main(): Promise<void> {
  const server = process.env['REDIS_URL'] ? undefined : await startRedisServer()
  const url = process.env['REDIS_URL'] ?? (server as { url: string }).url
  const client = createClient({ url })
  await client.connect()
  try {
    // tagDepth 2: `['user', 42]` chooses the slot and the index, so a user's records are listed together.
    const cache = new RedisCache({ client, ttlMs: 30 * 60_000, namespace: 'demo', tagDepth: 2 })

    await cache.put(['user', 42], { name: 'Ada' })
    await cache.putMany([
      { key: ['user', 42, 'session', 'laptop'], value: { browser: 'Firefox' } },
      { key: ['user', 42, 'session', 'phone'], value: { browser: 'Safari' } },
      { key: ['user', 7, 'session', 'desktop'], value: { browser: 'Chromium' } },
    ])
    await cache.put(['user', 42, 'session', 'kiosk'], { browser: 'Edge' }, { ttlMs: 100 })

    console.log('user 42:', await cache.get(['user', 42]))
    console.log("user 42's sessions:", await cache.all(['user', 42, 'session', ANY]))
    console.log('everyone with a session:', await cache.keys(['user', ANY, 'session', ANY]))

    await new Promise((resolve) => setTimeout(resolve, 200))
    console.log('after 200 ms the kiosk session has expired:', await cache.keys(['user', 42, 'session', ANY]))

    await cache.delete(['user', 42, 'session', 'phone'])
    console.log('after deleting the phone:', await cache.keys(['user', 42, 'session', ANY]))
  } finally {
    await client.close()
    await server?.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
