/**
 * The inspector's Redis connection, through node-redis (the `redis` package, 5 or 6, which the
 * app already has): one server, a Cluster or Sentinel. Every attempt is bounded; a Redis that
 * cannot be reached is a `CliRedisError` naming where it was looked for (without a password).
 */
import { createRequire } from 'node:module'
import type { RedisClient } from '../cache/clients/client-types'
import { redactUrl, type RedisTarget } from './cli-options'

/** Redis could not be reached, or failed a command. Exit code 1. */
export class CliRedisError extends Error {
  override readonly name = 'CliRedisError'
}

/** The parts of node-redis the inspector uses, typed by shape (the package is an optional peer). */
interface NodeRedisClient {
  connect(): Promise<unknown>
  destroy(): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

interface NodeRedisCluster extends NodeRedisClient {
  readonly masters: readonly unknown[]
  nodeClient(node: unknown): Promise<RedisClient>
}

interface NodeRedis {
  createClient(options: object): NodeRedisClient
  createCluster(options: object): NodeRedisCluster
  createSentinel(options: object): NodeRedisClient
}

export interface InspectorConnection {
  /** The client the caches are built on. */
  client: RedisClient
  /** Where to SCAN: each server that holds keys (each master on Cluster). */
  scanTargets(): Promise<RedisClient[]>
  close(): void
}

/** Where `target` is, as it may be printed. */
export function describeTarget(target: RedisTarget): string {
  if (target.kind === 'standalone') return redactUrl(target.url)
  if (target.kind === 'cluster') return `the cluster at ${target.urls.map(redactUrl).join(', ')}`
  return `master '${target.master}' of the sentinels at ${target.sentinels.map(({ host, port }) => `${host}:${port}`).join(', ')}`
}

export async function connect(target: RedisTarget, timeoutMs: number): Promise<InspectorConnection> {
  const redis = loadNodeRedis()
  // No reconnects: a command-line tool reports an unreachable Redis instead of waiting for it.
  const socket = { connectTimeout: timeoutMs, reconnectStrategy: false }
  const opened: NodeRedisClient =
    target.kind === 'standalone'
      ? redis.createClient({ url: target.url, socket })
      : target.kind === 'cluster'
        ? redis.createCluster({ rootNodes: target.urls.map((url) => ({ url })), defaults: { socket } })
        : redis.createSentinel({
            name: target.master,
            sentinelRootNodes: target.sentinels,
            nodeClientOptions: { socket },
            sentinelClientOptions: { socket },
          })
  let failure: unknown
  opened.on('error', (error) => (failure ??= error))
  try {
    await withTimeout(opened.connect(), timeoutMs)
  } catch (error) {
    opened.destroy()
    throw new CliRedisError(`cannot reach Redis at ${describeTarget(target)}: ${reason(failure) ?? reason(error) ?? 'no reason given'}`)
  }
  const client = opened as unknown as RedisClient
  return {
    client,
    async scanTargets() {
      if (target.kind !== 'cluster') return [client]
      const cluster = opened as NodeRedisCluster
      return Promise.all(cluster.masters.map((master) => cluster.nodeClient(master)))
    },
    close: () => void opened.destroy(),
  }
}

function loadNodeRedis(): NodeRedis {
  try {
    // Resolved from the app's node_modules, like any peer dependency.
    return createRequire(__filename)('redis') as NodeRedis
  } catch {
    throw new CliRedisError("the inspector needs the 'redis' package (node-redis 5 or 6): npm install redis")
  }
}

/** What went wrong, in words; undefined when nothing says. */
function reason(error: unknown): string | undefined {
  if (error instanceof Error) return error.message || (error.cause === undefined ? error.name : reason(error.cause))
  return typeof error === 'string' && error !== '' ? error : undefined
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
