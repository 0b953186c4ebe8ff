// Private Redis servers for the store tests: the shared ones are flushed by other suites running
// in parallel, which would wipe sessions in the middle of a test.
import { createClient, createCluster } from 'redis'
import { RedisLayout } from '../../lib/cache/redis-layout'
import { DEFAULT_SHALLOW_INDEX_BUCKETS } from '../../lib/defaults'
import { STORE_TAG_DEPTH, sessionKey } from '../../lib/store/session-keys'
import type { ClusterClient, StandaloneClient } from '../helpers/clients'
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from '../helpers/redis-server'

export interface PrivateStandalone {
  server: RedisServerHandle
  connect(): Promise<StandaloneClient>
  stop(): Promise<void>
}

export interface PrivateCluster {
  cluster: RedisClusterHandle
  connect(): Promise<ClusterClient>
  stop(): Promise<void>
}

export async function privateStandalone(): Promise<PrivateStandalone> {
  const server = await startRedisServer()
  const clients: StandaloneClient[] = []
  return {
    server,
    async connect() {
      const client: StandaloneClient = createClient({ url: server.url })
      client.on('error', () => undefined)
      await client.connect()
      clients.push(client)
      return client
    },
    async stop() {
      for (const client of clients) client.destroy()
      await server.stop()
    },
  }
}

export async function privateCluster(): Promise<PrivateCluster> {
  const cluster = await startRedisCluster({ masters: 3 })
  const clients: ClusterClient[] = []
  return {
    cluster,
    async connect() {
      const client: ClusterClient = createCluster({ rootNodes: cluster.rootNodes.split(',').map((url) => ({ url })) })
      client.on('error', () => undefined)
      await client.connect()
      clients.push(client)
      return client
    },
    async stop() {
      for (const client of clients) client.destroy()
      await cluster.stop()
    },
  }
}

let prefixes = 0
/** A prefix no other test in this worker uses, so tests sharing a server never see each other's sessions. */
export function uniquePrefix(): string {
  prefixes += 1
  return `test${prefixes}-${process.pid}:`
}

/** The Redis key that holds session `sid` of a store with this prefix (built on a client). */
export function sessionValueKey(prefix: string, sid: string): string {
  const layout = new RedisLayout({ namespace: prefix, tagDepth: STORE_TAG_DEPTH, shallowIndexBuckets: DEFAULT_SHALLOW_INDEX_BUCKETS })
  return layout.valueKey(layout.path(sessionKey(sid)))
}
