/**
 * Where records live in Redis: pure naming, no I/O.
 *
 * A record `[namespace, ...key]` is encoded part by part (see key-codec.ts) into segments
 * joined by `:`. Its value key wraps the first `tagDepth` segments in a Redis Cluster hash tag:
 * `{ns:user:42}:session:abc`. For every proper prefix of the record there is an index, a
 * sorted set named `_index:<prefix>` whose member is the rest of the key and whose score is the
 * record's expiry time in ms.
 *
 * An index at least `tagDepth` deep shares the record's tag, so a record and its deep indexes sit
 * in one cluster slot. A shallower index would gather every record below it into one hot slot,
 * so it is split into buckets by a hash of the member, each bucket a slot of its own:
 * `_index:{ns#3}`.
 */
import type { KeyPart } from './key'
import { encodeParts } from './key-codec'

export interface LayoutOptions {
  namespace: string
  tagDepth: number
  shallowIndexBuckets: number
}

export interface IndexEntry {
  indexKey: string
  member: string
  /** True when the index shares the record's hash tag (and so its cluster slot). */
  deep: boolean
}

export const INDEX_PREFIX = '_index:'

export class RedisLayout {
  private readonly namespaceSegment: string

  constructor(private readonly options: LayoutOptions) {
    this.namespaceSegment = encodeParts([options.namespace])[0] as string
  }

  /** The encoded segments of `[namespace, ...parts]`. */
  path(parts: readonly KeyPart[]): string[] {
    return [this.namespaceSegment, ...encodeParts(parts)]
  }

  valueKey(path: readonly string[]): string {
    return this.tagged(path)
  }

  /** One entry for each proper prefix of the record's path at least `indexFrom` segments long. */
  indexEntries(path: readonly string[], indexFrom = 1): IndexEntry[] {
    const entries: IndexEntry[] = []
    for (let length = Math.max(1, indexFrom); length < path.length; length++) {
      const member = path.slice(length).join(':')
      entries.push({ indexKey: this.indexKey(path.slice(0, length), member), member, deep: this.isDeep(length) })
    }
    return entries
  }

  /**
   * A function from an index member under `prefix` to its record's value key. Under a deep
   * prefix that is one concatenation, which matters when listing many records.
   */
  valueKeyUnder(prefix: readonly string[]): (member: string) => string {
    if (!this.isDeep(prefix.length)) return (member) => this.tagged([...prefix, ...member.split(':')])
    const head = `${this.tagged(prefix)}:`
    return (member) => head + member
  }

  /** Every index key that holds members under a prefix path: one, or each bucket of a shallow index. */
  indexKeysOf(prefix: readonly string[]): string[] {
    if (this.isDeep(prefix.length)) return [INDEX_PREFIX + this.tagged(prefix)]
    return Array.from({ length: this.options.shallowIndexBuckets }, (_, bucket) => this.bucketKey(prefix, bucket))
  }

  private indexKey(prefix: readonly string[], member: string): string {
    if (this.isDeep(prefix.length)) return INDEX_PREFIX + this.tagged(prefix)
    return this.bucketKey(prefix, fnv1a(member) % this.options.shallowIndexBuckets)
  }

  private bucketKey(prefix: readonly string[], bucket: number): string {
    return `${INDEX_PREFIX}{${prefix.join(':')}#${bucket}}`
  }

  private isDeep(prefixLength: number): boolean {
    return prefixLength >= this.options.tagDepth
  }

  private tagged(path: readonly string[]): string {
    const depth = Math.min(this.options.tagDepth, path.length)
    const tag = `{${path.slice(0, depth).join(':')}}`
    return depth < path.length ? `${tag}:${path.slice(depth).join(':')}` : tag
  }
}

/** 32-bit FNV-1a: a fast, stable spread of members over buckets. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
