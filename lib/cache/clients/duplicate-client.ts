/**
 * A connection of the cache's own, like the app's client (same servers, same options): for the
 * writes that wait for replicas, whose `WAIT` must not block the app's shared connection.
 */
import { UsageError } from '../../errors'
import { identifyClient } from './adapt-client'
import type { RedisClient } from './client-types'
import { unrefConnection } from './unref-connection'

export interface OwnConnection {
  client: RedisClient
  /** Settles once the first connection attempt ends (node-redis needs it before commands; ioredis queues them). */
  connected: Promise<void>
  /** Closes it at once: the cache is done with it. */
  close(): void
}

interface NodeRedisDuplicate {
  connect(): Promise<unknown>
  destroy(): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

interface IoRedisDuplicate {
  disconnect(): void
  on(event: 'error', listener: (error: Error) => void): unknown
}

export function duplicateClient(source: RedisClient): OwnConnection {
  const identified = identifyClient(source)
  // Errors of this connection reach the callers of its commands; both libraries reconnect by themselves.
  const ignore = () => undefined
  if (identified.library === 'ioredis') {
    // ioredis routes a command by the keys it holds, and WAIT holds none: on a Cluster it could
    // not be sent to the node that took the write.
    if (identified.client.isCluster)
      throw new UsageError(
        'waitForReplicas needs a node-redis cluster (createCluster) on Redis Cluster: ioredis cannot send WAIT to the node that took the write',
        { option: 'waitForReplicas' },
      )
    const client = (identified.client as unknown as { duplicate(): RedisClient & IoRedisDuplicate }).duplicate()
    client.on('error', ignore)
    return { client, connected: Promise.resolve(), close: () => client.disconnect() }
  }
  const client = (identified.client as unknown as { duplicate(): RedisClient & NodeRedisDuplicate }).duplicate()
  client.on('error', ignore)
  unrefConnection(client)
  return { client, connected: client.connect().then(() => undefined), close: () => void client.destroy() }
}
