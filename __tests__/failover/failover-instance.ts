/**
 * An app instance of the failover tests, as a process: the demo's app (examples/load-balanced)
 * on a Redis deployment that can fail over. It takes the demo's environment (instance.ts), but
 * REDIS_URL names the deployment:
 *
 *   redis://127.0.0.1:P                        one server (an instance that still reaches a cut-off master)
 *   sentinel://127.0.0.1:S1,127.0.0.1:S2/name  the master that sentinels name
 *   cluster://127.0.0.1:P1,127.0.0.1:P2        a Redis Cluster, from these nodes
 *
 * The client is node-redis's; `?client=ioredis` on a sentinel URL asks for ioredis's, as README
 * recommends it for Sentinel. A query asks for durable logouts (`waitForReplicas`):
 * `?replicas=1&timeoutMs=500`, and `&logins=1` for logins too.
 *
 * Each session is its own user (the tests sign in `user-7-3`, …), so an answer that names
 * another user is a session served to the wrong client.
 */
import type { Server } from 'node:http'
import IORedis from 'ioredis'
import { createClient, createCluster, createSentinel } from 'redis'
import { RedisCache } from 'sessionvault/cache'
import type { SessionReplicaWait } from 'sessionvault/cache'
import type { RedisClient } from 'sessionvault/cache'
import { createInstanceApp } from '../../examples/load-balanced/app'
import { isAuthMode, type DemoAuth } from '../../examples/load-balanced/auth'
import { expressSessionAuth } from '../../examples/load-balanced/express-session-auth'
import { tokenAuth } from '../../examples/load-balanced/token-auth'

const KEY_PREFIX = 'sessionvault-failover'
/** A request waits at most this long for Redis, then gets a 503. */
const REDIS_TIMEOUT_MS = 1_500
/** Idle keep-alive connections are closed after this. */
const KEEP_ALIVE_MS = 120_000
/** Reconnect attempts: every 100 ms at first, at most every 500 ms. */
const reconnectStrategy = (retries: number): number => Math.min(100 * (retries + 1), 500)
/**
 * ioredis on Sentinel asks a sentinel for the master before each reconnect attempt: every 100 ms,
 * so it finds the promoted replica within 100 ms of the sentinels naming it.
 */
const IOREDIS_RECONNECT_MS = 100

interface Connected {
  client: RedisClient
  ready: () => boolean
  close: () => Promise<void>
}

function hostPorts(list: string): { host: string; port: number }[] {
  return list.split(',').map((entry) => {
    const [host = '', port = ''] = entry.split(':')
    return { host, port: Number(port) }
  })
}

async function connect(target: string, onError: (error: Error) => void): Promise<Connected> {
  // Several hosts: not a URL that `new URL` reads.
  const [, scheme = '', hosts = '', path = ''] = /^(\w+):\/\/([^/?]*)\/?([^?]*)/.exec(target) ?? []
  const library = new URLSearchParams(target.split('?')[1] ?? '').get('client') ?? 'node-redis'
  if (library === 'ioredis') {
    if (scheme !== 'sentinel') throw new Error(`client=ioredis is for sentinel:// URLs, not ${scheme}://`)
    return connectIoRedisSentinel(path, hostPorts(hosts), onError)
  }
  if (scheme === 'sentinel') {
    const client = createSentinel({
      name: path,
      sentinelRootNodes: hostPorts(hosts),
      nodeClientOptions: { socket: { reconnectStrategy } },
      sentinelClientOptions: { socket: { reconnectStrategy } },
    })
    client.on('error', onError)
    await client.connect()
    return { client, ready: () => client.isReady, close: () => client.close() }
  }
  if (scheme === 'cluster') {
    const client = createCluster({
      rootNodes: hostPorts(hosts).map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
      defaults: { socket: { reconnectStrategy } },
    })
    client.on('error', onError)
    await client.connect()
    return { client, ready: () => client.isReady, close: () => client.close() }
  }
  const client = createClient({ url: target.split('?')[0] ?? target, socket: { reconnectStrategy } })
  client.on('error', onError)
  await client.connect()
  return { client, ready: () => client.isReady, close: () => client.close() }
}

