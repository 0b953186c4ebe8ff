/** The adapter for ioredis 5: `new Redis()` (one server, or Sentinel through `sentinels`) and `new Cluster()`. */
import calculateSlot from 'cluster-key-slot'
import type { ClientAdapter } from './client-adapter'
import type { IoRedisClient, RedisArgument, RedisClient } from './client-types'

/** ioredis's `Redis` and `Cluster` both have `call`, a string `status` and a boolean `isCluster`. */
export function isIoRedis(client: RedisClient): client is IoRedisClient {
  const candidate = client as Partial<Record<keyof IoRedisClient, unknown>>
  return typeof candidate.call === 'function' && typeof candidate.status === 'string' && typeof candidate.isCluster === 'boolean'
}

/** The key prefix ioredis would add to every key (its `keyPrefix` option), or '' for none. */
export function ioRedisKeyPrefix(client: IoRedisClient): string {
  const prefix = (client as { options?: { keyPrefix?: unknown } }).options?.keyPrefix
  return typeof prefix === 'string' ? prefix : ''
}

/**
 * Statuses in which ioredis would hold a command in its offline queue. It runs such a command
 * once it reconnects even if the command timed out meanwhile, so the adapter holds the command
 * itself instead, and drops it unsent when its time is up. (`'wait'`, a lazy client not yet
 * connecting, is not among them: ioredis connects on its first command.)
 */
const OFFLINE = new Set(['connecting', 'connect', 'reconnecting', 'close'])

export class IoRedisAdapter implements ClientAdapter {
  readonly isCluster: boolean
  readonly routesByKeysInCommand = true
  /** Settles when the client is ready again (or closed for good), while commands wait for it. */
  private waiting: Promise<void> | undefined

  constructor(
    private readonly client: IoRedisClient,
    private readonly offlineTimeoutMs: number,
  ) {
    this.isCluster = client.isCluster
  }

  /** ioredis finds the keys (and so a cluster's node) in the command itself: `routingKey` and `readonly` are not needed. */
  send(args: readonly RedisArgument[]): Promise<unknown> {
    const [command, ...rest] = args
    const name = String(command)
    if (this.waiting === undefined && !OFFLINE.has(this.client.status)) return this.client.call(name, ...rest)
    // Queued behind the commands already waiting, so that they still go out in call order.
    return this.whenReady().then(() => this.client.call(name, ...rest))
  }

  nodeOf(routingKey: string): string {
    if (!this.isCluster) return ''
    return this.client.slots?.[calculateSlot(routingKey)]?.[0] ?? ''
  }

  private whenReady(): Promise<void> {
    const back = (this.waiting ??= this.nextReady())
    if (this.offlineTimeoutMs === 0) return back
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Redis was not ready within ${this.offlineTimeoutMs} ms; the command was not sent`)),
        this.offlineTimeoutMs,
      )
      back.then(
        () => {
          clearTimeout(timer)
          resolve()
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  private nextReady(): Promise<void> {
    const client = this.client
    const waiting = new Promise<void>((resolve, reject) => {
      const ready = () => {
        client.removeListener('end', end)
        this.waiting = undefined
        resolve()
      }
      const end = () => {
        client.removeListener('ready', ready)
        this.waiting = undefined
        reject(new Error('Connection is closed.'))
      }
      client.once('ready', ready)
      client.once('end', end)
    })
    // Every waiting command hears of a closed client; with none left waiting, nobody needs to.
    waiting.catch(() => undefined)
    return waiting
  }
}
