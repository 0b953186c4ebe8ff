/**
 * Runs the token-sessions example on Redis: REDIS_URL, or a throwaway redis-server of its own.
 *
 *   SESSION_SECRET=$(openssl rand -base64 32) npx ts-node --transpile-only examples/token-sessions/server.ts
 *
 * Start it twice on two ports against the same REDIS_URL and SESSION_SECRET: a login on one is a
 * login on the other.
 */
import { randomBytes } from 'node:crypto'
import { createClient } from 'redis'
import { RedisCache } from 'sessionvault/cache'
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
  if (!process.env['SESSION_SECRET']) console.warn('SESSION_SECRET is not set: using a random one, so sessions end when this process does')

  // Sessions get a namespace of their own; tagDepth 3 (SESSION_TAG_DEPTH) keeps each user's sessions in one Cluster slot.
  const cache = new RedisCache({ client, ttlMs: 30 * 60_000, namespace: 'sessions', tagDepth: 3 })
  const port = Number(process.env['PORT'] ?? 3000)
  const app = createApp({ cache, secret, secureCookie: process.env['NODE_ENV'] === 'production', instance: `port ${port}` })
  const listener = app.listen(port, () => console.log(`http://localhost:${port} (Redis at ${url})`))

  // Same start and shutdown as examples/express-session/server.ts and examples/metrics/server.ts: each example stands alone.
  const stop = async (): Promise<void> => {
    listener.close()
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
