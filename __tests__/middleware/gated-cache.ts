/**
 * A MemoryCache whose chosen call waits until the test lets it go, or fails: to stall a renewal
 * at one step while the clock moves or another request runs, or to refuse its write.
 */
import type { CacheEntry, PutIfOptions, PutOptions } from 'sessionvault/cache'
import type { Key, KeyPart } from 'sessionvault/cache'
import { MemoryCache } from 'sessionvault/cache'

type Operation = 'get' | 'putIf' | 'putMany'

export interface Hold {
  /** Resolves once the held call has been made (and is waiting). */
  reached: Promise<void>
  release(): void
}

interface Gate {
  operation: Operation
  matches: (key: KeyPart[]) => boolean
  reach: () => void
  released: Promise<void>
}

export class GatedCache extends MemoryCache {
  private gate: Gate | undefined
  private failure: { operation: Operation; error: Error } | undefined
  private pending = 0

  /** The next `operation` fails with `error`, as a Redis that refuses it would. One call only. */
  failNext(operation: Operation, error: Error): void {
    this.failure = { operation, error }
  }

  /** The next `operation` on a key that `matches` waits for `release()`. One call only. */
  holdNext(operation: Operation, matches: (key: KeyPart[]) => boolean = () => true): Hold {
    let reach: () => void = () => undefined
    let release: () => void = () => undefined
    const reached = new Promise<void>((resolve) => (reach = resolve))
    const released = new Promise<void>((resolve) => (release = resolve))
    this.gate = { operation, matches, reach, released }
    return { reached, release }
  }

  /** Resolves once no call is in progress: whatever a request left running has finished. */
  override async settled(): Promise<void> {
    do await new Promise((resolve) => setImmediate(resolve))
    while (this.pending > 0)
    await super.settled()
  }

  override get(key: Key): Promise<unknown> {
    return this.through('get', key, () => super.get(key))
  }

  override putIf(key: Key, value: unknown, options: PutIfOptions): Promise<boolean> {
    return this.through('putIf', key, () => super.putIf(key, value, options))
  }

  override putMany(entries: Iterable<CacheEntry<unknown>>, options?: PutOptions): Promise<void> {
    const list = [...entries]
    return this.through('putMany', list[0]?.key ?? [], () => super.putMany(list, options))
  }

  private async through<T>(operation: Operation, key: Key, run: () => Promise<T>): Promise<T> {
    this.pending++
    try {
      const failure = this.failure
      if (failure?.operation === operation) {
        this.failure = undefined
        throw failure.error
      }
      const gate = this.gate
      if (gate?.operation === operation && gate.matches(Array.isArray(key) ? [...(key as readonly KeyPart[])] : [key as KeyPart])) {
        this.gate = undefined
        gate.reach()
        await gate.released
      }
      return await run()
    } finally {
      this.pending--
    }
  }
}
