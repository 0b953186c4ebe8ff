/**
 * The clients RedisCache accepts, typed by shape: the Redis libraries are optional peers, so
 * nothing here imports them, and any client of a supported version fits whatever its modules,
 * scripts or RESP version.
 */

export type RedisArgument = string | Buffer

export interface RedisCommandOptions {
  /** node-redis: milliseconds before a command not yet written is dropped and rejected; `0` never. */
  timeout?: number
}

/** node-redis 5 or 6: a `createClient()` result. */
export interface RedisStandaloneClient {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: RedisCommandOptions): Promise<unknown>
  /** False while (re)connecting, when node-redis queues commands instead of writing them. */
  readonly isReady?: boolean
}

/** node-redis 5 or 6: a `createCluster()` result. */
export interface RedisClusterClient {
  /** Each slot's master, by `host:port`. */
  readonly slots?: readonly ({ master?: { address?: string } } | undefined)[]
  sendCommand(
    firstKey: RedisArgument | undefined,
    isReadonly: boolean | undefined,
    args: ReadonlyArray<RedisArgument>,
    options?: RedisCommandOptions,
  ): Promise<unknown>
  getMasters(): unknown[]
}

/** node-redis 5 or 6: a `createSentinel()` result. */
export interface RedisSentinelClient {
  sendCommand(isReadonly: boolean | undefined, args: ReadonlyArray<RedisArgument>, options?: RedisCommandOptions): Promise<unknown>
  getSentinelNode(): unknown
}

/** ioredis 5: a `new Redis()` (a single server, or Sentinel through its `sentinels` option) or a `new Cluster()`. */
export interface IoRedisClient {
  call(command: string, ...args: (string | Buffer | number)[]): Promise<unknown>
  /** `'ready'` once commands can be written; `'end'` once closed for good. */
  readonly status: string
  readonly isCluster: boolean
  /** On a `Cluster`: each slot's nodes, the master's `host:port` first. */
  readonly slots?: readonly (readonly string[] | undefined)[]
  once(event: 'ready' | 'end', listener: () => void): unknown
  removeListener(event: 'ready' | 'end', listener: () => void): unknown
}

/** A connected client of a supported library: node-redis 5 or 6 (client, cluster, sentinel) or ioredis 5 (Redis, Cluster). */
export type RedisClient = RedisStandaloneClient | RedisClusterClient | RedisSentinelClient | IoRedisClient
