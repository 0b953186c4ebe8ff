/**
 * The near-cache's memory: a bounded map of Redis value keys to their stored text, kept in step
 * with Redis by invalidation messages (RESP3 `CLIENT TRACKING`, see tracking-client.ts). No I/O.
 *
 * Two rules keep it from serving stale data:
 * - An entry expires by its own clock (the record's PTTL when read), because Redis sends the
 *   invalidation for an expired key only when it gets round to deleting it.
 * - A read that an invalidation overtakes is not stored: node-redis can deliver the invalidation
 *   of a key before the code awaiting that key's older reply runs, so each read in flight notes
 *   the invalidations it missed, and `finish` drops what it read.
 */

import { RecentMap } from '../shared/recent-map'
import type { TimedValue } from './cache'

/** One copy. */
export interface NearCacheEntry {
  readonly text: string
  /** On the `performance.now()` clock. */
  readonly expiresAt: number
  /**
   * The text decoded once, with its expiry, deeply frozen, for the readers that share it
   * (shared-read.ts); set by the first of them. An entry is never changed in place: new text is
   * a new entry.
   */
  shared?: Readonly<TimedValue<unknown>>
}

export interface NearCacheStats {
  hits: number
  misses: number
  size: number
}

/** A read in flight; `finish` stores what it read unless an invalidation came first. */
export interface NearCacheRead {
  finish(text: string, ttlMs: number): void
  abandon(): void
}

export class NearCacheMap {
  /** The copies, least recently used first: beyond `maxEntries` that one goes. */
  private readonly entries: RecentMap<string, NearCacheEntry>
  /** Reads in flight, per key: flagged when an invalidation overtakes them. */
  private readonly reads = new Map<string, Set<{ overtaken: boolean }>>()
  private hits = 0
  private misses = 0

  constructor(
    maxEntries: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.entries = new RecentMap(maxEntries)
  }

  /** The stored text of a live entry, refreshed as most recently used; undefined on a miss. */
  lookup(name: string): string | undefined {
    return this.lookupEntry(name)?.text
  }

  /** `lookup`, giving the entry itself. */
  lookupEntry(name: string): NearCacheEntry | undefined {
    const entry = this.entries.get(name)
    if (entry === undefined || entry.expiresAt <= this.now()) {
      if (entry) this.entries.delete(name)
      this.misses++
      return undefined
    }
    this.hits++
    return entry
  }

  /**
   * What was decoded from a live entry (`shared`), counted as a hit and refreshed as most
   * recently used; `undefined`, not counted, when there is no live entry or it has not been
   * decoded yet (the caller then reads it with `lookupEntry`, which counts and refreshes it).
   */
  lookupShared(name: string): Readonly<TimedValue<unknown>> | undefined {
    const entry = this.entries.get(name)
    if (entry === undefined || entry.shared === undefined || entry.expiresAt <= this.now()) return undefined
    this.hits++
    return entry.shared
  }

  /** The stored text of a live entry, without counting it or refreshing it. */
  peek(name: string): string | undefined {
    return this.peekEntry(name)?.text
  }

  /** `peek`, giving the entry itself. */
  peekEntry(name: string): NearCacheEntry | undefined {
    const entry = this.entries.peek(name)
    return entry === undefined || entry.expiresAt <= this.now() ? undefined : entry
  }

  beginRead(name: string): NearCacheRead {
    const read = { overtaken: false }
    let pending = this.reads.get(name)
    if (!pending) this.reads.set(name, (pending = new Set()))
    pending.add(read)
    const end = () => {
      pending.delete(read)
      if (pending.size === 0 && this.reads.get(name) === pending) this.reads.delete(name)
    }
    return {
      finish: (text, ttlMs) => {
        end()
        if (!read.overtaken && ttlMs > 0) this.store(name, text, ttlMs)
      },
      abandon: end,
    }
  }

  /** Forgets one key (a write by anyone), or everything (`null`: a flush, or a lost connection). */
  invalidate(name: string | null): void {
    if (name === null) {
      this.entries.clear()
      for (const pending of this.reads.values()) for (const read of pending) read.overtaken = true
      return
    }
    this.entries.delete(name)
    const pending = this.reads.get(name)
    if (pending) for (const read of pending) read.overtaken = true
  }

  stats(): NearCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.entries.size }
  }

  private store(name: string, text: string, ttlMs: number): void {
    this.entries.set(name, { text, expiresAt: this.now() + ttlMs })
  }
}
