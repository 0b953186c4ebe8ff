/**
 * Runs the metrics example on Redis: REDIS_URL, or a throwaway redis-server of its own.
 *
 *   npx ts-node --transpile-only examples/metrics/server.ts
 *   curl -c jar -H 'content-type: application/json' -d '{"name":"alice"}' localhost:3000/login
 *   curl -b jar localhost:3000/me
 *   curl localhost:3000/metrics
 */
import { randomBytes } from 'node:crypto'
import { createClient } from 'redis'
import { RedisCache } from 'sessionvault'
import { startRedisServer } from '../../scripts/redis-server'
import { createApp } from './app'

async function main(): Promise<void> {
  const server = process.env['REDIS_URL'] ? undefined : await startRedisServer()
  const url = process.env['REDIS_URL'] ?? (server as { url: string }).url
  const client = createClient({ url })
  // Without a listener node-redis would crash the process on a lost connection; it reconnects by itself.
  client.on('error', (error: Error) => console.error(`redis: ${error.message}`))
  await client.connect()

  const secret = process.env['SESSION_SECRET'] ?? randomBytes(32).toString('base64url')
  // A near-cache, so the metrics show hits; tagDepth 3 (SESSION_TAG_DEPTH) keeps each user's sessions in one Cluster slot.
  const cache = new RedisCache({ client, ttlMs: 30 * 60_000, namespace: 'sessions', tagDepth: 3, nearCache: { maxEntries: 10_000 } })
  const metricsApp = createApp({ cache, secret })
  const { app } = metricsApp
  const port = Number(process.env['PORT'] ?? 3000)
  const listener = app.listen(port, () => console.log(`http://localhost:${port}/metrics (Redis at ${url})`))

  // Same start and shutdown as examples/token-sessions/server.ts and examples/express-session/server.ts: each example stands alone.
  const stop = async (): Promise<void> => {
    listener.close()
    metricsApp.stop()
    await cache.close()
    await client.close()
    await server?.stop()
  }
  process.once('SIGINT', () => void stop())
  process.once('SIGTERM', () => void stop())
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
