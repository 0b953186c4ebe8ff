/**
 * Where a read key's value lives in Redis, worked out once per frozen key. A frozen array never
 * changes, so its checked parts and its Redis key stay what they were: the token middleware reads
 * one such array on every request of a token, and skips encoding its parts each time. No I/O.
 */
import type { Key, KeyPart } from './key'
import { normalizeKey } from './key-codec'
import type { RedisLayout } from './redis-layout'

export interface ReadPlace {
  /** The key's parts, checked (`normalizeKey`); shared by every read of a frozen key, so frozen too. */
  readonly parts: readonly KeyPart[]
  readonly valueKey: string
}

export class ReadPlaces {
  private readonly frozen = new WeakMap<readonly KeyPart[], ReadPlace>()

  constructor(private readonly layout: RedisLayout) {}

  /** Where `key` lives; throws a `MALFORMED_KEY` error for a malformed one, as every read does. */
  of(key: Key, operation: string): ReadPlace {
    if (!Array.isArray(key) || !Object.isFrozen(key)) return this.place(key, operation)
    const frozenKey = key as readonly KeyPart[]
    let place = this.frozen.get(frozenKey)
    if (place === undefined) this.frozen.set(frozenKey, (place = Object.freeze(this.place(frozenKey, operation))))
    return place
  }

  private place(key: Key, operation: string): ReadPlace {
    const parts = normalizeKey(key, operation)
    return { parts: Object.freeze(parts), valueKey: this.layout.place(parts).valueKey }
  }
}
