import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis'
import { clusterRootNodes, redisUrl } from './env'
import { startRedisServer, type RedisServerHandle } from '../../scripts/redis-server'

export type StandaloneClient = RedisClientType
export type ClusterClient = RedisClusterType

/** A connected client to the suite's standalone Redis. */
export async function connectStandalone(url = redisUrl()): Promise<StandaloneClient> {
  const client = createClient({ url })
  client.on('error', () => undefined) // reconnects are expected in outage tests
  await client.connect()
  return client
}

export interface PrivateRedis {
  server: RedisServerHandle
  client: StandaloneClient
  /** Another client of the server, as another app server would have; closed by `stop()`. */
  connect(): Promise<StandaloneClient>
  /** Closes the clients and stops the server. */
  stop(): Promise<void>
}

/**
 * A redis-server of the test file's own, with a connected client: for tests that count
 * commands, fill its memory, or stop and restart it. The client reconnects every 50 ms.
 */
export async function privateRedis(args: string[] = []): Promise<PrivateRedis> {
  const server = await startRedisServer({ args })
  const client: StandaloneClient = createClient({ url: server.url, socket: { reconnectStrategy: () => 50 } })
  client.on('error', () => undefined)
  await client.connect()
  const others: StandaloneClient[] = []
  return {
    server,
    client,
    async connect() {
      const other = await connectStandalone(server.url)
      others.push(other)
      return other
    },
    async stop() {
      for (const other of others) other.destroy()
      client.destroy()
      await server.stop()
    },
  }
}

/** A connected client to the suite's 3-master Redis Cluster. */
export async function connectCluster(): Promise<ClusterClient> {
  const cluster = createCluster({ rootNodes: clusterRootNodes() })
  cluster.on('error', () => undefined)
  await cluster.connect()
  return cluster
}

/** Empties every node the client reaches. */
export async function flushAll(client: StandaloneClient | ClusterClient): Promise<void> {
  if (!('getMasters' in client)) {
    await client.flushAll()
    return
  }
  const cluster: ClusterClient = client
  await Promise.all(cluster.getMasters().map(async (node) => (await cluster.nodeClient(node)).flushAll()))
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
