/**
 * What the cache needs of a Redis client, whichever library it comes from: one adapter per
 * library (node-redis.ts, ioredis.ts), chosen by adapt-client.ts.
 */
import type { RedisArgument } from './client-types'

export interface ClientAdapter {
  /** True on a Redis Cluster client: no command may span slots. */
  readonly isCluster: boolean
  /**
   * Sends one command; on a cluster, to the node that owns `routingKey`. A command sent while the
   * client is offline waits for it at most the offline timeout the adapter was built with, then
   * is dropped unsent and rejected, so it never runs after its caller was told it failed.
   */
  send(args: readonly RedisArgument[], routingKey: string | undefined, readonly: boolean): Promise<unknown>
  /** True when the library routes a command by the keys in it alone (a keyless command may go to any node). */
  readonly routesByKeysInCommand: boolean
  /** The node a command for `routingKey` goes to, as the circuit breaker names it: its slot's master (`host:port`) on Cluster, `''` otherwise. */
  nodeOf(routingKey: string): string
}
