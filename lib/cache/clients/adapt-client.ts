/** Picks the adapter for the client the user gave, or says which clients are supported. */
import { OptionError } from '../../errors'
import type { ClientAdapter } from './client-adapter'
import type { IoRedisClient, RedisClient } from './client-types'
import { IoRedisAdapter, ioRedisKeyPrefix, isIoRedis } from './ioredis'
import { isNodeRedis, NodeRedisAdapter, type NodeRedisClient } from './node-redis'

export const SUPPORTED_CLIENTS = 'node-redis 5/6 createClient/createCluster/createSentinel, ioredis 5 Redis/Cluster'

export type IdentifiedClient = { library: 'ioredis'; client: IoRedisClient } | { library: 'node-redis'; client: NodeRedisClient }

/** Which library `client` comes from; an OptionError naming `option` for anything unsupported. */
export function identifyClient(client: unknown, option = 'client'): IdentifiedClient {
  if (typeof client === 'object' && client !== null) {
    const candidate = client as RedisClient
    // ioredis first: its clients have a `sendCommand` too, which takes a Command object.
    if (isIoRedis(candidate)) {
      // The cache names keys itself (its namespace) and reads them back inside scripts, where ioredis would not prefix them.
      if (ioRedisKeyPrefix(candidate) !== '')
        throw new OptionError(option, "must be an ioredis client without keyPrefix (the cache's namespace plays that role)")
      return { library: 'ioredis', client: candidate }
    }
    if (isNodeRedis(candidate)) return { library: 'node-redis', client: candidate }
  }
  throw new OptionError(option, `must be a connected Redis client (supported: ${SUPPORTED_CLIENTS})`)
}

/** `offlineTimeoutMs`: how long a command may wait for an offline client before it is dropped unsent; `0` forever. */
export function adaptClient(client: RedisClient, offlineTimeoutMs: number): ClientAdapter {
  const identified = identifyClient(client)
  if (identified.library === 'ioredis') return new IoRedisAdapter(identified.client, offlineTimeoutMs)
  return new NodeRedisAdapter(identified.client, offlineTimeoutMs)
}
