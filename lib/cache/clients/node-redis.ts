/** The adapter for node-redis 5 and 6: `createClient()`, `createCluster()` and `createSentinel()`. */
import calculateSlot from 'cluster-key-slot'
import type { ClientAdapter } from './client-adapter'
import type {
  RedisArgument,
  RedisClient,
  RedisClusterClient,
  RedisCommandOptions,
  RedisSentinelClient,
  RedisStandaloneClient,
} from './client-types'

export type NodeRedisClient = RedisStandaloneClient | RedisClusterClient | RedisSentinelClient

/** node-redis 5 and 6 (not 4) have `withCommandOptions` on all three kinds of client. */
export function isNodeRedis(client: RedisClient): client is NodeRedisClient {
  const candidate = client as { sendCommand?: unknown; withCommandOptions?: unknown }
  return typeof candidate.sendCommand === 'function' && typeof candidate.withCommandOptions === 'function'
}

export function isClusterClient(client: NodeRedisClient): client is RedisClusterClient {
  return typeof (client as Partial<RedisClusterClient>).getMasters === 'function'
}

function isSentinelClient(client: NodeRedisClient): client is RedisSentinelClient {
  return typeof (client as Partial<RedisSentinelClient>).getSentinelNode === 'function'
}

// `timeout: 0` also overrides node-redis's default (5 s), which `{}` would leave armed.
const NO_TIMEOUT: RedisCommandOptions = { timeout: 0 }

/**
 * node-redis's own per-command timeout arms an AbortSignal.timeout per command (several µs, more
 * than the rest of a GET), so it is armed only while the client is not ready: then a command that
 * timed out in node-redis's offline queue is dropped from it rather than run later.
 */
export class NodeRedisAdapter implements ClientAdapter {
  readonly isCluster: boolean
  readonly routesByKeysInCommand = false
  private readonly offlineOptions: RedisCommandOptions

  constructor(
    private readonly client: NodeRedisClient,
    offlineTimeoutMs: number,
  ) {
    this.isCluster = isClusterClient(client)
    this.offlineOptions = { timeout: offlineTimeoutMs }
  }

  send(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean): Promise<unknown> {
    const client = this.client
    const options = (client as { isReady?: boolean }).isReady === false ? this.offlineOptions : NO_TIMEOUT
    if (isClusterClient(client)) return client.sendCommand(routingKey, readonly, args, options)
    if (isSentinelClient(client)) return client.sendCommand(readonly, args, options)
    return client.sendCommand(args, options)
  }

  nodeOf(routingKey: string): string {
    const client = this.client
    if (!isClusterClient(client)) return ''
    return client.slots?.[calculateSlot(routingKey)]?.master?.address ?? ''
  }
}
