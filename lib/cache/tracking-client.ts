/**
 * The near-cache's own Redis connection: a duplicate of the app's client, in RESP3, with
 * `CLIENT TRACKING` on. Redis remembers which keys this connection read and pushes an
 * invalidation when anyone, on any server, changes one of them. node-redis hands each push to
 * its client-side-cache provider; ours forwards it to the NearCacheMap, and forgets everything
 * when the connection fails (pushes may have been lost) or closes. node-redis turns tracking
 * back on by itself after a reconnect, on every node of a cluster.
 */
import { BasicPooledClientSideCache } from 'redis'
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
  private closed = false

  constructor(source: RedisClient, map: NearCacheMap, commandTimeoutMs: number) {
    if (typeof (source as Partial<DuplicableClient>).duplicate !== 'function') {
      throw new OptionError('nearCache', 'needs a node-redis client, cluster or sentinel, which can duplicate() itself')
    }
    this.client = (source as unknown as DuplicableClient).duplicate({ RESP: 3, clientSideCache: new InvalidationForwarder(map) })
    // A failing near-cache connection only means reads go to Redis; node-redis reconnects it.
    this.client.on('error', () => map.invalidate(null))
    this.connection = new RedisConnection(this.client, commandTimeoutMs)
    this.client.connect().catch(() => map.invalidate(null))
  }

  /** True while tracked reads can be trusted: connected, with tracking on. */
  get isReady(): boolean {
    return !this.closed && this.client.isReady
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.client.close()
  }
}
