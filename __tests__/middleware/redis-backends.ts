/**
 * Redis for the middleware suites. `standaloneBackend` and `clusterBackend` use this test worker's
 * own servers (helpers/env.ts), which the files of one worker share one after another: a suite
 * flushes them before each test. `privateBackend` starts a server of its own, for the suites that
 * count its commands or stop it. Each backend gives as many independent clients as the test has
 * app instances, and a dump of everything stored.
 */
import { RedisCache, type RedisCacheOptions } from '../../lib/cache/redis-cache'
import type { ClientFamily, FamilyClient } from '../helpers/client-families'
import { connectCluster, connectStandalone, flushAll, privateRedis, type ClusterClient, type StandaloneClient } from '../helpers/clients'
import type { RedisServerHandle } from '../../scripts/redis-server'

export interface StoredItem {
  key: string
  /** The value, or each member and score of a sorted set, as text. */
  texts: string[]
}

export type SessionCacheOptions = Partial<Pick<RedisCacheOptions, 'commandTimeoutMs' | 'tagDepth' | 'nearCache'>>

export interface RedisBackend {
  /** A session cache on a client of its own, as one app instance would have. */
  cache(options?: SessionCacheOptions): Promise<RedisCache>
  /** Every key and value on every node. */
  dump(): Promise<StoredItem[]>
  flush(): Promise<void>
  /** Closes the backend's clients (and stops a private server). */
  stop(): Promise<void>
}

/** Sessions get their own namespace, and tagDepth 3 (SESSION_TAG_DEPTH) so `['u', userKey, 's']` chooses the slot and the index. */
export const SESSION_CACHE = { ttlMs: 60_000, namespace: 'sessions', tagDepth: 3 } as const

type Closable = { close(): Promise<unknown> }

/** This worker's standalone Redis; the caches on `family`'s clients when given (node-redis 6 by default). */
export function standaloneBackend(family?: ClientFamily): Promise<RedisBackend> {
  return backendOn(connectStandalone, dumpNode, family && (() => family.standalone()))
}

/** A standalone Redis of the suite's own, to count its commands or to stop and restart it. */
export async function privateBackend(args: string[] = []): Promise<RedisBackend & { server: RedisServerHandle }> {
  const redis = await privateRedis(args)
  const backend = await backendOn(() => connectStandalone(redis.server.url), dumpNode)
  return {
    ...backend,
    server: redis.server,
    async stop() {
      await backend.stop()
      await redis.stop()
    },
  }
}

/** This worker's 3-master Redis Cluster; the caches on `family`'s clients when given (node-redis 6 by default). */
export function clusterBackend(family?: ClientFamily): Promise<RedisBackend> {
  return backendOn(
    connectCluster,
    async (admin) => {
      const nodes = await Promise.all(admin.getMasters().map((node) => admin.nodeClient(node)))
      return (await Promise.all(nodes.map(dumpNode))).flat()
    },
    family && (() => family.cluster()),
  )
}

/** One node-redis 6 client to flush and dump with, and one more per cache (of `connectCache`'s family when given). */
async function backendOn<C extends StandaloneClient | ClusterClient>(
  connect: () => Promise<C>,
  dump: (admin: C) => Promise<StoredItem[]>,
  connectCache?: () => Promise<FamilyClient>,
): Promise<RedisBackend> {
  const clients: Closable[] = []
  const admin = await connect()
  clients.push(admin)
  return {
    async cache(options = {}) {
      if (connectCache) {
        const connected = await connectCache()
        clients.push(connected)
        return new RedisCache({ ...SESSION_CACHE, ...options, client: connected.client })
      }
      const client = await connect()
      clients.push(client)
      return new RedisCache({ ...SESSION_CACHE, ...options, client })
    },
    dump: () => dump(admin),
    flush: () => flushAll(admin),
    stop: () => closeAll(clients),
  }
}

async function closeAll(clients: Closable[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)))
}

async function dumpNode(client: StandaloneClient): Promise<StoredItem[]> {
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
