/**
 * One app instance as a process, configured by its environment (stack.ts starts several):
 *
 *   INSTANCE_NAME  shown on every page and in X-Served-By          (default: instance-<PORT>)
 *   PORT           port on 127.0.0.1                               (default: 3000)
 *   REDIS_URL      the Redis every instance shares                 (required)
 *   SESSION_SECRET the secret every instance shares, 32+ chars     (required)
 *   MODE           token | express-session                         (default: token)
 *   LOG_REQUESTS   1: one log line per request
 *   EXIT_WITH_STDIN 1: exit when stdin closes (the parent is gone, however it went)
 */
import type { Server } from 'node:http'
import { createClient } from 'redis'
import { RedisCache } from 'sessionvault/cache'
import { createInstanceApp } from './app'
import { EventLog } from './event-log'
import { isAuthMode, type DemoAuth } from './auth'
import { expressSessionAuth } from './express-session-auth'
import { tokenAuth } from './token-auth'

/** Namespace (token mode) or prefix (express-session mode) of the demo's keys, apart from anything else in that Redis. */
const KEY_PREFIX = 'sessionvault-demo'
/** A request waits at most this long for Redis, then gets a 503. */
const REDIS_TIMEOUT_MS = 1_500
/** How long a session lives without a request: 30 minutes unless SESSION_TTL_MS says otherwise. */
const DEFAULT_SESSION_TTL_MS = 30 * 60_000

async function main(): Promise<void> {
  const env = process.env
  const port = Number(env['PORT'] ?? 3000)
  const instance = env['INSTANCE_NAME'] ?? `instance-${port}`
  const mode = env['MODE'] ?? 'token'
  const redisUrl = env['REDIS_URL']
  const secret = env['SESSION_SECRET']
  const sessionTtlMs = Number(env['SESSION_TTL_MS'] ?? DEFAULT_SESSION_TTL_MS)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT must be a port number, not ${env['PORT']}`)
  if (!isAuthMode(mode)) throw new Error(`MODE must be token or express-session, not ${mode}`)
  if (!redisUrl) throw new Error('REDIS_URL is required')
  if (!Number.isSafeInteger(sessionTtlMs) || sessionTtlMs < 1_000)
    throw new Error(`SESSION_TTL_MS must be a whole number of milliseconds, at least 1000, not ${env['SESSION_TTL_MS']}`)
  if (!secret || secret.length < 32) throw new Error('SESSION_SECRET is required: at least 32 characters, the same for every instance')

  const client = createClient({
    url: redisUrl,
    // Back quickly after a Redis restart: retry every 100 ms, at most every second.
    socket: { reconnectStrategy: (retries: number) => Math.min(100 * (retries + 1), 1_000) },
  })
  // Without a listener a lost connection would crash the process; the client reconnects by itself.
  let lastError = ''
  client.on('error', (error: Error) => {
    if (error.message !== lastError) console.error(`redis: ${error.message}`)
    lastError = error.message
  })
  client.on('ready', () => {
    if (lastError !== '') console.error('redis: connected again')
    lastError = ''
  })
  await client.connect()

  const auth: DemoAuth =
    mode === 'token'
      ? tokenAuth({
          // tagDepth 3 (SESSION_TAG_DEPTH): each user's sessions share a slot, should this Redis be a Cluster.
          cache: new RedisCache({ client, namespace: KEY_PREFIX, ttlMs: sessionTtlMs, tagDepth: 3, commandTimeoutMs: REDIS_TIMEOUT_MS }),
          secret,
          timeoutMs: REDIS_TIMEOUT_MS,
          sessionTtlMs,
        })
      : expressSessionAuth({ backend: { client, prefix: `${KEY_PREFIX}-sess` }, secret, timeoutMs: REDIS_TIMEOUT_MS, sessionTtlMs })

  const events = new EventLog(auth.cache, instance)
  auth.onEvent((event) => events.record(event))

  const app = createInstanceApp({
    events,
    instance,
    detail: `pid ${process.pid}, port ${port}`,
    auth,
    // Connected, and the breaker has not found Redis silent.
    redisReady: () => client.isReady && (auth.cache as Partial<RedisCache>).breakerState !== 'open',
    logRequests: env['LOG_REQUESTS'] === '1',
  })
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(port, '127.0.0.1', () => resolve(listening))
    listening.once('error', reject)
  })
  console.log(`listening on http://127.0.0.1:${port} (${mode}, sessions live ${sessionTtlMs} ms without a request)`)

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    // Open keep-alive connections would hold close() up: end them.
    server.closeAllConnections()
    server.close()
    void client.close().finally(() => process.exit(0))
    // Whatever still hangs, the process ends.
    setTimeout(() => process.exit(0), 2_000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  if (env['EXIT_WITH_STDIN'] === '1') {
    process.stdin.on('end', stop).on('error', stop).resume()
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
