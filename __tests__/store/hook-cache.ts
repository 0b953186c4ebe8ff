// A Cache that hands every call to another one, and can run something just before the next
// conditional write of a key: how a test puts another server's save between a store's read and
// its write, every time, instead of hoping a timer lands there.
import type { Cache, CacheEntry, PutIfOptions, PutOptions } from '../../lib/cache/cache'
import type { CacheRecord, Key, KeyPart, Match } from '../../lib/cache/key'

interface Hook {
  key: string
  run: () => Promise<void>
}

export class HookCache<V = unknown> implements Cache<V> {
  private readonly hooks: Hook[] = []

  constructor(readonly inner: Cache<V>) {}

  get namespace(): string {
    return this.inner.namespace
  }

  /** Runs `run` once, just before the next `putIf` of `key` reaches the inner cache. */
  beforeNextPutIf(key: readonly KeyPart[], run: () => Promise<void>): void {
    this.hooks.push({ key: JSON.stringify(key), run })
  }

  /** How many hooks have not run yet: a test checks it is 0, so it knows its race happened. */
  get pendingHooks(): number {
    return this.hooks.length
  }

  async putIf(key: Key, value: V, options: PutIfOptions<V>): Promise<boolean> {
    const at = this.hooks.findIndex((hook) => hook.key === JSON.stringify(key))
    if (at >= 0) await this.hooks.splice(at, 1)[0]?.run()
    return this.inner.putIf(key, value, options)
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

  delete(key: Key): Promise<void> {
    return this.inner.delete(key)
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

  flush(): Promise<void> {
    return this.inner.flush()
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
