/**
 * Private Redis servers for the middleware suites: a standalone server or a 3-master cluster of
 * their own, so no other suite's FLUSHALL can wipe a session mid-test. Each backend gives as many
 * independent clients as the test has app instances, and a dump of everything stored.
 */
import { createClient, createCluster, type RedisClientType } from 'redis'
import { RedisCache } from '../../lib/cache/redis-cache'
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from '../helpers/redis-server'

export interface StoredItem {
  key: string
  /** The value, or each member and score of a sorted set, as text. */
  texts: string[]
}

export interface RedisBackend {
  /** A session cache on a client of its own, as one app instance would have. */
  cache(options?: { commandTimeoutMs?: number }): Promise<RedisCache>
  /** Every key and value on every node. */
  dump(): Promise<StoredItem[]>
  flush(): Promise<void>
  stop(): Promise<void>
}

/** Sessions get their own namespace, and tagDepth 3 so `[namespace, 'user', id]` is the hash tag. */
export const SESSION_CACHE = { ttlMs: 60_000, namespace: 'sessions', tagDepth: 3 } as const

type Closable = { close(): Promise<unknown> }

export async function standaloneBackend(server?: RedisServerHandle): Promise<RedisBackend & { server: RedisServerHandle }> {
  const handle = server ?? (await startRedisServer())
  const clients: Closable[] = []
  const admin = await connect(handle.url, clients)
  return {
    server: handle,
    async cache(options = {}) {
      return new RedisCache({ ...SESSION_CACHE, ...options, client: await connect(handle.url, clients) })
    },
    dump: () => dumpNode(admin),
    flush: async () => void (await admin.flushAll()),
    async stop() {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)))
      await handle.stop()
    },
  }
}

export async function clusterBackend(): Promise<RedisBackend> {
  const handle: RedisClusterHandle = await startRedisCluster({ masters: 3 })
  const clients: Closable[] = []
  const admins = await Promise.all(handle.nodes.map(({ port }) => connect(`redis://127.0.0.1:${port}`, clients)))
  const rootNodes = handle.rootNodes.split(',').map((url) => ({ url }))
  return {
    async cache(options = {}) {
      const cluster = createCluster({ rootNodes })
      cluster.on('error', () => undefined)
      await cluster.connect()
      clients.push(cluster)
      return new RedisCache({ ...SESSION_CACHE, ...options, client: cluster })
    },
    dump: async () => (await Promise.all(admins.map(dumpNode))).flat(),
    flush: async () => void (await Promise.all(admins.map((admin) => admin.flushAll()))),
    async stop() {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)))
      await handle.stop()
    },
  }
}

async function connect(url: string, clients: Closable[]): Promise<RedisClientType> {
  const client: RedisClientType = createClient({ url })
  client.on('error', () => undefined) // outage tests stop the server under it
  await client.connect()
  clients.push(client)
  return client
}

async function dumpNode(client: RedisClientType): Promise<StoredItem[]> {
  const items: StoredItem[] = []
  for await (const keys of client.scanIterator({ COUNT: 1000 })) {
    for (const key of keys) {
      const type = await client.type(key)
      if (type === 'string') items.push({ key, texts: [String(await client.get(key))] })
      else if (type === 'zset') items.push({ key, texts: (await client.zRange(key, 0, -1)).map(String) })
      else items.push({ key, texts: [`<unexpected ${type}>`] })
    }
  }
  return items
}
