/**
 * One face for the three kinds of node-redis client. Types are structural so that any
 * `createClient()`, `createCluster()` or `createSentinel()` result fits, whatever its modules,
 * scripts or RESP version.
 */
import calculateSlot from 'cluster-key-slot'
import type { LuaScript } from './lua-script'

export type RedisArgument = string | Buffer

export interface RedisCommandOptions {
  /** Milliseconds before an unsent or unanswered command is rejected. */
  timeout?: number
}

/** A `createClient()` result. */
export interface RedisStandaloneClient {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: RedisCommandOptions): Promise<unknown>
}

/** A `createCluster()` result. */
export interface RedisClusterClient {
  sendCommand(
    firstKey: RedisArgument | undefined,
    isReadonly: boolean | undefined,
    args: ReadonlyArray<RedisArgument>,
    options?: RedisCommandOptions,
  ): Promise<unknown>
  getMasters(): unknown[]
}

/** A `createSentinel()` result. */
export interface RedisSentinelClient {
  sendCommand(isReadonly: boolean | undefined, args: ReadonlyArray<RedisArgument>, options?: RedisCommandOptions): Promise<unknown>
  getSentinelNode(): unknown
}

export type RedisClient = RedisStandaloneClient | RedisClusterClient | RedisSentinelClient

export function isClusterClient(client: RedisClient): client is RedisClusterClient {
  return typeof (client as Partial<RedisClusterClient>).getMasters === 'function'
}

export function isSentinelClient(client: RedisClient): client is RedisSentinelClient {
  return typeof (client as Partial<RedisSentinelClient>).getSentinelNode === 'function'
}

export class RedisConnection {
  readonly isCluster: boolean
  private readonly commandOptions: RedisCommandOptions

  constructor(
    private readonly client: RedisClient,
    commandTimeoutMs: number,
  ) {
    this.isCluster = isClusterClient(client)
    this.commandOptions = commandTimeoutMs > 0 ? { timeout: commandTimeoutMs } : {}
  }

  /** Sends one command; on a cluster, to the node that owns `routingKey`. */
  send(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean): Promise<unknown> {
    const client = this.client
    if (isClusterClient(client)) return client.sendCommand(routingKey, readonly, args, this.commandOptions)
    if (isSentinelClient(client)) return client.sendCommand(readonly, args, this.commandOptions)
    return client.sendCommand(args, this.commandOptions)
  }

  /** EVALSHA, falling back to EVAL (which also caches the script) on a server that lacks it. */
  async evalScript(script: LuaScript, keys: readonly string[], args: readonly RedisArgument[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await this.send(['EVALSHA', script.sha1, ...tail], keys[0], false)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return this.send(['EVAL', script.source, ...tail], keys[0], false)
    }
  }

  /** Groups items by the cluster slot of their key, so no command spans slots (one group on a single server). */
  groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
    if (!this.isCluster) return items.length > 0 ? [[...items]] : []
    const groups = new Map<number, T[]>()
    for (const item of items) {
      const slot = calculateSlot(keyOf(item))
      const group = groups.get(slot)
      if (group) group.push(item)
      else groups.set(slot, [item])
    }
    return [...groups.values()]
  }
}