/**
 * ioredis through Sentinel, configured as README recommends: while it cannot reach a master it
 * asks a sentinel for one every 100 ms, and the commands a lost connection had in flight fail at
 * once (`maxRetriesPerRequest: 0`) rather than being sent again to the next master, when the
 * cache may long have given up on them. `failoverDetector` stays off: ioredis 5 ends a client for
 * good (status `end`, no more reconnects) when a sentinel's `+switch-master` arrives while a
 * reconnect waits for a sentinel's answer (its connector is stopped mid-connect), as one app
 * server did in one failover run in four.
 */
async function connectIoRedisSentinel(
  name: string,
  sentinels: { host: string; port: number }[],
  onError: (error: Error) => void,
): Promise<Connected> {
  const client = new IORedis({
    name,
    sentinels,
    retryStrategy: () => IOREDIS_RECONNECT_MS,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  })
  client.on('error', onError)
  await client.connect()
  return {
    client,
    ready: () => client.status === 'ready',
    close: async () => void (await client.quit().catch(() => client.disconnect())),
  }
}

/** `waitForReplicas` from the query of REDIS_URL, if it asks for it. */
function replicaWait(target: string): SessionReplicaWait | undefined {
  const query = new URLSearchParams(target.split('?')[1] ?? '')
  const replicas = query.get('replicas')
  if (replicas === null) return undefined
  return { replicas: Number(replicas), timeoutMs: Number(query.get('timeoutMs') ?? 1_000), logins: query.get('logins') === '1' }
}

async function main(): Promise<void> {
  const env = process.env
  const port = Number(env['PORT'])
  const instance = env['INSTANCE_NAME'] ?? `instance-${port}`
  const mode = env['MODE'] ?? 'token'
  const sessionTtlMs = Number(env['SESSION_TTL_MS'] ?? 60_000)
  const renewAfterMs = env['RENEW_AFTER_MS'] === undefined ? undefined : Number(env['RENEW_AFTER_MS'])
  const secret = env['SESSION_SECRET'] ?? ''
  if (!isAuthMode(mode)) throw new Error(`MODE must be token or express-session, not ${mode}`)
  if (!env['REDIS_URL']) throw new Error('REDIS_URL is required')

  const waitForReplicas = replicaWait(env['REDIS_URL'])
  let lastError = ''
  const { client, ready, close } = await connect(env['REDIS_URL'], (error) => {
    if (error.message !== lastError) console.error(`redis: ${error.message}`)
    lastError = error.message
  })

  const auth: DemoAuth =
    mode === 'token'
      ? tokenAuth({
          cache: new RedisCache({ client, namespace: KEY_PREFIX, ttlMs: sessionTtlMs, tagDepth: 3, commandTimeoutMs: REDIS_TIMEOUT_MS }),
          secret,
          timeoutMs: REDIS_TIMEOUT_MS,
          sessionTtlMs,
          renewAfterMs,
          waitForReplicas,
        })
      : expressSessionAuth({
          backend: { client, prefix: `${KEY_PREFIX}-sess` },
          secret,
          timeoutMs: REDIS_TIMEOUT_MS,
          sessionTtlMs,
          waitForReplicas,
        })

  const app = createInstanceApp({ instance, detail: `pid ${process.pid}, port ${port}`, auth, redisReady: ready })
  // Listening and stopping as examples/load-balanced/instance.ts does, on purpose: that file is the
  // demo a reader copies, so it stays whole rather than exporting its start-up for the tests.
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(port, '127.0.0.1', () => resolve(listening))
    listening.once('error', reject)
  })
  // The test's clients keep their connections open without an idle limit, as a load balancer
  // does: the instance must not close one first (Node's default, 5 s), or a request sent just as
  // it closes is reset.
  server.keepAliveTimeout = KEEP_ALIVE_MS
  console.log(`listening on http://127.0.0.1:${port} (${mode}, sessions live ${sessionTtlMs} ms without a request)`)

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    server.closeAllConnections()
    server.close()
    void close().finally(() => process.exit(0))
    setTimeout(() => process.exit(0), 2_000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  process.stdin.on('end', stop).on('error', stop).resume()
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
