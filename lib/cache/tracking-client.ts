/**
 * The near-cache's own Redis connection: a duplicate of the app's client, in RESP3, with
 * `CLIENT TRACKING` on. Redis remembers which keys this connection read and pushes an
 * invalidation when anyone, on any server, changes one of them. node-redis hands each push to
 * its client-side-cache provider; ours forwards it to the NearCacheMap, and forgets everything
 * when the connection fails (pushes may have been lost) or closes. node-redis turns tracking
 * back on by itself after a reconnect, on every node of a cluster.
 */
import { BasicPooledClientSideCache } from 'redis'
import { DEFAULT_COMMAND_TIMEOUT_MS } from '../defaults'
import { OptionError } from '../errors'
import type { NearCacheMap } from './near-cache'
import { RedisConnection, type RedisClient } from './redis-connection'

/** What the near-cache needs of the app's client: a way to open a connection like it. */
export interface DuplicableClient {
  duplicate(overrides: { RESP: 3; clientSideCache: BasicPooledClientSideCache }): TrackedClient
}

type TrackedClient = RedisClient & {
  readonly isReady: boolean
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): Promise<unknown> | void
  on(event: 'error', listener: (error: Error) => void): unknown
}

/** node-redis's provider, kept only for its hooks: our own reads use raw commands it never caches. */
class InvalidationForwarder extends BasicPooledClientSideCache {
  constructor(private readonly map: NearCacheMap) {
    super({ maxEntries: 1 })
  }

  override invalidate(key: Parameters<BasicPooledClientSideCache['invalidate']>[0]): void {
    super.invalidate(key)
    this.map.invalidate(key === null ? null : key.toString())
  }

  override onError(): void {
    super.onError()
    this.map.invalidate(null)
  }

  override onClose(): void {
    super.onClose()
    this.map.invalidate(null)
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

  constructor(source: RedisClient, map: NearCacheMap, commandTimeoutMs: number) {
    if (typeof (source as Partial<DuplicableClient>).duplicate !== 'function') {
      throw new OptionError('nearCache', 'needs a node-redis client, cluster or sentinel, which can duplicate() itself')
    }
    this.client = (source as unknown as DuplicableClient).duplicate({ RESP: 3, clientSideCache: new InvalidationForwarder(map) })
    // A failing near-cache connection only means reads go to Redis; node-redis reconnects it.
    this.client.on('error', () => map.invalidate(null))
    this.connection = new RedisConnection(this.client, commandTimeoutMs)
    this.firstAttempt = this.client.connect().then(
      () => undefined,
      () => map.invalidate(null),
    )
    this.attemptWaitMs = commandTimeoutMs > 0 ? commandTimeoutMs : DEFAULT_COMMAND_TIMEOUT_MS
  }

  /** True while tracked reads can be trusted: connected, with tracking on. */
  get isReady(): boolean {
    return !this.closed && this.client.isReady
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
    if (attemptEnded && this.client.isReady) await this.client.close()
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
