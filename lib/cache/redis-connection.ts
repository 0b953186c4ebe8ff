/**
 * The cache's one way to Redis: every command bounded in time, scripts by SHA, keys grouped by
 * cluster slot. What differs between Redis libraries is left to an adapter (clients/).
 */
import { performance } from 'node:perf_hooks'
import calculateSlot from 'cluster-key-slot'
import { DeadlineQueue } from '../shared/deadline-queue'
import { adaptClient } from './clients/adapt-client'
import type { ClientAdapter } from './clients/client-adapter'
import type { RedisArgument, RedisClient } from './clients/client-types'
import type { CircuitBreaker } from './circuit-breaker'
import type { LuaScript } from './lua-script'

export type { RedisArgument, RedisClient } from './clients/client-types'

export class RedisConnection {
  readonly isCluster: boolean
  private readonly adapter: ClientAdapter
  private readonly deadlines: DeadlineQueue | undefined

  constructor(
    client: RedisClient,
    commandTimeoutMs: number,
    /** Refuses commands to a node that stopped answering, and hears how each command ends. */
    private readonly breaker?: CircuitBreaker,
  ) {
    // The adapter drops a command that waited out the timeout while the client was offline.
    this.adapter = adaptClient(client, commandTimeoutMs)
    this.isCluster = this.adapter.isCluster
    this.deadlines =
      commandTimeoutMs > 0
        ? new DeadlineQueue(commandTimeoutMs, () => new Error(`no reply from Redis within ${commandTimeoutMs} ms`), false)
        : undefined
  }

  /**
   * Sends one command; on a cluster, to the node that owns `routingKey`. It fails after
   * `commandTimeoutMs` without a reply, written or not. A command that timed out while the client
   * was offline is dropped, not run after the caller was told it failed (see ClientAdapter).
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
    const node = routingKey === undefined ? '' : this.adapter.nodeOf(routingKey)
    const refusal = breaker.refusal(node)
    if (refusal !== undefined) return Promise.reject(refusal)
    const sentAt = performance.now()
    const done = work()
    done.catch((error: unknown) => breaker.failed(node, routingKey, error, sentAt))
    return done
  }

  /**
   * A command that bypasses the breaker: its probe, to the node of `routingKey`. A `PING` routed
   * by the key where the library routes by the key it is given (node-redis: its cluster client
   * then also finds a new master for the slot); where it routes by the keys in the command
   * (ioredis), `EXISTS` of the key, since a keyless `PING` could go to any node.
   */
  probe(routingKey: string | undefined): Promise<unknown> {
    const byKey = routingKey !== undefined && this.adapter.routesByKeysInCommand
    return this.sendNow(byKey ? ['EXISTS', routingKey] : ['PING'], routingKey, false)
  }

  private sendNow(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean): Promise<unknown> {
    const sent = this.adapter.send(args, routingKey, readonly)
    return this.deadlines ? this.deadlines.watch(sent) : sent
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
