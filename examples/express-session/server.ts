/**
 * Runs the express-session example on Redis: REDIS_URL, or a throwaway redis-server of its own.
 *
 *   SESSION_SECRET=$(openssl rand -base64 32) npx ts-node --transpile-only examples/express-session/server.ts
 *
 * Start it twice on two ports against the same REDIS_URL and SESSION_SECRET: a login on one is a
 * login on the other.
 */
import { randomBytes } from 'node:crypto'
import { createClient } from 'redis'
// It replaces: import { RedisStore } from 'connect-redis'
import { RedisSessionStore } from 'sessionvault/store'
import { startRedisServer } from '../../scripts/redis-server'
import { createApp } from './app'

async function main(): Promise<void> {
  const server = process.env['REDIS_URL'] ? undefined : await startRedisServer()
  const url = process.env['REDIS_URL'] ?? (server as { url: string }).url
  // Retrying every 200 ms (node-redis backs off up to 2 s) brings the app back soon after Redis.
  const client = createClient({ url, socket: { reconnectStrategy: () => 200 } })
  // Without a listener node-redis would crash the process on a lost connection; it reconnects by itself.
  client.on('error', (error: Error) => console.error(`redis: ${error.message}`))
  await client.connect()

  const secret = process.env['SESSION_SECRET'] ?? randomBytes(32).toString('base64url')
  if (!process.env['SESSION_SECRET']) console.warn('SESSION_SECRET is not set: using a random one, so sessions end when this process does')

  // Before: new RedisStore({ client, prefix: 'myapp:' }). The options keep their names; the rest is new.
  const store = new RedisSessionStore({
    client,
    prefix: 'myapp:',
    legacyPrefix: 'myapp:', // connect-redis's sessions move over on first access: nobody is logged out
    userOf: (session) => session.user?.id, // enables listUserSessions / destroyUserSessions
    touchAfterMs: 60_000, // an active session is written at most once a minute, not on every request
    timeoutMs: 1_000, // with Redis away, a request fails after a second instead of hanging
  })

  const port = Number(process.env['PORT'] ?? 3000)
  const app = createApp({ store, secret, secureCookie: process.env['NODE_ENV'] === 'production', instance: `port ${port}` })
  const listener = app.listen(port, () => console.log(`http://localhost:${port} (Redis at ${url})`))

  // Same start and shutdown as examples/token-sessions/server.ts and examples/metrics/server.ts: each example stands alone.
  const stop = async (): Promise<void> => {
    listener.close()
    // The store's background checks first, then the client: the store leaves the client to the app.
    await store.close()
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
