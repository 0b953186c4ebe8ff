// A Cache that hands every call to another one, and can put another server's work at a chosen
// point of a store's call, every time, instead of hoping a timer lands there.
//
// With `asOnCluster`, it splits multi-record calls the way RedisCache does on Redis Cluster when
// the records are in different slots (a session and its user's entry always are): a putIf writes
// its `alongWith` records first, on their own, then the conditional record; touchMany and batch
// handle one record after another, in the order given. Each step is atomic, the whole is not.
import type { Batch, Cache, CacheEntry, DeleteOptions, PutIfOptions, PutOptions, TimedValue } from 'sessionvault/cache'
import type { CacheRecord, Key, KeyPart, Match } from 'sessionvault/cache'

interface Hook {
  key: string
  run: () => Promise<unknown>
}

export interface HookCacheOptions {
  asOnCluster?: boolean
}

const idOf = (key: Key) => JSON.stringify(typeof key === 'object' ? key : [key])

export class HookCache<V = unknown> implements Cache<V> {
  private readonly hooks: Hook[] = []
  private touchFailure: { after: number; error: Error } | undefined

  constructor(
    readonly inner: Cache<V>,
    private readonly options: HookCacheOptions = {},
  ) {}

  get namespace(): string {
    return this.inner.namespace
  }

  /**
   * Runs `run` once, just before the next `putIf` of `key` writes that key (with `asOnCluster`,
   * after its `alongWith` records are written).
   */
  beforeNextPutIf(key: readonly KeyPart[], run: () => Promise<unknown>): void {
    this.hooks.push({ key: idOf(key), run })
  }

  /** How many hooks have not run yet: a test checks it is 0, so it knows its race happened. */
  get pendingHooks(): number {
    return this.hooks.length
  }

  /** The next touchMany touches its first `after` keys, then fails with `error` (a Cluster call to the next slot failing). */
  failNextTouchMany(after: number, error: Error): void {
    this.touchFailure = { after, error }
  }

  async putIf(key: Key, value: V, options: PutIfOptions<V>): Promise<boolean> {
    let conditional = options
    if (this.options.asOnCluster === true && options.alongWith !== undefined) {
      const { alongWith, ...rest } = options
      const others = [...alongWith]
      if (others.length > 0) await this.inner.putMany(others, rest.ttlMs === undefined ? {} : { ttlMs: rest.ttlMs })
      conditional = rest
    }
    const at = this.hooks.findIndex((hook) => hook.key === idOf(key))
    if (at >= 0) await this.hooks.splice(at, 1)[0]?.run()
    return this.inner.putIf(key, value, conditional)
  }

  async touchMany(keys: Iterable<Key>, options?: PutOptions): Promise<number> {
    const failure = this.touchFailure
    this.touchFailure = undefined
    if (this.options.asOnCluster !== true && failure === undefined) return this.inner.touchMany(keys, options)
    let touched = 0
    let done = 0
    for (const key of keys) {
      if (failure !== undefined && done === failure.after) throw failure.error
      touched += await this.inner.touchMany([key], options)
      done++
    }
    return touched
  }

  async batch(batch: Batch<V>, options?: PutOptions): Promise<void> {
    if (this.options.asOnCluster !== true) return this.inner.batch(batch, options)
    for (const entry of batch.put ?? []) await this.inner.batch({ put: [entry] }, options)
    for (const key of batch.delete ?? []) await this.inner.batch({ delete: [key] }, options)
  }

  put(key: Key, value: V, options?: PutOptions): Promise<void> {
    return this.inner.put(key, value, options)
  }

  putMany(entries: Iterable<CacheEntry<V>>, options?: PutOptions): Promise<void> {
    return this.inner.putMany(entries, options)
  }

  get(key: Key): Promise<V | undefined> {
    return this.inner.get(key)
  }

  getTimed(key: Key): Promise<TimedValue<V> | undefined> {
    return this.inner.getTimed(key)
  }

  touch(key: Key, options?: PutOptions): Promise<boolean> {
    return this.inner.touch(key, options)
  }

  delete(key: Key, options?: DeleteOptions): Promise<boolean> {
    return this.inner.delete(key, options)
  }

  all(match: Match): Promise<CacheRecord<V>[]> {
    return this.inner.all(match)
  }

  keys(match: Match): Promise<KeyPart[][]> {
    return this.inner.keys(match)
  }

  count(match: Match): Promise<number> {
    return this.inner.count(match)
  }

  countUnder(prefix: readonly KeyPart[]): Promise<number> {
    return this.inner.countUnder(prefix)
  }

  settled(): Promise<void> {
    return this.inner.settled()
  }

  on(event: 'error', listener: (error: Error) => void): this {
    this.inner.on(event, listener)
    return this
  }

  off(event: 'error', listener: (error: Error) => void): this {
    this.inner.off(event, listener)
    return this
  }
}
