/**
 * The Redis client libraries the cache supports, each able to connect to this worker's standalone
 * Redis and Cluster, so one suite can run on every family: node-redis 6 (the `redis` package),
 * node-redis 5 (`redis5`, an npm alias of redis@5) and ioredis 5. Tests still inspect Redis with
 * node-redis 6 (helpers/clients.ts); only the code under test gets the family's client.
 */
import IORedis, { Cluster as IORedisCluster } from 'ioredis'
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5'
import type { RedisClient } from 'sessionvault'
import { connectCluster, connectStandalone } from './redis'
import { clusterRootNodes, redisUrl } from './env'

export interface ClientFamily {
  /** 'node-redis 6', 'node-redis 5' or 'ioredis 5'. */
  name: string
  /** True when the cache can keep a near-cache on this family's clients. */
  nearCache: boolean
  /** A connected client to a standalone Redis (this worker's unless `url` is given). */
  standalone(url?: string): Promise<FamilyClient>
  /** A connected client to this worker's 3-master Cluster. */
  cluster(): Promise<FamilyClient>
}

export interface FamilyClient {
  client: RedisClient
  /** Closes the client at once (pending commands fail). */
  close: () => Promise<void>
}

export const NODE_REDIS_6: ClientFamily = {
  name: 'node-redis 6',
  nearCache: true,
  async standalone(url) {
    const client = await connectStandalone(url)
    return { client, close: async () => client.destroy() }
  },
  async cluster() {
    const client = await connectCluster()
    return { client, close: async () => client.destroy() }
  },
}

export const NODE_REDIS_5: ClientFamily = {
  name: 'node-redis 5',
  nearCache: true,
  async standalone(url = redisUrl()) {
    const client = createClient5({ url })
    client.on('error', () => undefined)
    await client.connect()
    return { client, close: async () => client.destroy() }
  },
  async cluster() {
    const client = createCluster5({ rootNodes: clusterRootNodes() })
    client.on('error', () => undefined)
    await client.connect()
    return { client, close: async () => client.destroy() }
  },
}

export const IOREDIS_5: ClientFamily = {
  name: 'ioredis 5',
  nearCache: false,
  async standalone(url = redisUrl()) {
    const client = new IORedis(url, { lazyConnect: true })
    client.on('error', () => undefined)
    await client.connect()
    return { client, close: async () => client.disconnect() }
  },
  async cluster() {
    const nodes = clusterRootNodes().map(({ url }) => {
      const { hostname, port } = new URL(url)
      return { host: hostname, port: Number(port) }
    })
    const client = new IORedisCluster(nodes, { lazyConnect: true })
    client.on('error', () => undefined)
    await client.connect()
    return { client, close: async () => client.disconnect() }
  },
}

/** The families beside node-redis 6, which the main suites already run on. */
export const OTHER_FAMILIES: readonly ClientFamily[] = [NODE_REDIS_5, IOREDIS_5]

export const ALL_FAMILIES: readonly ClientFamily[] = [NODE_REDIS_6, ...OTHER_FAMILIES]
