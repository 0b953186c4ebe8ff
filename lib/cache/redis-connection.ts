/**
 * One face for the three kinds of node-redis client. Types are structural so that any
 * `createClient()`, `createCluster()` or `createSentinel()` result fits, whatever its modules,
 * scripts or RESP version.
 */
import calculateSlot from 'cluster-key-slot'
import { CommandDeadlines } from './command-deadline'
import type { LuaScript } from './lua-script'

export type RedisArgument = string | Buffer

export interface RedisCommandOptions {
  /** Rejects the command if it is still unsent when the signal aborts. */
  abortSignal?: AbortSignal
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
  private readonly deadlines: CommandDeadlines | undefined

  constructor(
    private readonly client: RedisClient,
    commandTimeoutMs: number,
  ) {
    this.isCluster = isClusterClient(client)
    this.deadlines = commandTimeoutMs > 0 ? new CommandDeadlines(commandTimeoutMs) : undefined
  }

  /** Sends one command, bounded by the command timeout; on a cluster, to the node that owns `routingKey`. */
  send(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean): Promise<unknown> {
    if (!this.deadlines) return this.dispatch(args, routingKey, readonly, {})
    const deadline = this.deadlines.next()
    return Promise.race([this.dispatch(args, routingKey, readonly, { abortSignal: deadline.signal }), deadline.expired])
  }

  private dispatch(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean, options: RedisCommandOptions): Promise<unknown> {
    const client = this.client
    if (isClusterClient(client)) return client.sendCommand(routingKey, readonly, args, options)
    if (isSentinelClient(client)) return client.sendCommand(readonly, args, options)
    return client.sendCommand(args, options)
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
