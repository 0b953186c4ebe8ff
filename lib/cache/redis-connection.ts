/**
 * One face for the three kinds of node-redis client. Types are structural so that any
 * `createClient()`, `createCluster()` or `createSentinel()` result fits, whatever its modules,
 * scripts or RESP version.
 */
import calculateSlot from 'cluster-key-slot'
import { DeadlineQueue } from '../deadline-queue'
import type { CircuitBreaker } from './circuit-breaker'
import type { LuaScript } from './lua-script'

export type RedisArgument = string | Buffer

export interface RedisCommandOptions {
  /** node-redis: milliseconds before a command not yet written is dropped and rejected; `0` never. */
  timeout?: number
}

/** A `createClient()` result. */
export interface RedisStandaloneClient {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: RedisCommandOptions): Promise<unknown>
  /** False while (re)connecting, when node-redis queues commands instead of writing them. */
  readonly isReady?: boolean
}

/** A `createCluster()` result. */
export interface RedisClusterClient {
  /** node-redis 5 and 6: each slot's master, by `host:port`. */
  readonly slots?: readonly ({ master?: { address?: string } } | undefined)[]
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

// `timeout: 0` also overrides node-redis's default (5 s), which `{}` would leave armed.
const NO_TIMEOUT: RedisCommandOptions = { timeout: 0 }

export class RedisConnection {
  readonly isCluster: boolean
  private readonly deadlines: DeadlineQueue | undefined
  private readonly offlineOptions: RedisCommandOptions

  constructor(
    private readonly client: RedisClient,
    commandTimeoutMs: number,
    /** Refuses commands to a node that stopped answering, and hears how each command ends. */
    private readonly breaker?: CircuitBreaker,
  ) {
    this.isCluster = isClusterClient(client)
    // node-redis's own per-command timeout arms an AbortSignal.timeout per command (several µs,
    // more than the rest of a GET) and stops counting once the command is written.
    this.deadlines = commandTimeoutMs > 0 ? new DeadlineQueue(commandTimeoutMs, () => new Error(`no reply from Redis within ${commandTimeoutMs} ms`), false) : undefined
    this.offlineOptions = { timeout: commandTimeoutMs }
  }

  /**
   * Sends one command; on a cluster, to the node that owns `routingKey`. It fails after
   * `commandTimeoutMs` without a reply, written or not. While the client is not ready, node-redis's
   * own timeout is armed too, so a command that timed out in its offline queue is dropped from it
   * rather than run after the caller was told it failed.
   */
  send(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean): Promise<unknown> {
    return this.guarded(routingKey, () => this.sendNow(args, routingKey, readonly))
  }

  /**
   * Runs `work` (commands to the node of `routingKey`, on this connection or another one to the
   * same Redis) through the circuit breaker: refused at once while that node's circuit is open.
   */
  guarded<T>(routingKey: string | undefined, work: () => Promise<T>): Promise<T> {
    const breaker = this.breaker
    if (breaker === undefined) return work()
    const node = this.nodeOf(routingKey)
    const refusal = breaker.refusal(node)
    if (refusal !== undefined) return Promise.reject(refusal)
    const done = work()
    done.catch((error: unknown) => breaker.failed(node, routingKey, error))
    return done
  }

  /** A command that bypasses the breaker: its probe. */
  probe(routingKey: string | undefined): Promise<unknown> {
    return this.sendNow(['PING'], routingKey, false)
  }

  private sendNow(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean): Promise<unknown> {
    const options = (this.client as { isReady?: boolean }).isReady === false ? this.offlineOptions : NO_TIMEOUT
    const sent = this.sendWith(args, routingKey, readonly, options)
    return this.deadlines ? this.deadlines.watch(sent) : sent
  }

  /** The node a command for `routingKey` goes to, as the breaker names it: `host:port` of its slot's master on Cluster, else `''`. */
  private nodeOf(routingKey: string | undefined): string {
    const client = this.client
    if (routingKey === undefined || !isClusterClient(client)) return ''
    return client.slots?.[calculateSlot(routingKey)]?.master?.address ?? ''
  }

  private sendWith(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean, options: RedisCommandOptions): Promise<unknown> {
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
