/**
 * Where records live in Redis: pure naming, no I/O.
 *
 * Every key starts with the namespace as written (`myapp:`), so one glob (`myapp:*`) matches all
 * of a cache's keys, in `redis-cli --scan` and in ACL key patterns. The key's parts follow as
 * segments (see key-codec.ts) joined by `:`.
 *
 * Slots. The first `tagDepth` parts of a key choose its Redis Cluster hash tag: the parts before
 * the last of them, then a bucket number, a hash of that last part (`{.user#17}`). Records that
 * share their first `tagDepth` parts share a bucket, so one script can write them together;
 * records that differ there spread over `buckets` slots instead of crowding into one.
 *
 *   value key    myapp:{.user#17}:.ada:.session:.a1b2   (the key ['user', 'ada', 'session', 'a1b2'])
 *   its index    myapp:_i:{.user#17}                      member `.ada:.session:.a1b2`, score: expiry (ms)
 *
 * Each record has exactly one index entry, in the index of its own bucket (its home): a sorted
 * set in the record's slot, so a write changes a record and its index entry in one atomic script,
 * on a single server and on Cluster alike. A listing reads the homes its match can reach: one
 * bucket when the match fixes the first `tagDepth` parts, every bucket of the prefix when it fixes
 * one part fewer. A key shorter than `tagDepth` takes its own length as its depth.
 */
import { UsageError } from '../errors'
import { ANY, type KeyPart, type MatchPart } from './key'
import { encodePart, encodeParts } from './key-codec'

export interface LayoutOptions {
  namespace: string
  tagDepth: number
  buckets: number
}

/** Where one record is: its value key, and its entry in its home index. */
export interface RecordPlace {
  valueKey: string
  indexKey: string
  member: string
}

/** One home index a listing reads, with what turns its members into value keys. */
export interface IndexToRead {
  indexKey: string
  /** Only members starting with this (the match's literal parts below the bucket, each followed by `:`). */
  memberPrefix: string
  /** A member's value key is this followed by the member. */
  valueKeyPrefix: string
}

const INDEX_MARK = '_i'
/** Beside each home index, in its slot: the entries an expiry sweep claimed and has not acknowledged yet. */
const CLAIMS_MARK = '_c'

export class RedisLayout {
  private readonly head: string

  constructor(private readonly options: LayoutOptions) {
    this.head = `${options.namespace}:`
  }

  /** The glob that matches every key of this namespace (for `SCAN MATCH` and ACL key patterns). */
  /** How many leading parts of a key choose its slot. */
  get tagDepth(): number {
    return this.options.tagDepth
  }

  get keyPattern(): string {
    return `${this.head}*`
  }

  place(parts: readonly KeyPart[]): RecordPlace {
    const segments = encodeParts(parts)
    const depth = Math.min(this.options.tagDepth, segments.length)
    const tag = this.tag(segments.slice(0, depth - 1), segments[depth - 1] as string)
    const member = segments.slice(depth - 1).join(':')
    return { valueKey: `${this.head}${tag}:${member}`, indexKey: `${this.head}${INDEX_MARK}:${tag}`, member }
  }

  /**
   * The home indexes that can hold the keys a match finds (a match finds keys of its own length,
   * see key.ts). The match must fix the parts before the bucket: with `tagDepth` 2, `['user',
   * ANY]` reads every bucket of `user`, `['user', 'ada', ANY]` one bucket, `[ANY, 'x']` nothing
   * it could name, so it is refused.
   */
  indexesFor(match: readonly MatchPart[], operation: string): IndexToRead[] {
    const depth = Math.min(this.options.tagDepth, match.length)
    const literal = match.findIndex((part) => typeof part === 'symbol')
    const fixed = literal === -1 ? match.length : literal
    if (fixed < depth - 1) {
      throw new UsageError(
        `cache.${operation}(): with tagDepth ${this.options.tagDepth}, a match of ${match.length} parts must fix its first ${depth - 1} (it fixes ${fixed}): only they name the indexes to read`,
      )
    }
    const above = encodeParts(match.slice(0, depth - 1) as KeyPart[])
    const below = match
      .slice(depth - 1, fixed)
      .map((part) => `${encodePart(part as KeyPart)}:`)
      .join('')
    const buckets = fixed >= depth ? [this.bucketOf(encodePart(match[depth - 1] as KeyPart))] : this.allBuckets()
    return buckets.map((bucket) => {
      const tag = `{${above.join(':')}#${bucket}}`
      return { indexKey: `${this.head}${INDEX_MARK}:${tag}`, memberPrefix: below, valueKeyPrefix: `${this.head}${tag}:` }
    })
  }

  /**
   * The home indexes that hold every record whose key extends `prefix`, whatever its length.
   * Only a prefix of at least `tagDepth - 1` parts names them all: the records under a shorter
   * one sit in indexes tagged with parts it does not fix, so it is refused.
   */
  indexesUnder(prefix: readonly KeyPart[], operation: string): IndexToRead[] {
    if (prefix.length < this.options.tagDepth - 1) {
      throw new UsageError(
        `cache.${operation}(): with tagDepth ${this.options.tagDepth}, a prefix must have at least ${this.options.tagDepth - 1} parts (it has ${prefix.length}): only they name the indexes to read`,
      )
    }
    return this.indexesFor([...prefix, ANY], operation)
  }

  /** The claims of an index (see `claimExpired`): same tag, so same slot. */
  claimsKey(indexKey: string): string {
    return `${this.head}${CLAIMS_MARK}${indexKey.slice(this.head.length + INDEX_MARK.length)}`
  }

  private tag(above: readonly string[], bucketSegment: string): string {
    return `{${above.join(':')}#${this.bucketOf(bucketSegment)}}`
  }

  private bucketOf(segment: string): number {
    return fnv1a(segment) % this.options.buckets
  }

  private allBuckets(): number[] {
    return Array.from({ length: this.options.buckets }, (_, bucket) => bucket)
  }
}

/** 32-bit FNV-1a: a fast, stable spread of segments over buckets. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
