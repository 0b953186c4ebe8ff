/**
 * The near-cache's own Redis connection: a duplicate of the app's node-redis client, in RESP3,
 * with `CLIENT TRACKING` on. Redis remembers which keys this connection read and pushes an
 * invalidation when anyone, on any server, changes one of them. node-redis hands each push to
 * its client-side-cache provider; we listen to it and forward each key to the NearCacheMap, and
 * forget everything whenever node-redis clears the provider (the connection failed or closed,
 * so pushes may have been lost, or a cluster's topology changed). node-redis turns tracking
 * back on by itself after a reconnect, on every node of a cluster.
 */
import { DEFAULT_COMMAND_TIMEOUT_MS } from '../defaults'
import { OptionError } from '../errors'
import type { RedisArgument, RedisClient } from './clients/client-types'
import type { NearCacheMap } from './near-cache'
import { RedisConnection } from './redis-connection'
import { unrefConnection } from './clients/unref-connection'

/** What the near-cache needs of the app's client: a way to open a connection like it. */
export interface DuplicableClient {
  duplicate(overrides: { RESP: 3; clientSideCache: { maxEntries: number } }): TrackedClient
}

type TrackedClient = RedisClient & {
  /** Absent on a node-redis 5 cluster, which has only `isOpen`. */
  readonly isReady?: boolean
  readonly isOpen: boolean
  /** The provider node-redis built from our config (its own class: ours would fail its `instanceof` with another copy of the package). */
  readonly clientSideCache: ClientSideCacheProvider | undefined
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): Promise<unknown> | void
  on(event: 'error', listener: (error: Error) => void): unknown
}

/** The parts of node-redis's client-side-cache provider (5 and 6 alike) the near-cache hooks into. */
interface ClientSideCacheProvider {
  on(event: 'invalidate', listener: (key: RedisArgument | null) => void): unknown
  clear(...args: unknown[]): void
}

/**
 * Forwards node-redis's invalidations to the map. Our own reads use raw commands, which the
 * provider never caches: it is kept only for its hooks.
 */
function forwardInvalidations(provider: ClientSideCacheProvider, map: NearCacheMap): void {
  provider.on('invalidate', (key) => map.invalidate(key === null ? null : key.toString()))
  const clear = provider.clear.bind(provider)
  provider.clear = (...args: unknown[]) => {
    clear(...args)
    map.invalidate(null)
  }
}

export class TrackingClient {
  readonly connection: RedisConnection
  private readonly client: TrackedClient
  /** Settles when the first connection attempt ends, whether it connected or not. */
  private readonly firstAttempt: Promise<void>
  /** How long `close()` lets an unfinished first attempt go on before it gives up on it. */
  private readonly attemptWaitMs: number
  private closed = false
  private firstConnected = false

  constructor(source: RedisClient, map: NearCacheMap, commandTimeoutMs: number) {
    if (typeof (source as Partial<DuplicableClient>).duplicate !== 'function') {
      throw new OptionError('nearCache', 'needs a node-redis client, cluster or sentinel, which can duplicate() itself')
    }
    this.client = (source as unknown as DuplicableClient).duplicate({ RESP: 3, clientSideCache: { maxEntries: 1 } })
    const provider = this.client.clientSideCache
    if (provider === undefined)
      throw new OptionError(
        'nearCache',
        'needs a node-redis 5 or 6 client, cluster or sentinel (its duplicate() gave no client-side cache)',
      )
    forwardInvalidations(provider, map)
    // A failing near-cache connection only means reads go to Redis; node-redis reconnects it.
    this.client.on('error', () => map.invalidate(null))
    // Ours, not the app's: it must not keep the process alive (on Sentinel it does; close() then).
    unrefConnection(this.client)
    this.connection = new RedisConnection(this.client, commandTimeoutMs)
    this.firstAttempt = this.client.connect().then(
      () => {
        this.firstConnected = true
      },
      () => map.invalidate(null),
    )
    this.attemptWaitMs = commandTimeoutMs > 0 ? commandTimeoutMs : DEFAULT_COMMAND_TIMEOUT_MS
  }

  /** True while tracked reads can be trusted: connected, with tracking on. */
  get isReady(): boolean {
    return !this.closed && this.connected
  }

  /**
   * A node-redis 5 cluster says only whether it is open (from the start of its first connection):
   * once that has succeeded, a read to a node that reconnects waits for the node's handshake,
   * which turns tracking back on before it.
   */
  private get connected(): boolean {
    return this.client.isReady ?? (this.firstConnected && this.client.isOpen)
  }

  /**
   * node-redis cannot abandon a connection attempt midway: a client closed while it connects (a
   * node's, on a cluster) finishes connecting afterwards, and that connection then holds the
   * process open. So the first attempt is let end before the client is closed; one that Redis
   * leaves unanswered is cut short after the command timeout.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const attemptEnded = await settlesWithin(this.firstAttempt, this.attemptWaitMs)
    if (attemptEnded && this.connected) await this.client.close()
    else await this.client.destroy()
  }
}

/** Whether `promise` settles within `ms`. */
function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    void promise.then(() => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}
